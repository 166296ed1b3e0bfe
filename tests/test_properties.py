"""Physical properties (nnp_ref.analysis.properties) against closed forms and ASE.

Closed forms: a Lennard-Jones crystal whose pair potential is cut between
the first and second neighbour shell (ASE's LennardJones, smooth=False,
energies shifted to 0 at r_c) is a nearest-neighbour central-force model.
With b the energy of one bond at r_0 = 2^(1/6) sigma (the crystal's own
equilibrium) and k = phi''(r_0) = 72 eps / (2^(1/3) sigma^2):

    energy per atom           6 b                     (12 bonds, each shared)
    vacancy, unrelaxed        E_f = -6 b              (12 bonds lost, minus the share of one atom)
    (111) surface, unrelaxed  gamma = -sqrt(3) b / r_0^2 (3 bonds lost per surface atom)
    Cauchy relation           C12 = C44               (central forces, zero stress)
    phonons at X              hbar omega_L = hbar sqrt(8 k/m), omega_T = 2 sqrt(k/m)
"""

import numpy as np
import pytest
from ase import units
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.calculators.lj import LennardJones

from nnp_ref.analysis import properties as P

SIGMA, EPS = 2.3, 0.4
R0 = 2 ** (1 / 6) * SIGMA
A0 = R0 * np.sqrt(2)


@pytest.fixture(scope="module")
def lj():
    return LennardJones(sigma=SIGMA, epsilon=EPS, rc=0.5 * (R0 + A0), smooth=False)


@pytest.fixture(scope="module")
def bond(lj):
    return P._energy(bulk("Cu", "fcc", a=A0), lj) / 6.0


def test_equation_of_state_finds_the_nearest_neighbour_minimum(lj):
    eos = P.energy_volume(lj, "Cu", A0)
    assert eos.a0 == pytest.approx(A0, rel=1e-4)
    C = P.elastic_constants(lj, "Cu", A0)
    assert eos.B_GPa == pytest.approx(C["B_GPa"], rel=0.02)  # B = (C11 + 2 C12)/3


def test_cauchy_relation_for_central_forces(lj):
    C = P.elastic_constants(lj, "Cu", A0)
    assert C["C12_GPa"] == pytest.approx(C["C44_GPa"], rel=2e-3)
    assert C["C11_GPa"] == pytest.approx(2.0 * C["C12_GPa"], rel=2e-3)  # nn fcc: C11 = 2 C12


def test_vacancy_and_surface_energies_count_broken_bonds(lj, bond):
    assert P.vacancy_energy(lj, "Cu", A0, repeat=2) == pytest.approx(-6.0 * bond, rel=1e-10)
    gamma = P.surface_energy(lj, "Cu", A0, (1, 1, 1), layers=4)
    expected = -np.sqrt(3.0) * bond / R0**2 * P.EV_PER_A2_TO_J_PER_M2
    assert gamma == pytest.approx(expected, rel=1e-10)


def test_phonons_at_X(lj):
    bands = P.phonon_bands(lj, "Cu", A0, path="GX", npoints=3, supercell=3)
    k = 72.0 / 2 ** (1 / 3) * EPS / SIGMA**2
    m = bulk("Cu").get_masses()[0]
    hbar = units._hbar * 1e10 / np.sqrt(units._e * units._amu)  # eV per sqrt(eV/Å^2/amu)
    expected = 1e3 * hbar * np.array([2 * np.sqrt(k / m), 2 * np.sqrt(k / m), np.sqrt(8 * k / m)])
    assert bands.energies_qb[-1] == pytest.approx(expected, rel=1e-3)
    assert np.allclose(bands.energies_qb[0], 0.0, atol=1e-3)  # acoustic modes at Gamma
    assert bands.labels == ["G", "X"]


def test_emt_copper_against_ase():
    """EMT copper: E(V) and elastic constants agree with ASE's own EOS and stress."""
    from ase.eos import EquationOfState

    eos = P.energy_volume(EMT(), "Cu", 3.6)
    volumes, energies = [], []
    for s in np.linspace(-0.04, 0.04, 9):
        atoms = bulk("Cu", "fcc", a=3.6 * (1 + s))
        atoms.calc = EMT()
        volumes.append(atoms.get_volume())
        energies.append(atoms.get_potential_energy())
    V0, E0, B = EquationOfState(volumes, energies, eos="birchmurnaghan").fit()
    assert eos.V0 == pytest.approx(V0, rel=1e-12)
    assert eos.B_GPa == pytest.approx(B / units.GPa, rel=1e-12)
    C = P.elastic_constants(EMT(), "Cu", eos.a0)
    assert C["B_GPa"] == pytest.approx(eos.B_GPa, rel=0.02)
    assert C["cauchy_pressure_GPa"] > 0  # a metal, unlike a pair potential


def test_bad_surface_is_one_line():
    with pytest.raises(ValueError, match=r"miller must be one of"):
        P.surface_energy(EMT(), miller=(2, 1, 1))
