"""Tests of the cell-list neighbour list against ASE and a brute-force reference."""

import itertools
from pathlib import Path

import numpy as np
import pytest
from ase import Atoms
from ase.neighborlist import neighbor_list as ase_neighbor_list
from ase.units import Bohr

from nnp_ref.descriptors.neighbours import NeighbourList, neighbour_list, neighbour_list_atoms

WATER_BOX = Path("/work/shared/n2p2/H2O_RPBE-D3/input.data")
PBCS = [
    (True, True, True),
    (True, False, True),
    (False, False, False),
    (True, False, False),
    (False, True, True),
]


# ---------------------------------------------------------------------------------------------
# helpers: random structures, sorting pair lists, slow references
# ---------------------------------------------------------------------------------------------


def random_cell(rng, lengths=(2.0, 8.0), skew=0.6):
    """Triclinic cell: diagonal lengths in ``lengths``, off-diagonals up to ``skew`` of them."""
    diagonal_c = rng.uniform(*lengths, 3)
    off_cc = rng.uniform(-skew, skew, (3, 3)) * diagonal_c[:, None] * (1 - np.eye(3))
    return np.diag(diagonal_c) + off_cc


def random_structure(rng, pbc, n_max=40, lengths=(2.0, 8.0), n_min=1):
    """Random cell and positions (fractions in [-0.5, 1.5): many atoms outside the cell)."""
    cell_cc = random_cell(rng, lengths)
    n = int(rng.integers(n_min, n_max + 1))
    R_nc = rng.uniform(-0.5, 1.5, (n, 3)) @ cell_cc
    return R_nc, cell_cc, np.array(pbc)


def sorted_pairs(i_p, j_p, S_pc, *arrays):
    """Pair keys (i, j, S) sorted lexicographically, and ``arrays`` in the same order."""
    key_p5 = np.column_stack([i_p, j_p, S_pc]).astype(np.int64)
    order_p = np.lexsort(key_p5.T[::-1])
    return (key_p5[order_p], *(a[order_p] for a in arrays))


def assert_same_as_ase(R_nc, cell_cc, pbc_c, cutoff):
    """Identical pair sets (i, j, S) and distances (1e-12 Å) as ASE; returns the list."""
    atoms = Atoms(positions=R_nc, cell=cell_cc, pbc=pbc_c)
    i, j, S, D, d = ase_neighbor_list("ijSDd", atoms, cutoff)
    nl = neighbour_list(R_nc, cell_cc, pbc_c, cutoff)
    key_ase, D_ase, d_ase = sorted_pairs(i, j, S, D, d)
    key_ours, D_ours, d_ours = sorted_pairs(nl.i_p, nl.j_p, nl.S_pc, nl.D_pc, nl.d_p)
    assert key_ours.shape == key_ase.shape, f"{len(key_ours)} pairs, ASE has {len(key_ase)}"
    np.testing.assert_array_equal(key_ours, key_ase)
    np.testing.assert_allclose(d_ours, d_ase, rtol=0, atol=1e-12)
    np.testing.assert_allclose(D_ours, D_ase, rtol=0, atol=1e-12)
    return nl


def brute_force(R_nc, cell_cc, pbc_c, cutoff):
    """All (i, j, S) with |R_j - R_i + S @ cell| < cutoff, trying every shift that can reach.

    A translation ``S @ P`` of the periodic vectors P is at least ``sigma_min(P) |S|`` long,
    and it must be shorter than ``cutoff + max |R_j - R_i|``: that bounds every S_a.
    """
    periodic = np.flatnonzero(pbc_c)
    diameter = np.linalg.norm(R_nc[:, None] - R_nc[None], axis=-1).max()
    ranges = [range(1)] * 3
    if len(periodic) > 0:
        sigma_min = np.linalg.svd(cell_cc[periodic], compute_uv=False)[-1]
        s_max = int(np.ceil((cutoff + diameter) / sigma_min))
        for a in periodic:
            ranges[a] = range(-s_max, s_max + 1)
    S_kc = np.array(list(itertools.product(*ranges)), dtype=np.int64)
    T_kc = S_kc @ cell_cc
    pairs = []
    for i, j in itertools.product(range(len(R_nc)), repeat=2):
        d_k = np.linalg.norm(R_nc[j] - R_nc[i] + T_kc, axis=1)
        keep_k = (d_k < cutoff) & ((i != j) | S_kc.any(axis=1))
        pairs += [(i, j, *S_c) for S_c in S_kc[keep_k]]
    key_p5 = np.array(pairs, dtype=np.int64).reshape(-1, 5)
    return key_p5[np.lexsort(key_p5.T[::-1])]


# ---------------------------------------------------------------------------------------------
# agreement with ASE and with the brute-force reference
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("pbc", PBCS)
@pytest.mark.parametrize("seed", range(6))
def test_matches_ase_random_triclinic(seed, pbc):
    rng = np.random.default_rng(seed)
    R_nc, cell_cc, pbc_c = random_structure(rng, pbc, n_min=10)
    # up to 1.5x the longest cell vector: cutoffs beyond half the cell (several images)
    cutoff = rng.uniform(2.0, 1.5 * np.linalg.norm(cell_cc, axis=1).max())
    nl = assert_same_as_ase(R_nc, cell_cc, pbc_c, cutoff)
    assert len(nl.i_p) > 0
    assert np.all(nl.S_pc[:, ~pbc_c] == 0)


@pytest.mark.parametrize("pbc", PBCS[:2] + PBCS[3:])
@pytest.mark.parametrize("seed", range(4))
def test_matches_ase_small_skewed_cells(seed, pbc):
    """Cells of 0.8-2 Å with cutoffs of 3-5 Å: many images of every atom, including its own."""
    rng = np.random.default_rng(100 + seed)
    R_nc, cell_cc, pbc_c = random_structure(rng, pbc, n_max=4, lengths=(0.8, 2.0))
    nl = assert_same_as_ase(R_nc, cell_cc, pbc_c, rng.uniform(3.0, 5.0))
    assert np.any(nl.i_p == nl.j_p)  # own images are listed


@pytest.mark.parametrize("pbc", [(True, True, True), (True, False, True), (False, False, True)])
@pytest.mark.parametrize("seed", range(3))
def test_matches_brute_force(seed, pbc):
    rng = np.random.default_rng(200 + seed)
    R_nc, cell_cc, pbc_c = random_structure(rng, pbc, n_max=6, lengths=(3.0, 5.0), n_min=4)
    cutoff = rng.uniform(3.0, 7.0)
    nl = neighbour_list(R_nc, cell_cc, pbc_c, cutoff)
    (key_ours,) = sorted_pairs(nl.i_p, nl.j_p, nl.S_pc)
    key_ref = brute_force(R_nc, cell_cc, pbc_c, cutoff)
    assert len(key_ref) > 0
    np.testing.assert_array_equal(key_ours, key_ref)


@pytest.mark.parametrize("seed", range(3))
def test_non_periodic_zero_cell(seed):
    """ase.Atoms without a cell: zero cell vectors, atoms anywhere (also negative)."""
    rng = np.random.default_rng(300 + seed)
    atoms = Atoms("H30", positions=rng.uniform(-8.0, 8.0, (30, 3)))
    assert not atoms.cell.any()
    nl = assert_same_as_ase(atoms.positions, atoms.cell.array, atoms.pbc, 4.0)
    assert len(nl.i_p) > 0
    assert not nl.S_pc.any()


@pytest.mark.parametrize("seed", range(3))
def test_mixed_pbc_zero_and_arbitrary_non_periodic_vector(seed):
    """A non-periodic cell vector (zero, or anything) does not change the list."""
    rng = np.random.default_rng(400 + seed)
    R_nc, cell_cc, pbc_c = random_structure(rng, (True, False, True))
    R_nc[:, 1] += rng.uniform(-20.0, 20.0, len(R_nc))  # spread far along the open direction
    cell_zero_cc = cell_cc.copy()
    cell_zero_cc[1] = 0.0
    nl_zero = assert_same_as_ase(R_nc, cell_zero_cc, pbc_c, 5.0)
    cell_other_cc = cell_cc.copy()
    cell_other_cc[1] = rng.normal(size=3)
    nl_other = neighbour_list(R_nc, cell_other_cc, pbc_c, 5.0)
    np.testing.assert_array_equal(nl_other.j_p, nl_zero.j_p)
    np.testing.assert_array_equal(nl_other.S_pc, nl_zero.S_pc)
    np.testing.assert_allclose(nl_other.d_p, nl_zero.d_p, rtol=0, atol=1e-12)


def test_one_atom_tiny_cubic_cell():
    """One atom, cell a = 1.3 Å, cutoff 3a (+1e-6 Å, off the boundary |S| = 3 where rounding
    decides): the pairs are the lattice vectors with 0 < |S| <= 3."""
    a = 1.3
    cell_cc = a * np.eye(3)
    nl = assert_same_as_ase(np.array([[0.2, -0.1, 0.4]]), cell_cc, [True] * 3, 3 * a + 1e-6)
    S_all = np.array(list(itertools.product(range(-3, 4), repeat=3)))
    n_expected = np.count_nonzero((np.sum(S_all**2, axis=1) <= 9) & S_all.any(axis=1))
    assert n_expected == 122
    assert len(nl.i_p) == n_expected
    np.testing.assert_array_equal(nl.offsets_n1, [0, n_expected])
    assert np.all(nl.j_p == 0)
    np.testing.assert_allclose(nl.D_pc, nl.S_pc * a, rtol=0, atol=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_one_atom_tiny_triclinic_cell(seed):
    rng = np.random.default_rng(500 + seed)
    cell_cc = random_cell(rng, lengths=(1.0, 1.5), skew=0.4)
    cutoff = 3 * np.linalg.norm(cell_cc, axis=1).max() + 0.01
    nl = assert_same_as_ase(rng.uniform(-2, 2, (1, 3)), cell_cc, [True] * 3, cutoff)
    assert len(nl.i_p) > 100


# ---------------------------------------------------------------------------------------------
# convention, offsets, edge cases
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("pbc", [(True, True, True), (False, True, False)])
def test_convention_and_offsets(pbc):
    rng = np.random.default_rng(7)
    R_nc, cell_cc, pbc_c = random_structure(rng, pbc, n_max=40)
    R_nc = np.vstack([R_nc, rng.uniform(-0.5, 1.5, (20, 3)) @ cell_cc])
    cutoff = 4.5
    nl = neighbour_list(R_nc, cell_cc, pbc_c, cutoff)
    n, n_pairs = len(R_nc), len(nl.i_p)
    assert n_pairs > 0
    for name, dtype, shape in [
        ("i_p", np.int64, (n_pairs,)),
        ("j_p", np.int64, (n_pairs,)),
        ("S_pc", np.int64, (n_pairs, 3)),
        ("D_pc", np.float64, (n_pairs, 3)),
        ("d_p", np.float64, (n_pairs,)),
        ("offsets_n1", np.int64, (n + 1,)),
    ]:
        assert getattr(nl, name).dtype == dtype, name
        assert getattr(nl, name).shape == shape, name
    # D = R[j] - R[i] + S @ cell, d = |D| < cutoff, never (i, i, 0)
    np.testing.assert_allclose(
        nl.D_pc, R_nc[nl.j_p] - R_nc[nl.i_p] + nl.S_pc @ cell_cc, rtol=0, atol=1e-12
    )
    np.testing.assert_allclose(nl.d_p, np.linalg.norm(nl.D_pc, axis=1), rtol=1e-15, atol=0)
    assert nl.d_p.max() < cutoff
    assert not np.any((nl.i_p == nl.j_p) & ~nl.S_pc.any(axis=1))
    # sorted by i, offsets are the CSR row pointers
    assert np.all(np.diff(nl.i_p) >= 0)
    counts_n = np.bincount(nl.i_p, minlength=n)
    np.testing.assert_array_equal(nl.offsets_n1, np.concatenate([[0], np.cumsum(counts_n)]))
    for i in range(n):
        assert np.all(nl.i_p[nl.offsets_n1[i] : nl.offsets_n1[i + 1]] == i)
    # full list: (i, j, S) <-> (j, i, -S), same distance
    (key,) = sorted_pairs(nl.i_p, nl.j_p, nl.S_pc)
    (key_swapped,) = sorted_pairs(nl.j_p, nl.i_p, -nl.S_pc)
    np.testing.assert_array_equal(key, key_swapped)
    # deterministic
    nl_again = neighbour_list(R_nc, cell_cc, pbc_c, cutoff)
    for name in ("i_p", "j_p", "S_pc", "D_pc", "d_p", "offsets_n1"):
        np.testing.assert_array_equal(getattr(nl_again, name), getattr(nl, name))


def test_unwrapped_positions_shift_S():
    """Moving atom i by the lattice vector T_i @ cell changes S to S + T_i - T_j, nothing else."""
    rng = np.random.default_rng(11)
    R_nc, cell_cc, pbc_c = random_structure(rng, (True, True, True), n_max=30)
    T_nc = rng.integers(-50, 51, (len(R_nc), 3))
    nl = neighbour_list(R_nc, cell_cc, pbc_c, 5.0)
    nl_moved = neighbour_list(R_nc + T_nc @ cell_cc, cell_cc, pbc_c, 5.0)
    key, d = sorted_pairs(nl.i_p, nl.j_p, nl.S_pc + T_nc[nl.i_p] - T_nc[nl.j_p], nl.d_p)
    key_moved, d_moved = sorted_pairs(nl_moved.i_p, nl_moved.j_p, nl_moved.S_pc, nl_moved.d_p)
    np.testing.assert_array_equal(key_moved, key)
    np.testing.assert_allclose(d_moved, d, rtol=0, atol=1e-10)


@pytest.mark.parametrize("pbc", [True, False])
def test_no_atoms(pbc):
    nl = neighbour_list(np.zeros((0, 3)), 5 * np.eye(3), pbc, 3.0)
    assert isinstance(nl, NeighbourList)
    assert nl.i_p.shape == (0,) and nl.j_p.shape == (0,) and nl.d_p.shape == (0,)
    assert nl.S_pc.shape == (0, 3) and nl.D_pc.shape == (0, 3)
    assert nl.S_pc.dtype == np.int64 and nl.D_pc.dtype == np.float64
    np.testing.assert_array_equal(nl.offsets_n1, [0])
    nl_atoms = neighbour_list_atoms(Atoms(), 3.0)
    np.testing.assert_array_equal(nl_atoms.offsets_n1, [0])


def test_atoms_without_neighbours():
    R_nc = np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [10.0, 0.0, 0.0], [0.0, -30.0, 5.0]])
    nl = neighbour_list(R_nc, np.zeros((3, 3)), False, 2.0)
    np.testing.assert_array_equal(nl.offsets_n1, [0, 1, 2, 2, 2])
    np.testing.assert_array_equal(nl.i_p, [0, 1])
    np.testing.assert_array_equal(nl.j_p, [1, 0])
    np.testing.assert_allclose(nl.D_pc, [[1.0, 0, 0], [-1.0, 0, 0]])
    np.testing.assert_allclose(nl.d_p, [1.0, 1.0])
    # one atom in a large periodic cell, cutoff below the cell: no neighbours at all
    nl_one = neighbour_list(np.array([[9.0, 9.0, 9.0]]), 8 * np.eye(3), True, 7.9)
    assert len(nl_one.i_p) == 0
    np.testing.assert_array_equal(nl_one.offsets_n1, [0, 0])


def test_atoms_wrapper_matches_arrays():
    rng = np.random.default_rng(3)
    R_nc, cell_cc, pbc_c = random_structure(rng, (True, False, True), n_max=25)
    atoms = Atoms(positions=R_nc, cell=cell_cc, pbc=pbc_c)
    nl_atoms = neighbour_list_atoms(atoms, 4.0)
    nl = neighbour_list(R_nc, cell_cc, pbc_c, 4.0)
    for name in ("i_p", "j_p", "S_pc", "D_pc", "d_p", "offsets_n1"):
        np.testing.assert_array_equal(getattr(nl_atoms, name), getattr(nl, name))


@pytest.mark.n2p2
@pytest.mark.skipif(not WATER_BOX.exists(), reason="n2p2 reference data not available")
def test_water_box_matches_ase():
    """The 1080-atom benchmark system (input.data in Bohr), cutoff 12 Bohr."""
    cell, positions = [], []
    with open(WATER_BOX) as fh:
        for line in fh:
            words = line.split()
            if words and words[0] == "lattice":
                cell.append([float(x) for x in words[1:4]])
            elif words and words[0] == "atom":
                positions.append([float(x) for x in words[1:4]])
            elif words and words[0] == "end":
                break
    R_nc, cell_cc = np.array(positions) * Bohr, np.array(cell) * Bohr
    assert len(R_nc) == 1080
    nl = assert_same_as_ase(R_nc, cell_cc, [True] * 3, 12.0 * Bohr)
    assert len(nl.i_p) == 103542


# ---------------------------------------------------------------------------------------------
# errors: ValueError naming the problem
# ---------------------------------------------------------------------------------------------


def test_error_non_finite_positions():
    R_nc = np.zeros((3, 3))
    R_nc[1] = [0.0, np.nan, 1.0]
    R_nc[2] = [4.0, 0.0, 0.0]
    with pytest.raises(ValueError, match=r"non-finite positions \(atoms \[1\]\)"):
        neighbour_list(R_nc, 5 * np.eye(3), True, 2.0)


def test_error_non_finite_cell():
    cell_cc = 5 * np.eye(3)
    cell_cc[2, 2] = np.inf
    with pytest.raises(ValueError, match="non-finite cell"):
        neighbour_list(np.zeros((1, 3)), cell_cc, True, 2.0)


@pytest.mark.parametrize("cutoff", [0.0, -1.0, np.nan, np.inf])
def test_error_bad_cutoff(cutoff):
    with pytest.raises(ValueError, match="cutoff must be positive and finite"):
        neighbour_list(np.zeros((1, 3)), 5 * np.eye(3), True, cutoff)


def test_error_shapes():
    with pytest.raises(ValueError, match=r"positions must have shape \(n, 3\)"):
        neighbour_list(np.zeros((4, 2)), 5 * np.eye(3), True, 2.0)
    with pytest.raises(ValueError, match=r"cell must have shape \(3, 3\)"):
        neighbour_list(np.zeros((1, 3)), np.eye(2), True, 2.0)
    with pytest.raises(ValueError, match="pbc must be one bool or three"):
        neighbour_list(np.zeros((1, 3)), 5 * np.eye(3), [True, False], 2.0)


def test_error_singular_cell():
    R_nc = np.array([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]])
    zero_cc = np.diag([5.0, 0.0, 5.0])
    with pytest.raises(ValueError, match="singular cell: cell vector 1 is zero"):
        neighbour_list(R_nc, zero_cc, True, 2.0)
    # the same zero vector along a non-periodic direction is fine
    assert len(neighbour_list(R_nc, zero_cc, [True, False, True], 2.0).i_p) == 2
    flat_cc = np.array([[4.0, 0.0, 0.0], [1.0, 3.0, 0.0], [5.0, 3.0, 0.0]])  # c = a + b
    with pytest.raises(ValueError, match="singular cell: the periodic cell vectors .* linearly"):
        neighbour_list(R_nc, flat_cc, True, 2.0)
    assert len(neighbour_list(R_nc, flat_cc, [True, True, False], 2.0).i_p) == 2
    parallel_cc = np.array([[4.0, 0.0, 0.0], [-2.0, 0.0, 0.0], [0.0, 0.0, 3.0]])
    with pytest.raises(ValueError, match="singular cell"):
        neighbour_list(R_nc, parallel_cc, [True, True, False], 2.0)


def test_error_overlapping_atoms():
    R_nc = np.array([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [2.0, 0.0, 0.0], [1.0, 1.0, 1.0 + 1e-7]])
    with pytest.raises(ValueError, match=r"atoms 1 and 3 overlap: distance 1e-07 Å"):
        neighbour_list(R_nc, 5 * np.eye(3), True, 2.0)
    with pytest.raises(ValueError, match=r"atoms 1 and 3 overlap"):
        neighbour_list(R_nc, np.zeros((3, 3)), False, 2.0)
    # a tiny cutoff still finds the overlap
    with pytest.raises(ValueError, match=r"atoms 1 and 3 overlap"):
        neighbour_list(R_nc, 5 * np.eye(3), True, 1e-9)
    nl = neighbour_list(R_nc, 5 * np.eye(3), True, 2.0, check_overlap=False)
    assert np.isclose(nl.d_p[(nl.i_p == 1) & (nl.j_p == 3)], 1e-7, rtol=1e-6, atol=0).all()


def test_error_overlapping_image():
    R_nc = np.array([[0.0, 1.0, 1.0], [3.0, 1.0, 1.0]])  # atom 1 is atom 0 shifted by a
    with pytest.raises(ValueError, match=r"atoms 0 and 1 \(image with cell shift S=\[-1, 0, 0\]\)"):
        neighbour_list(R_nc, 3 * np.eye(3), True, 2.0)
    nl = neighbour_list(R_nc, 3 * np.eye(3), [False, True, True], 2.0)  # not periodic along a
    assert len(nl.i_p) == 0


def test_error_overlapping_own_image():
    cell_cc = np.diag([5.0, 5.0, 5e-7])
    with pytest.raises(ValueError, match=r"atoms 0 and 0 \(image with cell shift S=\[0, 0, -1\]\)"):
        neighbour_list(np.zeros((1, 3)), cell_cc, True, 2.0)


# ---------------------------------------------------------------------------------------------
# small finite structures: all pairs in one kernel (no cell list)
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def cell_list_only(monkeypatch):
    """Send finite structures of any size through the cell list."""
    import nnp_ref.descriptors.neighbours as neighbours

    monkeypatch.setattr(neighbours, "ALL_PAIRS_MAX_ATOMS", 0)


@pytest.mark.parametrize("seed", range(4))
def test_finite_structures_through_the_cell_list_match_ase(seed, cell_list_only):
    """The cell list keeps being tested on finite structures (the small ones skip it)."""
    rng = np.random.default_rng(500 + seed)
    R_nc, cell_cc, pbc_c = random_structure(rng, (False, False, False), n_min=10)
    nl = assert_same_as_ase(R_nc, cell_cc, pbc_c, rng.uniform(2.0, 6.0))
    assert len(nl.i_p) > 0


@pytest.mark.parametrize("seed", range(4))
def test_all_pairs_equal_the_cell_list(seed, monkeypatch):
    """Same pairs, vectors and distances (bit for bit); the same order with one bin."""
    import nnp_ref.descriptors.neighbours as neighbours

    rng = np.random.default_rng(600 + seed)
    R_nc = rng.uniform(-4.0, 4.0, (int(rng.integers(2, 60)), 3))
    cutoff = [3.0, 20.0][seed % 2]  # several bins, then one bin
    nl_small = neighbour_list(R_nc, np.zeros((3, 3)), False, cutoff)
    monkeypatch.setattr(neighbours, "ALL_PAIRS_MAX_ATOMS", 0)
    nl_cells = neighbour_list(R_nc, np.zeros((3, 3)), False, cutoff)
    assert len(nl_small.i_p) > 0
    np.testing.assert_array_equal(nl_small.offsets_n1, nl_cells.offsets_n1)
    np.testing.assert_array_equal(nl_small.i_p, nl_cells.i_p)
    key_small, D_small, d_small = sorted_pairs(nl_small.i_p, nl_small.j_p, nl_small.S_pc,
                                               nl_small.D_pc, nl_small.d_p)  # fmt: skip
    key_cells, D_cells, d_cells = sorted_pairs(nl_cells.i_p, nl_cells.j_p, nl_cells.S_pc,
                                               nl_cells.D_pc, nl_cells.d_p)  # fmt: skip
    np.testing.assert_array_equal(key_small, key_cells)
    np.testing.assert_array_equal(D_small, D_cells)
    np.testing.assert_array_equal(d_small, d_cells)
    if cutoff > 16.0:  # one bin: the same order
        np.testing.assert_array_equal(nl_small.j_p, nl_cells.j_p)
    assert np.all(np.diff(nl_small.j_p)[np.diff(nl_small.i_p) == 0] > 0)  # j ascending


def test_all_pairs_errors_and_limits():
    R_nc = np.array([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [1.0, 1.0, 1.0 + 1e-7]])
    with pytest.raises(ValueError, match=r"atoms 1 and 2 overlap: distance 1e-07 Å"):
        neighbour_list(R_nc, np.zeros((3, 3)), False, 1e-9)  # found below the cutoff too
    with pytest.raises(ValueError, match=r"atom 0 has 2 neighbours within 5 Å \(limit"):
        neighbour_list(R_nc, np.zeros((3, 3)), False, 5.0, max_neighbours=1)
    nl = neighbour_list(R_nc, np.zeros((3, 3)), False, 1e-3, check_overlap=False)
    np.testing.assert_array_equal(nl.i_p, [1, 2])
    np.testing.assert_array_equal(nl.offsets_n1, [0, 0, 1, 2])
    nl = neighbour_list(np.zeros((1, 3)), np.zeros((3, 3)), False, 5.0)
    assert len(nl.i_p) == 0 and nl.offsets_n1.tolist() == [0, 0]


# ---------------------------------------------------------------------------------------------
# the MD skin list (``skin.py``): pairs within the cutoff from a list built with a skin
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("pbc", [(True, True, True), (True, False, True), (False, False, False)])
def test_skin_list_equals_a_fresh_list_after_moves(pbc):
    """Atoms moved by less than skin/2: no rebuild, the same pairs as a fresh list; then a
    larger move rebuilds. The pair vectors follow D = R_j - R_i + S @ cell (NumPy reference)."""
    from nnp_ref.descriptors.skin import SkinNeighbourList

    rng = np.random.default_rng(700)
    R_nc, cell_cc, pbc_c = random_structure(rng, pbc, n_min=20, lengths=(5.0, 7.0))
    skin_list = SkinNeighbourList(3.0, 1.0, cell_cc, pbc_c)
    for step, amplitude in enumerate([0.0, 0.2, 0.2, 0.8]):
        R_nc = R_nc + amplitude * rng.uniform(-1, 1, R_nc.shape) / np.sqrt(3)
        nl = skin_list.update(R_nc)
        fresh = neighbour_list(R_nc, cell_cc, pbc_c, 3.0)
        assert skin_list.n_builds == [1, 1, 1, 2][step]
        key, D_pc, d_p = sorted_pairs(nl.i_p, nl.j_p, nl.S_pc, nl.D_pc, nl.d_p)
        key_fresh, D_fresh = sorted_pairs(fresh.i_p, fresh.j_p, fresh.S_pc, fresh.D_pc)
        np.testing.assert_array_equal(key, key_fresh)
        np.testing.assert_allclose(D_pc, D_fresh, rtol=0, atol=1e-12)
        D_ref = R_nc[nl.j_p] - R_nc[nl.i_p] + nl.S_pc @ cell_cc
        np.testing.assert_allclose(nl.D_pc, D_ref, rtol=0, atol=1e-13)
        np.testing.assert_allclose(nl.d_p, np.linalg.norm(D_ref, axis=1), rtol=1e-15)
        np.testing.assert_array_equal(nl.offsets_n1, fresh.offsets_n1)
        assert np.all(np.diff(nl.i_p) >= 0)
