"""Symmetry functions: reference values, finite differences, invariances, errors."""

import math

import numpy as np
import pytest
from ase import Atoms

from nnp_ref.descriptors.symmetry_functions import SymmetryFunction, SymmetryFunctionSet
from tests.finite_differences import position_derivative, strain_derivative
from tests.reference_sf import ref_descriptors

RC = 4.0


def sf_sets_two_elements(rc=RC, cutoff_type=1):
    """A small H/O set with every exponential type and both lambdas."""
    sets = {}
    for c in ("H", "O"):
        sfs = [
            SymmetryFunction(2, c, ("H",), rc, eta=0.5, rs=0.0, cutoff_type=cutoff_type),
            SymmetryFunction(2, c, ("O",), rc, eta=1.2, rs=1.1, cutoff_type=cutoff_type),
            SymmetryFunction(12, c, (), rc, eta=0.3, rs=0.5, cutoff_type=cutoff_type),
            SymmetryFunction(3, c, ("H", "O"), rc, eta=0.1, zeta=1.0, lam=1.0),
            SymmetryFunction(3, c, ("O", "H"), rc, eta=0.05, zeta=2.0, lam=-1.0, rs=0.3),
            SymmetryFunction(3, c, ("H", "H"), rc, eta=0.02, zeta=3.5, lam=1.0),
            SymmetryFunction(9, c, ("O", "O"), rc, eta=0.07, zeta=4.0, lam=-1.0),
            SymmetryFunction(9, c, ("H", "O"), rc, eta=0.01, zeta=1.0, lam=1.0, rs=0.2),
            SymmetryFunction(13, c, (), rc, eta=0.04, zeta=2.0, lam=1.0),
        ]
        sets[c] = [SymmetryFunction(**{**sf.__dict__, "cutoff_type": cutoff_type}) for sf in sfs]
    return sets


def random_structure(seed, n=12, pbc=(True, True, True), box=5.0, min_dist=0.9):
    """Random H/O structure in a skewed cell with no two atoms too close."""
    rng = np.random.default_rng(seed)
    cell = np.diag([box, box * 1.1, box * 0.9]) + rng.uniform(-0.8, 0.8, (3, 3))
    atoms = Atoms(cell=cell, pbc=pbc)
    while len(atoms) < n:
        trial = atoms.copy()
        frac = rng.uniform(0, 1, 3)
        trial.append("H" if rng.uniform() < 0.6 else "O")
        trial.positions[-1] = frac @ cell
        if len(trial) == 1 or min_image_distances(trial).min() > min_dist:
            atoms = trial
    return atoms


def min_image_distances(atoms):
    d = atoms.get_all_distances(mic=any(atoms.pbc))
    d[np.diag_indices_from(d)] = np.inf
    d_self = np.inf
    if any(atoms.pbc):
        cell = atoms.cell.array
        for S in np.ndindex(3, 3, 3):
            S = np.array(S) - 1
            if np.any(S != 0) and np.all(atoms.pbc | (S == 0)):
                d_self = min(d_self, np.linalg.norm(S @ cell))
    return np.minimum(d, d_self)


def dense_dG(desc, n):
    """dG_{i s}/dR_{k c} as a dense (n, s, n, 3) array, from the sparse pieces."""
    s = desc.G_ns.shape[1]
    out = np.zeros((n, s, n, 3))
    for p, (i, j) in enumerate(zip(desc.nl.i_p, desc.nl.j_p)):
        out[i, :, j, :] += desc.dGdR_psc[p]
    for i in range(n):
        out[i, :, i, :] += desc.dGself_nsc[i]
    return out


STRUCTURES = [
    (0, (True, True, True)),
    (1, (True, False, True)),
    (2, (False, False, False)),
    (3, (True, True, True)),
]


@pytest.mark.parametrize("seed,pbc", STRUCTURES)
@pytest.mark.parametrize("cutoff_type", [1, 2])
def test_values_match_slow_reference(seed, pbc, cutoff_type):
    atoms = random_structure(seed, pbc=pbc)
    sets = sf_sets_two_elements(cutoff_type=cutoff_type)
    desc = SymmetryFunctionSet(sets, ("H", "O")).compute_atoms(atoms)
    ref = ref_descriptors(atoms, sets)
    for i in range(len(atoms)):
        assert desc.G_ns[i] == pytest.approx(ref[i], rel=1e-12, abs=1e-14)
    assert np.abs(desc.G_ns).max() > 0.1  # the structure has real neighbours


@pytest.mark.parametrize("seed,pbc", STRUCTURES)
def test_position_derivatives_vs_finite_differences(seed, pbc):
    atoms = random_structure(seed, n=8, pbc=pbc)
    sfs = SymmetryFunctionSet(sf_sets_two_elements(cutoff_type=2), ("H", "O"))
    desc = sfs.compute_atoms(atoms)
    analytic = dense_dG(desc, len(atoms))
    numeric = position_derivative(lambda a: sfs.compute_atoms(a, False).G_ns, atoms, h=1e-5)
    scale = np.abs(numeric).max()
    assert scale > 0.1
    np.testing.assert_allclose(analytic, numeric, rtol=0, atol=1e-8 * max(1.0, scale))


def test_translational_sum_rule():
    atoms = random_structure(4, n=14)
    desc = SymmetryFunctionSet(sf_sets_two_elements(), ("H", "O")).compute_atoms(atoms)
    total = np.zeros_like(desc.dGself_nsc)
    np.add.at(total, desc.nl.i_p, desc.dGdR_psc)
    np.testing.assert_allclose(desc.dGself_nsc, -total, rtol=0, atol=1e-13)
    assert np.abs(desc.dGself_nsc).max() > 0.01


@pytest.mark.parametrize("seed,pbc", [(5, (True, True, True)), (6, (True, False, True))])
def test_strain_derivatives_vs_finite_differences(seed, pbc):
    atoms = random_structure(seed, n=8, pbc=pbc)
    sfs = SymmetryFunctionSet(sf_sets_two_elements(cutoff_type=2), ("H", "O"))
    desc = sfs.compute_atoms(atoms, with_strain=True)
    assert sfs.compute_atoms(atoms).dGdeps_nscc.shape[0] == 0  # only on request
    numeric = strain_derivative(lambda a: sfs.compute_atoms(a, False).G_ns, atoms, h=1e-6)
    np.testing.assert_allclose(desc.dGdeps_nscc, numeric, rtol=0, atol=2e-7)
    assert np.abs(desc.dGdeps_nscc).max() > 0.1


def test_invariance_rotation_translation_permutation():
    atoms = random_structure(7, n=10, pbc=(False, False, False))
    sfs = SymmetryFunctionSet(sf_sets_two_elements(), ("H", "O"))
    G = sfs.compute_atoms(atoms).G_ns
    moved = atoms.copy()
    moved.rotate(37.0, (1.0, 2.0, -0.5), center="COM")
    moved.translate((3.1, -2.0, 0.7))
    np.testing.assert_allclose(sfs.compute_atoms(moved).G_ns, G, rtol=1e-12, atol=1e-13)
    order = np.random.default_rng(0).permutation(len(atoms))
    permuted = atoms[order]
    np.testing.assert_allclose(sfs.compute_atoms(permuted).G_ns, G[order], rtol=1e-12, atol=1e-13)


def test_periodic_cell_translation_and_wrapping():
    atoms = random_structure(8, n=10)
    sfs = SymmetryFunctionSet(sf_sets_two_elements(), ("H", "O"))
    G = sfs.compute_atoms(atoms).G_ns
    shifted = atoms.copy()
    shifted.positions += np.array([1, -2, 3]) @ atoms.cell.array  # whole-cell shift of everything
    shifted.positions[0] += atoms.cell.array[1]  # one atom by a lattice vector
    np.testing.assert_allclose(sfs.compute_atoms(shifted).G_ns, G, rtol=1e-12, atol=1e-13)


def test_supercell_gives_same_descriptors():
    atoms = random_structure(9, n=6, box=4.0)
    sfs = SymmetryFunctionSet(sf_sets_two_elements(rc=5.0), ("H", "O"))
    G = sfs.compute_atoms(atoms).G_ns
    G_super = sfs.compute_atoms(atoms.repeat((2, 2, 2))).G_ns
    np.testing.assert_allclose(G_super, np.tile(G, (8, 1)), rtol=1e-11, atol=1e-12)


def test_dimer_closed_form():
    """Two atoms at r: G2 = exp(-eta (r-rs)^2) f_c(r), with the cos cutoff by hand."""
    r, rc, eta, rs = 1.7, 4.0, 0.8, 0.5
    sets = {
        "H": [SymmetryFunction(2, "H", ("O",), rc, eta=eta, rs=rs, cutoff_type=1)],
        "O": [
            SymmetryFunction(2, "O", ("H",), rc, eta=eta, rs=rs, cutoff_type=1),
            SymmetryFunction(12, "O", (), rc, eta=eta, rs=rs, cutoff_type=1),
        ],
    }
    atoms = Atoms("HO", positions=[(0, 0, 0), (0, 0, r)])
    G = SymmetryFunctionSet(sets, ("H", "O")).compute_atoms(atoms).G_ns
    expected = math.exp(-eta * (r - rs) ** 2) * 0.5 * (math.cos(math.pi * r / rc) + 1)
    assert G[0, 0] == pytest.approx(expected, rel=1e-14)
    assert G[1, 0] == pytest.approx(expected, rel=1e-14)
    assert G[1, 1] == pytest.approx(1.0 * expected, rel=1e-14)  # weight Z_H = 1


def test_triangle_closed_form():
    """Right isosceles triangle O at the corner, H at (a,0,0) and (0,a,0):
    theta_HOH = 90 deg, cos = 0, r_HH = a sqrt(2)."""
    a, rc, eta = 1.0, 3.0, 0.3

    def fc(r):
        return math.tanh(1 - r / rc) ** 3

    sets = {
        "H": [SymmetryFunction(2, "H", ("H",), rc, eta=eta, cutoff_type=2)],
        "O": [
            SymmetryFunction(3, "O", ("H", "H"), rc, eta=eta, zeta=2.0, lam=1.0, cutoff_type=2),
            SymmetryFunction(9, "O", ("H", "H"), rc, eta=eta, zeta=2.0, lam=-1.0, cutoff_type=2),
            SymmetryFunction(3, "O", ("H", "O"), rc, eta=eta, zeta=1.0, lam=1.0, cutoff_type=2),
            SymmetryFunction(13, "O", (), rc, eta=eta, zeta=1.0, lam=1.0, cutoff_type=2),
        ],
    }
    atoms = Atoms("OHH", positions=[(0, 0, 0), (a, 0, 0), (0, a, 0)])
    G = SymmetryFunctionSet(sets, ("H", "O")).compute_atoms(atoms).G_ns
    rhh = a * math.sqrt(2)
    # 2^(1-2) (1 + 0)^2 = 1/2 for both lambda at 90 degrees.
    narrow = 0.5 * math.exp(-eta * (2 * a**2 + rhh**2)) * fc(a) ** 2 * fc(rhh)
    wide = 0.5 * math.exp(-eta * 2 * a**2) * fc(a) ** 2
    assert G[0, 0] == pytest.approx(narrow, rel=1e-14)
    assert G[0, 1] == pytest.approx(wide, rel=1e-14)
    assert G[0, 2] == 0.0  # no (H, O) neighbour pair around O
    assert G[0, 3] == pytest.approx(1.0 * narrow / 0.5 * 1.0, rel=1e-14)  # Z_H Z_H = 1, zeta=1
    # H atom 1: angle O-H-H... only radial here: G = exp(-eta rhh^2) fc(rhh)
    assert G[1, 0] == pytest.approx(math.exp(-eta * rhh**2) * fc(rhh), rel=1e-14)


def test_functions_vanish_continuously_at_cutoff():
    rc = 3.0
    sets = {
        "H": [SymmetryFunction(2, "H", ("H",), rc, eta=0.1, cutoff_type=ct) for ct in (1, 2, 6)]
        + [SymmetryFunction(3, "H", ("H", "H"), rc, eta=0.1, zeta=1, lam=1, cutoff_type=2)]
    }
    sfs = SymmetryFunctionSet(sets, ("H",))
    previous = None
    for r in (rc - 1e-3, rc - 1e-5, rc - 1e-7, rc, rc + 1e-7):
        atoms = Atoms("HHH", positions=[(0, 0, 0), (r, 0, 0), (0, r, 0)])
        desc = sfs.compute_atoms(atoms)
        size = max(np.abs(desc.G_ns[0]).max(), np.abs(desc.dGself_nsc[0]).max())
        if previous is not None:
            assert size <= previous + 1e-15
        previous = size
    assert previous == 0.0
    near = sfs.compute_atoms(Atoms("HH", positions=[(0, 0, 0), (rc - 1e-4, 0, 0)]))
    assert 0 < np.abs(near.G_ns).max() < 1e-6
    assert np.abs(near.dGself_nsc).max() < 1e-3


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(type=3, center="H", neighbours=("H", "H"), rc=3.0, lam=0.5), "lambda"),
        (dict(type=2, center="H", neighbours=("H",), rc=0.0), "rc"),
        (dict(type=2, center="H", neighbours=("H",), rc=-1.0), "rc"),
        (dict(type=2, center="H", neighbours=("Xx",), rc=3.0), "unknown element"),
        (dict(type=7, center="H", neighbours=("H",), rc=3.0), "unknown symmetry-function type"),
        (dict(type=3, center="H", neighbours=("H",), rc=3.0), "neighbour element"),
        (dict(type=2, center="H", neighbours=("H",), rc=3.0, eta=math.nan), "non-finite"),
    ],
)
def test_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SymmetryFunctionSet({"H": [SymmetryFunction(**kwargs)]}, ("H",))


def test_element_without_functions():
    sets = {"H": [SymmetryFunction(2, "H", ("H",), 3.0)]}
    with pytest.raises(ValueError, match="'O' has no symmetry functions"):
        SymmetryFunctionSet(sets, ("H", "O"))


def test_bad_structures():
    sfs = SymmetryFunctionSet({"H": [SymmetryFunction(2, "H", ("H",), 3.0)]}, ("H",))
    with pytest.raises(ValueError, match="unknown element"):
        sfs.compute_atoms(Atoms("HO", positions=[(0, 0, 0), (1, 0, 0)]))
    with pytest.raises(ValueError, match="atoms 0 and 1 overlap"):
        sfs.compute_atoms(Atoms("HH", positions=[(0, 0, 0), (0, 0, 0)]))
    with pytest.raises(ValueError, match="finite"):
        sfs.compute_atoms(Atoms("HH", positions=[(0, 0, 0), (np.nan, 0, 0)]))
    with pytest.raises(ValueError, match="singular|volume|plane"):
        sfs.compute_atoms(Atoms("HH", positions=[(0, 0, 0), (1, 0, 0)], cell=[2, 2, 0], pbc=True))


# n2p2's own reference values (test/cpp/fixtures.h): G of atom 0 in a
# three-atom structure, tanhU cutoff, no scaling. See
# docs/n2p2_symmetry_function_formulas.md, section 4.
N2P2_POSITIONS = [(0.0, 0.0, 0.0), (1.0, 2.0, 1.0), (0.0, 3.0, -1.0)]


def _sf(t, c, nb, **kw):
    return SymmetryFunction(t, c, tuple(nb), cutoff_type=2, **kw)


N2P2_MONO = [
    (_sf(2, "H", "H", eta=0.001, rs=0.0, rc=10.0), 4.6578975865793892e-01),
    (_sf(2, "H", "H", eta=0.030, rs=1.0, rc=10.0), 4.2613074319879601e-01),
    (_sf(3, "H", "HH", eta=0.001, lam=1.0, zeta=1.0, rc=10.0, rs=0.0), 2.2781144245150042e-02),
    (_sf(3, "H", "HH", eta=0.030, lam=-1.0, zeta=4.0, rc=10.0, rs=2.0), 2.6506732726623567e-05),
    (_sf(9, "H", "HH", eta=0.001, lam=1.0, zeta=1.0, rc=10.0, rs=0.0), 8.8187604914213763e-02),
    (_sf(9, "H", "HH", eta=0.031, lam=-1.0, zeta=4.0, rc=10.0, rs=2.0), 1.0245670290254523e-04),
    (_sf(12, "H", "", eta=0.001, rs=0.0, rc=10.0), 4.6578975865793892e-01),
    (_sf(12, "H", "", eta=0.030, rs=1.0, rc=10.0), 4.2613074319879601e-01),
    (_sf(13, "H", "", eta=0.001, rs=0.0, lam=1.0, zeta=1.0, rc=10.0), 2.2781144245150042e-02),
    (_sf(13, "H", "", eta=0.030, rs=2.0, lam=-1.0, zeta=4.0, rc=10.0), 2.6506732726623567e-05),
    (_sf(20, "H", "H", rl=-10.0, rc=10.0, subtype="p2"), 1.71653828561074920),
    (_sf(20, "H", "H", rl=0.0, rc=8.0, subtype="p2"), 1.63829178699555840),
    (_sf(20, "H", "H", rl=1.0, rc=3.0, subtype="p2"), 0.59406437434580717),
    (_sf(23, "H", "", rl=1.0, rc=3.0, subtype="p2"), 0.59406437434580717),
]
for t_narrow, t_wide, nb in ((21, 22, "HH"), (24, 25, "")):
    for (rl, rc, al, ar), narrow, wide in (
        ((-10.0, 10.0, 0.0, 180.0), 0.39698365829232357, 0.440241957350979370),
        ((0.0, 10.0, 10.0, 60.0), 0.056548996092037257, 0.117549886737894540),
        ((1.0, 10.0, 40.0, 120.0), 0.0017053618495084467, 0.008811770360680239),
    ):
        for t, value in ((t_narrow, narrow), (t_wide, wide)):
            sf = _sf(t, "H", nb, rl=rl, rc=rc, angle_left=al, angle_right=ar, subtype="p2")
            N2P2_MONO.append((sf, value))

N2P2_DUAL = [
    (_sf(12, "H", "", eta=0.001, rs=0.0, rc=10.0), 9.3157951731587740e-01),
    (_sf(12, "H", "", eta=0.030, rs=1.0, rc=10.0), 8.5226148639759169e-01),
    (_sf(13, "H", "", eta=0.001, rs=0.0, lam=1.0, zeta=1.0, rc=10.0), 9.1124576980600058e-02),
    (_sf(13, "H", "", eta=0.030, rs=2.0, lam=-1.0, zeta=4.0, rc=10.0), 1.0602693090649413e-04),
    (_sf(23, "H", "", rl=-10.0, rc=10.0, subtype="p2"), 3.4330765712215),
    (
        _sf(24, "H", "", rl=0.0, rc=10.0, angle_left=10.0, angle_right=60.0, subtype="p2"),
        0.226195984368149,
    ),
    (
        _sf(25, "H", "", rl=1.0, rc=10.0, angle_left=40.0, angle_right=120.0, subtype="p2"),
        0.035247081442721,
    ),
]

N2P2_MIXED = [
    (_sf(2, "S", ("Cu",), eta=0.030, rs=1.0, rc=10.0), 1.8212508087363616e-01),
    (_sf(2, "S", ("U",), eta=0.030, rs=1.0, rc=10.0), 2.5814603379946083e-01),
    (_sf(3, "S", ("S", "Cu"), eta=0.001, lam=1.0, zeta=1.0, rc=10.0), 2.2781144245150042e-02),
    (_sf(3, "S", ("S", "U"), eta=0.001, lam=1.0, zeta=1.0, rc=10.0), 1.1723866787654575e-02),
    (_sf(3, "S", ("Cu", "U"), eta=0.001, lam=1.0, zeta=1.0, rc=10.0), 1.8921487310992163e-02),
    (_sf(12, "S", "", eta=0.001, rs=0.0, rc=10.0), 3.4986591461381153e01),
    (_sf(12, "S", "", eta=0.030, rs=1.0, rc=10.0), 3.2935153052088403e01),
    (_sf(13, "S", "", eta=0.001, rs=0.0, lam=1.0, zeta=1.0, rc=10.0), 7.8310510986904234e01),
    (_sf(13, "S", "", eta=0.001, rs=1.0, lam=-1.0, zeta=4.0, rc=10.0), 3.6978004634143264e00),
]


@pytest.mark.parametrize(
    "symbols,positions,table",
    [
        ("HHH", N2P2_POSITIONS, N2P2_MONO),
        ("HHeHe", N2P2_POSITIONS, N2P2_DUAL),
        ("SSCuU", N2P2_POSITIONS + [(-2.0, 1.0, -0.5)], N2P2_MIXED),
    ],
    ids=["mono", "dual", "mixed"],
)
def test_n2p2_fixture_values(symbols, positions, table):
    atoms = Atoms(symbols, positions=positions)
    elements = tuple(dict.fromkeys(atoms.get_chemical_symbols()))
    center = atoms.get_chemical_symbols()[0]
    sets = {e: [SymmetryFunction(2, e, (e,), 10.0)] for e in elements}
    sets[center] = [sf for sf, _ in table]
    G = SymmetryFunctionSet(sets, elements).compute_atoms(atoms).G_ns[0, : len(table)]
    expected = [value for _, value in table]
    np.testing.assert_allclose(G, expected, rtol=1e-12, atol=0)


def compact_sets():
    """Every compact type, symmetric and asymmetric subtypes, two elements."""
    sets = {}
    for c in ("H", "O"):
        sets[c] = [
            SymmetryFunction(20, c, ("H",), 4.0, rl=-4.0, subtype="p2"),
            SymmetryFunction(20, c, ("O",), 3.5, rl=0.5, subtype="p3a"),
            SymmetryFunction(23, c, (), 4.0, rl=1.0, subtype="p4"),
            SymmetryFunction(
                21, c, ("H", "O"), 4.0, rl=-4.0, angle_left=-90.0, angle_right=90.0, subtype="p2a"
            ),
            SymmetryFunction(
                21, c, ("H", "H"), 4.0, rl=0.0, angle_left=30.0, angle_right=150.0, subtype="p2"
            ),
            SymmetryFunction(
                22, c, ("O", "O"), 4.0, rl=-4.0, angle_left=90.0, angle_right=270.0, subtype="p1"
            ),
            SymmetryFunction(
                24, c, (), 4.0, rl=0.5, angle_left=0.0, angle_right=120.0, subtype="p3"
            ),
            SymmetryFunction(
                25, c, (), 4.0, rl=-4.0, angle_left=60.0, angle_right=180.0, subtype="p4a"
            ),
        ]
    return sets


@pytest.mark.parametrize("seed,pbc", [(20, (True, True, True)), (21, (False, True, False))])
def test_compact_types_derivatives_vs_finite_differences(seed, pbc):
    atoms = random_structure(seed, n=8, pbc=pbc)
    sfs = SymmetryFunctionSet(compact_sets(), ("H", "O"))
    desc = sfs.compute_atoms(atoms)
    assert np.all(np.abs(desc.G_ns[:, :8]).max(axis=0) > 1e-3)  # every function is exercised
    analytic = dense_dG(desc, len(atoms))
    numeric = position_derivative(lambda a: sfs.compute_atoms(a, False).G_ns, atoms, h=1e-5)
    np.testing.assert_allclose(analytic, numeric, rtol=0, atol=1e-7 * np.abs(numeric).max())
    total = np.zeros_like(desc.dGself_nsc)
    np.add.at(total, desc.nl.i_p, desc.dGdR_psc)
    np.testing.assert_allclose(desc.dGself_nsc, -total, atol=1e-13)


def test_blocks_and_threads_agree_and_no_global_state(monkeypatch):
    """A block of atoms gives the rows of the whole structure, on one thread or
    split over threads, and computing descriptors never touches Numba's thread
    count (thread safety)."""
    import numba

    from nnp_ref.descriptors import threads
    from nnp_ref.descriptors.neighbours import neighbour_list
    from nnp_ref.descriptors.symmetry_functions import element_indices

    def forbidden(*args):
        raise AssertionError("descriptors must not change Numba's thread count")

    monkeypatch.setattr(numba, "set_num_threads", forbidden)
    sfs = SymmetryFunctionSet(sf_sets_two_elements(), ("H", "O"))
    atoms = random_structure(31, n=40, box=7.0)
    elem_n = element_indices(atoms.get_chemical_symbols(), sfs.elements)
    nl = neighbour_list(atoms.positions, atoms.cell.array, atoms.pbc, sfs.cutoff)
    whole = sfs.compute_from_list(elem_n, nl, with_strain=True)
    block = sfs.compute_block(elem_n, nl, 7, 23, with_strain=True)
    np.testing.assert_array_equal(whole.G_ns[7:23], block[0])
    p0, p1 = nl.offsets_n1[7], nl.offsets_n1[23]
    np.testing.assert_array_equal(whole.dGdR_psc[p0:p1], block[1])
    np.testing.assert_array_equal(whole.dGself_nsc[7:23], block[2])
    np.testing.assert_array_equal(whole.dGdeps_nscc[7:23], block[3])
    monkeypatch.setattr(threads, "thread_count", lambda: 3)
    monkeypatch.setattr(threads, "PARALLEL_MIN_ATOMS", 1)
    split = sfs.compute_from_list(elem_n, nl, with_strain=True)  # blocks on 3 threads
    for name in ("G_ns", "dGdR_psc", "dGself_nsc", "dGdeps_nscc"):
        np.testing.assert_array_equal(getattr(split, name), getattr(whole, name))


def test_counting_sort_is_stable_and_gives_block_starts():
    from nnp_ref.descriptors.terms import counting_sort

    rng = np.random.default_rng(9)
    for n, n_keys in [(0, 3), (1, 1), (40, 3), (25, 6)]:
        keys = rng.integers(0, n_keys, n)
        order, start = np.full(n + 2, -1), np.full(n_keys + 1, -7)
        counting_sort(keys, n_keys, order, start)
        np.testing.assert_array_equal(order[:n], np.argsort(keys, kind="stable"))
        np.testing.assert_array_equal(start, np.searchsorted(np.sort(keys), np.arange(n_keys + 1)))
        assert order[n] == -1  # nothing written beyond the items


def test_kernel_overwrites_whatever_its_arrays_held():
    """The block arrays come uninitialised (``block_arrays``): the kernel zeroes each
    atom's rows itself. Arrays filled with NaN and with 1e300 beforehand give
    exactly the numbers of zeroed ones, for every array and both with and
    without derivatives."""
    from nnp_ref.descriptors.neighbours import neighbour_list
    from nnp_ref.descriptors.symmetry_functions import block_arrays, element_indices

    sfs = SymmetryFunctionSet(sf_sets_two_elements(), ("H", "O"))
    atoms = random_structure(12, n=16, box=6.0)
    elem_n = element_indices(atoms.get_chemical_symbols(), sfs.elements)
    nl = neighbour_list(atoms.positions, atoms.cell.array, atoms.pbc, sfs.cutoff)
    table = sfs.pair_table(nl, elem_n)
    s_max = sfs.table_esq.shape[1]
    for with_derivatives in (True, False):
        results = {}
        for fill in (0.0, np.nan, 1e300):
            arrays = block_arrays(len(atoms), len(nl.j_p), s_max, with_derivatives, True)
            for array in arrays:
                array.fill(fill)
            sfs.fill_block(elem_n, nl, 0, len(atoms), with_derivatives, True, table, arrays)
            results[fill] = arrays
        zeroed = results[0.0]
        assert np.abs(zeroed[0]).max() > 0 and (not with_derivatives or np.abs(zeroed[1]).max() > 0)
        for fill in (np.nan, 1e300):
            for got, expected in zip(results[fill], zeroed, strict=True):
                np.testing.assert_array_equal(got, expected)


def test_block_without_self_terms_has_the_same_pair_derivatives():
    """``compute_block(with_self=False)`` (the memory-lean force path) skips the self
    and strain terms: no rows for them, and G and dG/dR bit for bit as with them."""
    from nnp_ref.descriptors.neighbours import neighbour_list
    from nnp_ref.descriptors.symmetry_functions import element_indices

    sfs = SymmetryFunctionSet(sf_sets_two_elements(), ("H", "O"))
    atoms = random_structure(17, n=20, box=6.0)
    elem_n = element_indices(atoms.get_chemical_symbols(), sfs.elements)
    nl = neighbour_list(atoms.positions, atoms.cell.array, atoms.pbc, sfs.cutoff)
    full = sfs.compute_block(elem_n, nl, 3, 15, with_strain=True)
    lean = sfs.compute_block(elem_n, nl, 3, 15, with_strain=True, with_self=False)
    assert full[2].shape == (12, sfs.table_esq.shape[1], 3) and np.abs(full[2]).max() > 0
    assert lean[2].shape[0] == 0 and lean[3].shape[0] == 0
    np.testing.assert_array_equal(lean[0], full[0])
    np.testing.assert_array_equal(lean[1], full[1])
