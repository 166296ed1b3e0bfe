"""The r_jk pair table of small finite structures: the numbers of the triplet loop, faster.

``nnp_ref.descriptors.pair_table`` replaces, for structures without image
pairs, the per-triplet R_k(r_jk) of narrow angular functions by a lookup in a
table over atom pairs. Checked: the table's entries against the closed form,
descriptors with and without the table (1e-13 relative: r_jk is |R_k - R_j|
there, |D_ik - D_ij| in the loop), finite differences through the table path
(exponential and compact types), and which structures get a table.
"""

import math

import numpy as np
import pytest

from nnp_ref.descriptors import pair_table as pt
from nnp_ref.descriptors.cutoff import cutoff_function
from nnp_ref.descriptors.neighbours import neighbour_list
from nnp_ref.descriptors.symmetry_functions import SymmetryFunctionSet, element_indices
from nnp_ref.descriptors.terms import ETA, RC, RS
from tests.finite_differences import position_derivative
from tests.test_symmetry_functions import (
    compact_sets,
    dense_dG,
    random_structure,
    sf_sets_two_elements,
)

SETS = {"exponential": sf_sets_two_elements, "compact": compact_sets}


def finite(seed, n=14):
    return random_structure(seed, n=n, pbc=(False, False, False), box=4.5)


def descriptors(sfs, atoms, with_table):
    elem_n = element_indices(atoms.get_chemical_symbols(), sfs.elements)
    nl = neighbour_list(atoms.positions, atoms.cell.array, atoms.pbc, sfs.cutoff)
    table = sfs.pair_table(nl, elem_n) if with_table else pt.empty_pair_table(sfs.jk_columns[0])
    return sfs.compute_block(elem_n, nl, 0, len(atoms), jk_table=table)


def test_columns_are_the_narrow_legs_numbered_once():
    sfs = SymmetryFunctionSet(sf_sets_two_elements(), ("H", "O"))
    column_ek, used_eeek = sfs.jk_columns
    numbers = column_ek[column_ek >= 0]
    assert sorted(numbers.tolist()) == list(range(len(numbers)))  # 0, 1, ... each once
    # the set has three narrow functions per element (types 3 with eta 0.1 for (H, O),
    # 0.05 for (O, H), 0.02 for (H, H)) and the type 13 (narrow, eta 0.04, any
    # elements): four narrow legs per element
    assert np.count_nonzero(column_ek >= 0, axis=1).tolist() == [4, 4]
    leg_eta = sfs.table_esq[0, sfs.index[0][1][0], ETA]  # eta of H's legs
    H, O = 0, 1
    for (f, g), etas in {(H, O): {0.1, 0.05, 0.04}, (H, H): {0.02, 0.04}, (O, O): {0.04}}.items():
        assert set(leg_eta[used_eeek[H, f, g]].tolist()) == etas
        np.testing.assert_array_equal(used_eeek[H, f, g], used_eeek[H, g, f])


def test_table_entries_are_the_legs_closed_form():
    sfs = SymmetryFunctionSet(sf_sets_two_elements(), ("H", "O"))
    atoms = finite(3)
    nl = neighbour_list(atoms.positions, atoms.cell.array, atoms.pbc, sfs.cutoff)
    elem_n = element_indices(atoms.get_chemical_symbols(), sfs.elements)
    column_ek, R_jkq, dR_jkq = sfs.pair_table(nl, elem_n)
    used_eeek = sfs.jk_columns[1]
    leg_row_ek = sfs.index[0][1]
    checked = skipped = 0
    for e in range(2):
        for k in np.flatnonzero(column_ek[e] >= 0):
            row = sfs.table_esq[e, leg_row_ek[e, k]]
            for p in range(0, len(nl.d_p), 7):
                r = nl.d_p[p]
                q, i, j = column_ek[e, k], nl.i_p[p], nl.j_p[p]
                if not used_eeek[e, elem_n[i], elem_n[j], k]:
                    assert R_jkq[i, j, q] == dR_jkq[i, j, q] == 0.0  # never read: not made
                    skipped += 1
                    continue
                fc, dfc = cutoff_function(r, row[RC], 0.0, 1)  # cos cutoff of this set
                gauss = math.exp(-row[ETA] * (r - row[RS]) ** 2)
                R = gauss * fc
                dR = gauss * (dfc - 2.0 * row[ETA] * (r - row[RS]) * fc)
                assert R_jkq[i, j, q] == pytest.approx(R, rel=1e-14, abs=1e-300)
                assert dR_jkq[i, j, q] == pytest.approx(dR, rel=1e-14, abs=1e-300)
                assert R_jkq[j, i, q] == R_jkq[i, j, q] and R > 0.0
                checked += 1
    assert checked > 40 and skipped > 10
    pairs = np.zeros((len(atoms), len(atoms)), dtype=bool)
    pairs[nl.i_p, nl.j_p] = True
    assert not np.any(R_jkq[~pairs])  # no entry outside the list


@pytest.mark.parametrize("name", SETS)
@pytest.mark.parametrize("seed", [5, 6])
def test_same_descriptors_with_and_without_the_table(name, seed):
    sfs = SymmetryFunctionSet(SETS[name](), ("H", "O"))
    atoms = finite(seed)
    with_table, without = descriptors(sfs, atoms, True), descriptors(sfs, atoms, False)
    for a, b in zip(with_table[:3], without[:3], strict=True):
        assert np.abs(b).max() > 0
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-13 * np.abs(b).max())


@pytest.mark.parametrize("name", SETS)
def test_derivatives_through_the_table_vs_finite_differences(name):
    sfs = SymmetryFunctionSet(SETS[name](), ("H", "O"))
    atoms = finite(7, n=10)
    desc = sfs.compute_atoms(atoms)
    assert sfs.pair_table(desc.nl, desc.elem_n)[1].size > 0  # the table path ran
    analytic = dense_dG(desc, len(atoms))
    numeric = position_derivative(lambda a: sfs.compute_atoms(a, False).G_ns, atoms, h=1e-5)
    np.testing.assert_allclose(analytic, numeric, rtol=0, atol=1e-7 * np.abs(numeric).max())


def test_which_structures_get_a_table(monkeypatch):
    sfs = SymmetryFunctionSet(sf_sets_two_elements(), ("H", "O"))
    for atoms, expected in [(finite(8), True), (random_structure(8, n=14), False)]:
        nl = neighbour_list(atoms.positions, atoms.cell.array, atoms.pbc, sfs.cutoff)
        elem_n = element_indices(atoms.get_chemical_symbols(), sfs.elements)
        column_ek, R_jkq, _ = sfs.pair_table(nl, elem_n)
        assert (R_jkq.size > 0) == expected  # periodic images: no table
        assert np.array_equal(column_ek, sfs.jk_columns[0]) == expected  # empty: all -1
    monkeypatch.setattr(pt, "TABLE_MAX_ATOMS", 5)
    atoms = finite(8)
    nl = neighbour_list(atoms.positions, atoms.cell.array, atoms.pbc, sfs.cutoff)
    elem_n = element_indices(atoms.get_chemical_symbols(), sfs.elements)
    assert sfs.pair_table(nl, elem_n)[1].size == 0  # too many atoms for a table
