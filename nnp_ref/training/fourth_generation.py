r"""Training a 4G-HDNNP in two stages, as n2p2 does, with hand-written gradients.

Ko et al., Nat. Commun. 12, 398 (2021); n2p2 ``nnp-train`` with
``nnp_generation 4`` (stage 1: charges, stage 2: short range). Positions are
fixed in training, so the descriptors G, the Coulomb matrix C and the
screening matrix S of every structure are computed once (:func:`prepare`).

Stage 1, electronegativity networks and hardnesses on reference charges:

    L_Q = (1/N) sum_s sum_i (Q_si - Q^ref_si)^2,      N = number of atoms.

Q depends on the weights w only through chi (and on the hardness J through
H = C + diag(J)); with the adjoint mu of g = dL_Q/dQ (``electrostatics.adjoint``:
H mu + nu 1 = -g, sum mu = 0), differentiating H Q + lambda 1 = -chi gives

    dL_Q/dchi_i = mu_i                 dL_Q/dJ_e = sum_{i in e} mu_i Q_i,

then dL_Q/dw = sum_i mu_i dchi_i/dw (reverse mode through each network). The
hardness is trained as J = exp(theta), dL/dtheta = J dL/dJ, which keeps it
positive (n2p2 trains J itself).

Stage 2, short-range networks on energies and forces, the charges fixed by
stage 1 (they do not depend on the short-range weights):

    L = (1/M) sum_s ((E_s - E^ref_s)/n_s)^2 + beta/(3N) sum_si |F_si - F^ref_si|^2.

The energy term is ordinary reverse mode. The forces (``model.fourth_generation``)

    -F = sum_i (dE_i/dG_i + mu_i dchi_i/dG_i) dG_i/dR + dE_elec/dR|_Q + d(mu^T C Q)/dR

depend on w through dE_i/dG_i and through mu = -P g, g_i = dE_i/dQ_i + ((C+S)Q)_i,
P the symmetric constrained inverse (H x + m 1 = r, sum x = 0 gives x = P r).
With D = dL/dF and V_is = sum_k dG_is/dR_k . D_k (``potential.force_adjoint``),

    sum_k D_k . F_k = -sum_is dE_i/dG_is V_is + g^T P h + (w-independent),
    h_i = sum_s dchi_i/dG_is V_is + d/de (C(R + e D) Q)_i,

so with eta = P h, dL/dw = d/dw sum_a dE_a/dX_a . v_a, v_a = [-a V_a, eta_a]:
the network's force-training product (``network.force_training_gradient``)
with the charge input's direction eta.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from nnp_ref.electrostatics import energy as elec
from nnp_ref.electrostatics import qeq
from nnp_ref.electrostatics.adjoint import adjoint_charges
from nnp_ref.model import network as nn
from nnp_ref.model.atomic_energy import (
    atomic_energies,
    dEdG_weight_gradient,
    energy_weight_gradient,
)
from nnp_ref.model.forces import assemble_forces, force_adjoint
from nnp_ref.model.fourth_generation import (
    FourthGenerationPotential,
    electronegativities,
    make_geometry,
    periodicity,
    short_range_energies,
    total_charge_of,
)


@dataclass
class Frame:
    """One training structure with its fixed descriptors and matrices (eV, Å, e)."""

    desc: object
    geo: elec.Geometry
    C_nn: np.ndarray
    S_nn: np.ndarray
    total_charge: float
    Q_ref_n: np.ndarray | None
    E_ref: float | None
    F_ref_nc: np.ndarray | None


def prepare(pot: FourthGenerationPotential, structures, where: str = "training set") -> list[Frame]:
    """Descriptors, C and S of every structure; references from ``atoms`` (charges, energy, forces).

    Reference charges: ``atoms.get_initial_charges()`` (n2p2's atom column 5).
    """
    frames = []
    for k, atoms in enumerate(structures):
        name = f"{where}: structure {k}"
        periodic = periodicity(atoms.cell.array, atoms.pbc)
        cell = atoms.cell.array if periodic else np.zeros((3, 3))
        desc = pot.descriptor.compute(atoms.get_chemical_symbols(), atoms.positions, cell,
                                      np.array([periodic] * 3), with_derivatives=True)  # fmt: skip
        geo = make_geometry(pot, atoms.positions, desc.elem_n, cell, periodic)
        E_ref = F_ref = None
        if atoms.calc is not None:
            E_ref = atoms.get_potential_energy()
            F_ref = atoms.get_forces()
        try:
            total = total_charge_of(atoms)
        except ValueError as err:
            raise ValueError(f"{name}: {err}") from None
        Q_ref = atoms.get_initial_charges()
        frames.append(Frame(desc, geo, elec.coulomb_matrix(geo), elec.screening_matrix(geo),
                            total, Q_ref, E_ref, F_ref))  # fmt: skip
    return frames


# ---------------------------------------------------------------------------
# Parameter vectors
# ---------------------------------------------------------------------------


def chi_parameters(pot: FourthGenerationPotential) -> np.ndarray:
    """[chi networks' flat weights per element..., log J per element]."""
    parts = [nn.to_flat(pot.electronegativity_networks[e]) for e in pot.elements]
    return np.concatenate(parts + [np.log(pot.per_element(pot.hardness))])


def with_chi_parameters(pot: FourthGenerationPotential, w: np.ndarray) -> FourthGenerationPotential:
    """A copy of ``pot`` with the chi networks and hardnesses of :func:`chi_parameters`."""
    nets, start = {}, 0
    for e in pot.elements:
        net = pot.electronegativity_networks[e]
        n = nn.n_parameters(net)
        nets[e] = nn.from_flat(net, w[start : start + n])
        start += n
    hardness = {e: float(np.exp(w[start + k])) for k, e in enumerate(pot.elements)}
    return dataclasses.replace(pot, electronegativity_networks=nets, hardness=hardness)


def short_parameters(pot: FourthGenerationPotential) -> np.ndarray:
    return np.concatenate([nn.to_flat(pot.short_networks[e]) for e in pot.elements])


def with_short_parameters(
    pot: FourthGenerationPotential, w: np.ndarray
) -> FourthGenerationPotential:
    nets, start = {}, 0
    for e in pot.elements:
        net = pot.short_networks[e]
        n = nn.n_parameters(net)
        nets[e] = nn.from_flat(net, w[start : start + n])
        start += n
    return dataclasses.replace(pot, short_networks=nets)


# ---------------------------------------------------------------------------
# Stage 1: charges
# ---------------------------------------------------------------------------


def equilibrated_charges(pot, frame: Frame):
    """(Q, Qeq system, chi) of one frame."""
    chi_n, _ = electronegativities(pot, frame.desc, gradient=False)
    J_n = pot.per_element(pot.hardness)[frame.desc.elem_n]
    system = qeq.factorize(qeq.qeq_matrix(frame.C_nn, J_n))
    return qeq.equilibrate(system, chi_n, frame.total_charge)[0], system, chi_n


def charge_loss(pot: FourthGenerationPotential, frames, gradient: bool = True):
    """(L_Q, dL_Q/d chi_parameters) (module docstring, stage 1)."""
    n_total = sum(len(f.desc.elem_n) for f in frames)
    n_e = len(pot.elements)
    grads = {e: np.zeros(nn.n_parameters(pot.electronegativity_networks[e])) for e in pot.elements}
    dL_dJ_e = np.zeros(n_e)
    loss = 0.0
    for f in frames:
        Q_n, system, _ = equilibrated_charges(pot, f)
        r_n = Q_n - f.Q_ref_n
        loss += r_n @ r_n / n_total
        if not gradient:
            continue
        mu_n = adjoint_charges(system, 2.0 * r_n / n_total)  # dL/dchi
        for e, symbol in enumerate(pot.elements):
            idx = np.flatnonzero(f.desc.elem_n == e)
            if idx.size == 0:
                continue
            net = pot.electronegativity_networks[symbol]
            step = atomic_energies(net, pot.scalings[symbol], f.desc.G_ns[idx, : f.desc.n_s_e[e]],
                                   pot.chi_scale, 0.0, gradient=False)  # fmt: skip
            grads[symbol] += energy_weight_gradient(net, step, mu_n[idx])  # d/dw sum mu chi
            dL_dJ_e[e] += mu_n[idx] @ Q_n[idx]  # H depends on J through its diagonal
    if not gradient:
        return loss, None
    J_e = pot.per_element(pot.hardness)
    return loss, np.concatenate(
        [grads[e] for e in pot.elements] + [dL_dJ_e * J_e]
    )  # d/d log J = J d/dJ


# ---------------------------------------------------------------------------
# Stage 2: short range
# ---------------------------------------------------------------------------


@dataclass
class ShortFrame:
    """A frame with its stage-1 charges and the parts of the forces stage 2 keeps fixed."""

    frame: Frame
    Q_n: np.ndarray
    system: qeq.QeqSystem
    dchidG_ns: np.ndarray
    EQ_n: np.ndarray  # (C + S) Q
    E_elec: float
    F_elec_nc: np.ndarray  # -dE_elec/dR|_Q


def prepare_short(pot: FourthGenerationPotential, frames) -> list[ShortFrame]:
    """Stage-1 charges of every frame and the weight-independent parts of stage 2."""
    out = []
    for f in frames:
        Q_n, system, _ = equilibrated_charges(pot, f)
        _, dchidG_ns = electronegativities(pot, f.desc, gradient=True)
        E_elec = elec.electrostatic_energy(Q_n, f.C_nn, f.S_nn)
        F_elec = -elec.energy_position_gradient(f.geo, Q_n)
        out.append(ShortFrame(f, Q_n, system, dchidG_ns, (f.C_nn + f.S_nn) @ Q_n, E_elec, F_elec))
    return out


def short_forces(pot, sf: ShortFrame, dEdG_ns, dEdQ_n):
    """F = -sum (dE/dG + mu dchi/dG) dG/dR - dE_elec/dR|_Q - d(mu^T C Q)/dR, and mu."""
    desc, nl = sf.frame.desc, sf.frame.desc.nl
    mu_n = adjoint_charges(sf.system, dEdQ_n + sf.EQ_n)
    F_nc = assemble_forces(dEdG_ns + mu_n[:, None] * sf.dchidG_ns, desc.dGdR_psc,
                           desc.dGself_nsc, nl.i_p, nl.j_p)  # fmt: skip
    return F_nc + sf.F_elec_nc - elec.coulomb_bilinear_gradient(sf.frame.geo, mu_n, sf.Q_n), mu_n


def short_loss(pot: FourthGenerationPotential, short_frames, force_weight=1.0, gradient=True):
    """(L, dL/d short_parameters) (module docstring, stage 2); energies in eV, forces eV/Å."""
    n_struct = len(short_frames)
    n_atoms = sum(len(sf.Q_n) for sf in short_frames)
    grads = {e: np.zeros(nn.n_parameters(pot.short_networks[e])) for e in pot.elements}
    loss = 0.0
    for sf in short_frames:
        f = sf.frame
        n = len(sf.Q_n)
        short = short_range_energies(pot, sf.frame.desc, sf.Q_n)
        dE = short.E_n.sum() + sf.E_elec - f.E_ref
        loss += (dE / n) ** 2 / n_struct
        F_nc, _ = short_forces(pot, sf, short.dEdG_ns, short.dEdQ_n)
        dF_nc = F_nc - f.F_ref_nc
        loss += force_weight * np.sum(dF_nc**2) / (3 * n_atoms)
        if not gradient:
            continue
        dL_dE = 2.0 * dE / n**2 / n_struct
        D_nc = 2.0 * force_weight * dF_nc / (3 * n_atoms)  # dL/dF
        nl = f.desc.nl
        V_ns = force_adjoint(D_nc, f.desc.dGdR_psc, f.desc.dGself_nsc, nl.i_p, nl.j_p)
        h_n = np.einsum("ns,ns->n", sf.dchidG_ns, V_ns) + elec.coulomb_directional(
            f.geo, sf.Q_n, D_nc
        )
        eta_n, _ = qeq.constrained_solve(sf.system, h_n, 0.0)  # eta = P h
        for e, symbol, idx, step in short.blocks:
            net = pot.short_networks[symbol]
            n_s = f.desc.n_s_e[e]
            g_energy = energy_weight_gradient(net, step, np.full(idx.size, dL_dE))
            g_force = dEdG_weight_gradient(net, step, -V_ns[idx, :n_s], eta_n[idx, None])
            grads[symbol] += g_energy + g_force
    if not gradient:
        return loss, None
    return loss, np.concatenate([grads[e] for e in pot.elements])


# ---------------------------------------------------------------------------
# Errors and the two training stages
# ---------------------------------------------------------------------------


def errors(pot: FourthGenerationPotential, frames) -> dict:
    """RMSEs of charges (e), energies (eV/atom) and forces (eV/Å) of ``pot`` on ``frames``."""
    dQ, dE, dF = [], [], []
    for sf in prepare_short(pot, frames):
        short = short_range_energies(pot, sf.frame.desc, sf.Q_n)
        F_nc, _ = short_forces(pot, sf, short.dEdG_ns, short.dEdQ_n)
        f = sf.frame
        dQ.append(sf.Q_n - f.Q_ref_n)
        if f.E_ref is not None:
            dE.append((short.E_n.sum() + sf.E_elec - f.E_ref) / len(sf.Q_n))
            dF.append((F_nc - f.F_ref_nc).ravel())
    rms = lambda x: float(np.sqrt(np.mean(np.concatenate(x) ** 2))) if x else float("nan")  # noqa: E731
    return {"rmse_charge": rms(dQ), "rmse_energy": rms([np.atleast_1d(x) for x in dE]),
            "rmse_force": rms(dF)}  # fmt: skip


def _run(loss_and_grad, w0, iterations, label, progress, checkpoint=None):
    """L-BFGS for ``iterations`` steps; progress every 20, ``checkpoint(w)`` likewise."""
    from nnp_ref.training.optimizers import lbfgs

    history = []

    def callback(w, value):
        history.append(float(value))
        if len(history) % 20 == 0 or len(history) == iterations:
            if progress:
                print(
                    f"{label}: iteration {len(history)}/{iterations}, loss {value:.6g}", flush=True
                )
            if checkpoint is not None:
                checkpoint(w)

    result = lbfgs(loss_and_grad, w0, iterations, callback=callback)
    return result.x, history


def _writer(directory, make_potential):
    """checkpoint(w): write the potential of parameters w as n2p2 files into ``directory``."""
    if directory is None:
        return None
    from nnp_ref.io.n2p2.fourth_generation import write_potential_4g

    def checkpoint(w):
        pot = make_potential(w)
        units = {k: pot.metadata[k] for k in ("length_unit", "energy_unit") if k in pot.metadata}
        write_potential_4g(pot, directory, **units)

    return checkpoint


def train_charges(pot, frames, iterations: int = 200, progress: bool = True, checkpoint_dir=None):
    """Stage 1: fit chi networks and hardnesses to the reference charges (L-BFGS).

    Returns (new potential, loss history per iteration). With
    ``checkpoint_dir`` the potential is written there (n2p2 files) every 20
    iterations, so a killed run keeps its progress.
    """

    def loss_and_grad(w):
        return charge_loss(with_chi_parameters(pot, w), frames)

    save = _writer(checkpoint_dir, lambda w: with_chi_parameters(pot, w))
    w, history = _run(loss_and_grad, chi_parameters(pot), iterations, "charges", progress, save)
    return with_chi_parameters(pot, w), history


def train_short_range(
    pot, frames, iterations: int = 200, force_weight=1.0, progress=True, checkpoint_dir=None
):
    """Stage 2: fit the short-range networks to energies and forces (L-BFGS); as stage 1."""
    short_frames = prepare_short(pot, frames)

    def loss_and_grad(w):
        return short_loss(with_short_parameters(pot, w), short_frames, force_weight)

    save = _writer(checkpoint_dir, lambda w: with_short_parameters(pot, w))
    w, history = _run(
        loss_and_grad, short_parameters(pot), iterations, "short range", progress, save
    )
    return with_short_parameters(pot, w), history
