r"""Exercises 6-7: forces from dE/dG and dG/dR, and the stress virial.

The problem: an untrained copper potential (random network,
``lectures.random_copper_potential``) on a rattled periodic 8-atom cell.
nnp_ref supplies the pieces as plain arrays (sparse derivatives, see
``nnp_ref.descriptors.symmetry_functions``):

    dEdG_ns     (n, s)     dE_i/dG_is from the networks
    dGdR_psc    (p, s, 3)  dG_{i_p s}/dR_{j_p} for every neighbour pair p = (i_p, j_p)
    dGself_nsc  (n, s, 3)  dG_is/dR_i (the self term)
    i_p, j_p    (p,)       the two atoms of each pair (periodic images are separate pairs)
    D_pc        (p, 3)     pair vectors D_p = R_{j_p} - R_{i_p} + S_p @ cell

The trusted answers are central finite differences of the energy:
F = -dE/dR and sigma = (1/V) dE/d eps for R -> R (1 + eps) (ASE's sign).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from nnp_ref.checks import central_difference
from nnp_ref.course.grading import Exercise


@lru_cache(maxsize=1)
def problem() -> dict:
    """The arrays of the force and stress exercises (computed once), plus the structure."""
    from ase.build import bulk

    from nnp_ref.course.lectures import random_copper_potential
    from nnp_ref.model.potential import evaluate

    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat((1, 1, 2))
    atoms.rattle(0.12, seed=7)
    atoms.set_cell(atoms.cell.array @ (np.eye(3) + [[0.02, 0.01, 0], [0, -0.01, 0], [0, 0, 0.03]]))
    potential, atoms = random_copper_potential(seed=7, structure=atoms)
    symbols = atoms.get_chemical_symbols()
    # derivative checks: G a hair outside the scaling range of this very cell is fine ("off")
    result = evaluate(
        potential, symbols, atoms.positions, atoms.cell.array, (True,) * 3, True, True, "off"
    )
    desc = result.descriptors
    return {
        "potential": potential,
        "atoms": atoms,
        "dEdG_ns": result.dEdG_ns,
        "dGdR_psc": desc.dGdR_psc,
        "dGself_nsc": desc.dGself_nsc,
        "i_p": desc.nl.i_p,
        "j_p": desc.nl.j_p,
        "D_pc": desc.nl.D_pc,
        "volume": atoms.get_volume(),
    }


def _energy(R_nc, cell_cc):
    from nnp_ref.model.potential import evaluate

    p = problem()
    symbols = p["atoms"].get_chemical_symbols()
    return evaluate(p["potential"], symbols, R_nc, cell_cc, (True,) * 3, False, False, "off").energy


# ---------------------------------------------------------------------------
# 6. Force assembly
# ---------------------------------------------------------------------------


def assemble_forces(dEdG_ns, dGdR_psc, dGself_nsc, i_p, j_p):
    r"""F_k = -sum_i sum_s dE_i/dG_is dG_is/dR_k, from the sparse derivatives (n, 3).

    Two kinds of terms: the self term k = i (every atom moves its own
    functions) and one term per pair p = (i, j): G_i depends on R_j, so
    the pair scatters onto atom j with atom i's dE/dG.
    """
    F_nc = -np.einsum("is,isc->ic", dEdG_ns, dGself_nsc)  # self terms
    for p in range(len(i_p)):
        i, j = i_p[p], j_p[p]
        F_nc[j] -= dEdG_ns[i] @ dGdR_psc[p]  # (s,) @ (s, 3): pair p moves G_i via R_j
    return F_nc


def _forces_variant(dEdG_ns, dGdR_psc, dGself_nsc, i_p, j_p, *, self_term=True, pairs=True,
                    onto="j", weight_of="i"):  # fmt: skip
    """assemble_forces with one rule changed (for the mistakes)."""
    F_nc = np.zeros((len(dEdG_ns), 3))
    if self_term:
        F_nc -= np.einsum("is,isc->ic", dEdG_ns, dGself_nsc)
    if pairs:
        for p in range(len(i_p)):
            i, j = i_p[p], j_p[p]
            target = j if onto == "j" else i
            source = i if weight_of == "i" else j
            F_nc[target] -= dEdG_ns[source] @ dGdR_psc[p]
    return F_nc


def _fv(**flags):
    def wrong(dEdG_ns, dGdR_psc, dGself_nsc, i_p, j_p):
        return _forces_variant(dEdG_ns, dGdR_psc, dGself_nsc, i_p, j_p, **flags)

    return wrong


def _run_forces(fn):
    p = problem()
    args = [p[k].copy() for k in ("dEdG_ns", "dGdR_psc", "dGself_nsc", "i_p", "j_p")]
    return (fn(*args),)


def _expected_forces():
    p = problem()
    cell = p["atoms"].cell.array
    return (-central_difference(lambda R: _energy(R, cell), p["atoms"].positions, 1e-5),)


FORCES_EXERCISE = Exercise(
    name="forces",
    title="forces from dE/dG and dG/dR",
    parts=("F_kc",),
    run=_run_forces,
    expected=_expected_forces,
    solution=assemble_forces,
    mistakes={
        "the sign is flipped: forces are MINUS the gradient, F = -dE/dR": (
            lambda *a: -assemble_forces(*a)
        ),
        "the self term (k = i, dGself_nsc) is missing": _fv(self_term=False),
        "the pair terms are missing: G_i also changes when a neighbour j moves": _fv(pairs=False),
        "pair p = (i, j) holds dG_i/dR_j: it belongs to atom j = j_p[p], not i": _fv(onto="i"),
        "pair p = (i, j) is a derivative of G_i: weight it with dE/dG of atom i = i_p[p], "
        "not j": _fv(weight_of="j"),
    },
    rtol=1e-6,
    notebook="e6_force_assembly.ipynb",
)

# ---------------------------------------------------------------------------
# 7. The stress virial
# ---------------------------------------------------------------------------


def virial_stress(dEdG_ns, dGdR_psc, i_p, D_pc, volume):
    r"""sigma_ab = (1/V) dE/d eps_ab = (1/V) sum_p D_pa dE/dD_pb (3, 3), ASE's sign.

    G_i depends on the positions only through its pair vectors D_p; a
    homogeneous strain maps every D_p to D_p (1 + eps), so
    dD_pb/d eps_ab = D_pa and, by the chain rule,
        dE/d eps_ab = sum_p D_pa dE/dD_pb,  dE/dD_pb = sum_s dE/dG_{i_p s} dGdR_psb.
    Each pair counts once (it belongs to G of atom i_p only: no factor 1/2).
    """
    dEdD_pc = np.einsum("ps,psc->pc", dEdG_ns[i_p], dGdR_psc)  # (p, 3) dE/dD_p
    return D_pc.T @ dEdD_pc / volume  # sum_p D_pa dE/dD_pb


def _run_virial(fn):
    p = problem()
    args = [p[k].copy() for k in ("dEdG_ns", "dGdR_psc", "i_p", "D_pc")]
    return (fn(*args, float(p["volume"])),)


def _expected_virial():
    p = problem()
    R_nc, cell_cc = p["atoms"].positions, p["atoms"].cell.array

    def energy_of_strain(eps_cc):
        deformation = np.eye(3) + eps_cc
        return _energy(R_nc @ deformation, cell_cc @ deformation)

    return (central_difference(energy_of_strain, np.zeros((3, 3)), 1e-5) / p["volume"],)


def _virial_j(dEdG_ns, dGdR_psc, i_p, D_pc, volume):
    """The mistake of weighting pair p with dE/dG of the wrong atom (needs j_p)."""
    j_p = problem()["j_p"]
    dEdD_pc = np.einsum("ps,psc->pc", dEdG_ns[j_p], dGdR_psc)
    return D_pc.T @ dEdD_pc / volume


VIRIAL_EXERCISE = Exercise(
    name="virial",
    title="the stress tensor from the pair virial",
    parts=("sigma_ab",),
    run=_run_virial,
    expected=_expected_virial,
    solution=virial_stress,
    mistakes={
        "the sign is flipped: ASE's stress is +(1/V) dE/d eps (positive = the cell wants to "
        "shrink)": lambda *a: -virial_stress(*a),
        "the 1/V is missing: dE/d eps is an energy, the stress an energy per volume": (
            lambda *a: virial_stress(*a) * a[-1]
        ),
        "a factor 1/2 too many: unlike a pair potential, each pair p enters only G of atom "
        "i_p, so it counts once": lambda *a: 0.5 * virial_stress(*a),
        "pair p is a derivative of G_i: weight it with dE/dG of atom i = i_p[p]": _virial_j,
    },
    rtol=1e-6,
    notebook="e7_stress_virial.ipynb",
)

__all__ = ["FORCES_EXERCISE", "VIRIAL_EXERCISE", "assemble_forces", "problem", "virial_stress"]
