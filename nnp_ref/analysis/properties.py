r"""Physical properties of a crystal from any ASE calculator: validate a potential by physics.

A low test RMSE is not a good potential (J. Behler, Int. J. Quantum Chem.
115, 1032 (2015), sec. 5; Tokita and Behler, J. Chem. Phys. 159, 121501
(2023)): compare properties the training never saw directly with those of
the reference method. Each function takes an ASE calculator (the NNP's
``NNPCalculator`` or the reference, e.g. EMT) and an fcc element; nothing is
relaxed unless said (unrelaxed quantities compare like with like).

==========================  ====================================================
function                    property, formula
==========================  ====================================================
:func:`energy_volume`       E(V) per atom, Birch-Murnaghan fit (``ase.eos``):
                            V_0, E_0, bulk modulus B = V d^2E/dV^2 at V_0
:func:`elastic_constants`   cubic C11, C12, C44 = d sigma / d eps by central
                            differences of the stress (strain +-delta);
                            B = (C11 + 2 C12) / 3
:func:`vacancy_energy`      E_f = E(N - 1) - (N - 1)/N E(N)
:func:`surface_energy`      gamma = [E_slab - N e_bulk] / (2 A)
:func:`phonon_bands`        hbar omega(q) along a path (``ase.phonons``)
==========================  ====================================================

Sign conventions are ASE's: stress sigma = (1/V) dE/d eps (positive under
tension). Units: eV, Å inside; GPa, meV and J/m^2 only in the returned
``*_GPa``, ``*_meV``, ``*_J_m2`` values.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass

import numpy as np
from ase import Atoms, units
from ase.build import bulk, fcc100, fcc110, fcc111

EV_PER_A2_TO_J_PER_M2 = units._e * 1e20  # 1 eV/Å^2 in J/m^2


def _attach(atoms: Atoms, calc) -> Atoms:
    atoms.calc = calc
    return atoms


def _energy(atoms: Atoms, calc) -> float:
    return float(_attach(atoms, calc).get_potential_energy())


@dataclass
class EquationOfState:
    """E(V) of the primitive fcc cell and its Birch-Murnaghan fit.

    ``V_v`` (Å^3/atom), ``E_v`` (eV/atom); ``V0``, ``E0``, ``B_GPa``; ``a0``
    the cubic lattice constant (4 V0)^(1/3).
    """

    V_v: np.ndarray
    E_v: np.ndarray
    V0: float
    E0: float
    B_GPa: float

    @property
    def a0(self) -> float:
        return float((4.0 * self.V0) ** (1.0 / 3.0))


def energy_volume(calc, symbol: str = "Cu", a: float = 3.61, strains=None) -> EquationOfState:
    """E(V) of the primitive fcc cell scaled by (1 + s), s in ``strains`` (default +-4 %, 9 points).

    Fit: ``ase.eos.EquationOfState(..., eos="birchmurnaghan")``; B = V E''(V_0).
    """
    from ase.eos import EquationOfState as Fit

    strains = np.linspace(-0.04, 0.04, 9) if strains is None else np.asarray(strains)
    V_v, E_v = [], []
    for s in strains:
        atoms = bulk(symbol, "fcc", a=a * (1.0 + s))
        V_v.append(atoms.get_volume())
        E_v.append(_energy(atoms, calc))
    V_v, E_v = np.array(V_v), np.array(E_v)
    V0, E0, B = Fit(V_v, E_v, eos="birchmurnaghan").fit()
    return EquationOfState(V_v, E_v, float(V0), float(E0), float(B / units.GPa))


def _stress(atoms: Atoms, calc, eps_cc) -> np.ndarray:
    strained = atoms.copy()
    deformation = np.eye(3) + eps_cc
    strained.set_cell(atoms.cell.array @ deformation, scale_atoms=True)
    return _attach(strained, calc).get_stress(voigt=False)


def elastic_constants(calc, symbol: str = "Cu", a: float = 3.61, delta: float = 5e-3) -> dict:
    r"""Cubic elastic constants (GPa) at lattice constant ``a`` by central stress differences.

    With sigma = (1/V) dE/d eps (ASE) and Voigt notation:
        C11 = d sigma_xx / d eps_xx,  C12 = d sigma_yy / d eps_xx,
        C44 = d sigma_yz / d gamma_yz, gamma_yz = 2 eps_yz (engineering shear).
    The cubic cell (4 atoms) has no internal relaxation for fcc (every atom
    is a centre of inversion), so the clamped-ion constants are the relaxed ones.
    Also returns B = (C11 + 2 C12)/3 and the Cauchy pressure C12 - C44
    (zero for central pair potentials at zero stress, positive for metals).
    """
    atoms = bulk(symbol, "fcc", a=a, cubic=True)

    def derivative(a_, b_):
        eps = np.zeros((3, 3))
        eps[a_, b_] = eps[b_, a_] = delta
        return (_stress(atoms, calc, eps) - _stress(atoms, calc, -eps)) / (2.0 * delta)

    dsigma_dexx = derivative(0, 0)
    dsigma_deyz = derivative(1, 2)  # symmetric strain: eps_yz = eps_zy = delta, gamma = 2 delta
    C11 = dsigma_dexx[0, 0] / units.GPa
    C12 = dsigma_dexx[1, 1] / units.GPa
    C44 = 0.5 * dsigma_deyz[1, 2] / units.GPa
    return {
        "C11_GPa": float(C11),
        "C12_GPa": float(C12),
        "C44_GPa": float(C44),
        "B_GPa": float((C11 + 2.0 * C12) / 3.0),
        "cauchy_pressure_GPa": float(C12 - C44),
    }


def _relax(atoms: Atoms, steps: int, fmax: float = 0.01) -> None:
    if steps > 0:
        from ase.optimize import BFGS

        BFGS(atoms, logfile=None).run(fmax=fmax, steps=steps)


def vacancy_energy(
    calc, symbol: str = "Cu", a: float = 3.61, repeat: int = 3, relax_steps: int = 0
) -> float:
    """Vacancy formation energy (eV): E_f = E(N - 1) - (N - 1)/N E(N), cubic cell ``repeat``^3.

    ``relax_steps`` > 0 relaxes the positions around the vacancy (BFGS, fmax 0.01 eV/Å).
    """
    crystal = bulk(symbol, "fcc", a=a, cubic=True).repeat(repeat)
    n = len(crystal)
    E_bulk = _energy(crystal, calc)
    vacancy = crystal.copy()
    del vacancy[0]
    _attach(vacancy, calc)
    _relax(vacancy, relax_steps)
    return float(vacancy.get_potential_energy() - (n - 1) / n * E_bulk)


SURFACES = {(1, 0, 0): fcc100, (1, 1, 0): fcc110, (1, 1, 1): fcc111}


def surface_energy(
    calc,
    symbol: str = "Cu",
    a: float = 3.61,
    miller=(1, 1, 1),
    layers: int = 6,
    vacuum: float = 8.0,
    relax_steps: int = 0,
) -> float:
    """Surface energy (J/m^2): gamma = [E_slab - N e_bulk] / (2 A), both faces alike.

    Slab: ``ase.build.fcc111``/``fcc100``/``fcc110`` with a (1 x 1) cell per
    layer, ``layers`` layers, ``vacuum`` Å on each side, periodic in z (the
    vacuum separates the images); e_bulk from the primitive cell at the same a.
    """
    build = SURFACES.get(tuple(miller))
    if build is None:
        raise ValueError(f"surface_energy: miller must be one of {sorted(SURFACES)}, got {miller}")
    slab = build(symbol, size=(1, 1, layers), a=a, vacuum=vacuum, periodic=True)
    e_bulk = _energy(bulk(symbol, "fcc", a=a), calc)
    _attach(slab, calc)
    _relax(slab, relax_steps)
    area = np.linalg.norm(np.cross(slab.cell[0], slab.cell[1]))
    gamma = (slab.get_potential_energy() - len(slab) * e_bulk) / (2.0 * area)
    return float(gamma * EV_PER_A2_TO_J_PER_M2)


@dataclass
class PhononBands:
    """hbar omega along a band path: ``x_q`` (path coordinate), ``energies_qb`` (meV),
    ``labels`` and ``label_x`` (special points)."""

    x_q: np.ndarray
    energies_qb: np.ndarray
    labels: list
    label_x: np.ndarray


def phonon_bands(
    calc,
    symbol: str = "Cu",
    a: float = 3.61,
    path: str = "GXWKGLUWLK",
    supercell: int = 4,
    npoints: int = 80,
    delta: float = 0.01,
) -> PhononBands:
    """Phonon band structure of the primitive fcc cell by finite displacements (``ase.phonons``).

    Force constants from +-``delta`` Å displacements in a ``supercell``^3
    supercell (acoustic sum rule imposed); ASE's cache goes to a temporary
    folder that is removed afterwards.
    """
    from ase.phonons import Phonons

    atoms = bulk(symbol, "fcc", a=a)
    with tempfile.TemporaryDirectory(prefix="nnp_ref_phonons_") as folder:
        ph = Phonons(atoms, calc, supercell=(supercell,) * 3, delta=delta, name=f"{folder}/ph")
        ph.run()
        ph.read(acoustic=True)
        bandpath = atoms.cell.bandpath(path, npoints=npoints)
        structure = ph.get_band_structure(bandpath, verbose=False)  # no q = 0 "imaginary" notes
    x_q, label_x, labels = bandpath.get_linear_kpoint_axis()
    return PhononBands(
        np.asarray(x_q), 1e3 * structure.energies[0], list(labels), np.asarray(label_x)
    )


def compare_properties(calculators: dict, symbol: str = "Cu", a: float = 3.61) -> dict:
    """{name: {property: value}} for every calculator: a0, E0, B from E(V), C11, C12, C44,
    vacancy and (111)/(100) surface energies, all at each calculator's own a0."""
    table = {}
    for name, calc in calculators.items():
        eos = energy_volume(calc, symbol, a)
        a0 = eos.a0
        row = {"a0_A": a0, "E0_eV_per_atom": eos.E0, "B_eos_GPa": eos.B_GPa}
        row.update(elastic_constants(calc, symbol, a0))
        row["E_vacancy_eV"] = vacancy_energy(calc, symbol, a0)
        row["gamma_111_J_m2"] = surface_energy(calc, symbol, a0, (1, 1, 1))
        row["gamma_100_J_m2"] = surface_energy(calc, symbol, a0, (1, 0, 0))
        table[name] = row
    return table


def properties_table(table: dict, reference: str | None = None) -> str:
    """Plain-text table of :func:`compare_properties` and the deviation from ``reference``."""
    names = list(table)
    reference = reference or names[-1]
    keys = list(table[names[0]])
    rows = [f"{'property':20s}" + "".join(f"{n:>14s}" for n in names) + "   difference"]
    for key in keys:
        values = [table[n][key] for n in names]
        ref = table[reference][key]
        others = [v for n, v in zip(names, values, strict=True) if n != reference]
        diff = others[0] - ref if others else float("nan")
        dev = f"({100 * diff / abs(ref):+.1f} %)" if ref != 0 else ""
        rows.append(
            f"{key:20s}" + "".join(f"{v:14.4g}" for v in values) + f"   {diff:+10.3g} {dev}"
        )
    return "\n".join(rows)


__all__ = [
    "EquationOfState",
    "PhononBands",
    "compare_properties",
    "elastic_constants",
    "energy_volume",
    "phonon_bands",
    "properties_table",
    "surface_energy",
    "vacancy_energy",
]
