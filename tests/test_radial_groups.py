"""The kernel's sharing (radial legs, radial groups, element blocks) and the lean path.

``nnp_ref.descriptors.neighbour_index`` lets functions with one radial part
share a leg per pair and a radial product per triplet; the kernel visits
neighbours in element blocks. These tests use sets where much is shared
(radial and angular functions of one eta, narrow and wide of one eta, two
cutoff radii in one element triple, weighted and element-resolved types)
and compare with the slow reference and with finite differences; the
memory-lean forces are compared with the stored-derivative forces on the
published water potential's 1080-atom box.
"""

import math

import numpy as np
import pytest

from nnp_ref.descriptors.cutoff import CT_TANH, CT_TANHU, cutoff_function
from nnp_ref.descriptors.neighbour_index import radial_legs
from nnp_ref.descriptors.symmetry_functions import SymmetryFunction, SymmetryFunctionSet
from nnp_ref.descriptors.terms import ETA, RC, real_power, whole_power
from tests.finite_differences import position_derivative
from tests.reference_sf import ref_descriptors
from tests.test_symmetry_functions import dense_dG, random_structure


def shared_sets(cutoff_type):
    """H/O functions that share legs: one (eta, r_s) for radial, narrow and wide types."""
    sets = {}
    for c in ("H", "O"):
        sfs = [SymmetryFunction(2, c, (nb,), 4.0, eta=0.3, rs=0.5) for nb in ("H", "O")]
        sfs.append(SymmetryFunction(12, c, (), 4.0, eta=0.3, rs=0.5))
        for zeta in (1.0, 2.0, 4.0, 16.0, 3.5):
            for lam in (1.0, -1.0):
                sfs.append(
                    SymmetryFunction(3, c, ("H", "O"), 4.0, eta=0.3, rs=0.5, zeta=zeta, lam=lam)
                )
        sfs += [
            SymmetryFunction(9, c, ("H", "O"), 4.0, eta=0.3, rs=0.5, zeta=2.0, lam=1.0),
            SymmetryFunction(3, c, ("O", "H"), 3.2, eta=0.3, rs=0.5, zeta=1.0, lam=-1.0),
            SymmetryFunction(3, c, ("H", "H"), 4.0, eta=0.1, zeta=1.0, lam=1.0),
            SymmetryFunction(13, c, (), 4.0, eta=0.1, zeta=1.0, lam=-1.0),
            SymmetryFunction(9, c, ("O", "O"), 3.2, eta=0.1, zeta=4.0, lam=1.0),
        ]
        sets[c] = [SymmetryFunction(**{**sf.__dict__, "cutoff_type": cutoff_type}) for sf in sfs]
    return sets


def test_legs_and_groups_of_a_shared_set():
    """Legs: (r_c, eta, r_s) = (4, .3, .5), (3.2, .3, .5), (4, .1, 0), (3.2, .1, 0)."""
    sfs = SymmetryFunctionSet(shared_sets(1), ("H", "O"))
    leg_s, leg_row_k, leg_cut_k = radial_legs(sfs.table_esq[0], sfs.n_s_e[0])
    assert len(leg_row_k) == 4 and len(set(leg_cut_k)) == 2  # two cutoff radii
    assert len(set(leg_s[:13])) == 1  # radial, weighted radial and 10 narrow: one leg
    for k in range(4):  # legs sharing a cutoff are consecutive
        assert leg_cut_k[k] in (leg_cut_k[max(k - 1, 0)], max(leg_cut_k[:k], default=-1) + 1)
    (_, _, _, leg_used_eek), _, angular, rjk_limit_eee = sfs.index
    # An H neighbour feeds no function of leg (3.2, .1, 0) (only the (O, O) wide type uses
    # it): its pairs skip that leg; an O neighbour uses all four.
    rows_k = sfs.table_esq[0, leg_row_k]
    only_oo = int(np.flatnonzero((rows_k[:, RC] == 3.2) & (rows_k[:, ETA] == 0.1))[0])
    assert not leg_used_eek[0, 0, only_oo] and leg_used_eek[0, 0].sum() == 3
    assert leg_used_eek[0, 1].sum() == 4
    group_count_eee, _, group_narrow_eeer, group_stop_eeer = angular[:4]
    # H centre, neighbours (H, O): the 10 narrow of leg (4, .3, .5), the wide one,
    # the narrow one with r_c = 3.2 and the weighted narrow one (eta .1): 4 groups.
    assert group_count_eee[0, 0, 1] == group_count_eee[0, 1, 0] == 4
    assert group_stop_eeer[0, 0, 1, 3] == 13
    assert sorted(group_narrow_eeer[0, 0, 1, :4]) == [False, True, True, True]
    assert rjk_limit_eee[0, 0, 1] == np.inf  # a wide function: no r_jk limit
    assert rjk_limit_eee[0, 0, 0] == 4.0  # (H, H): narrow types only


@pytest.mark.parametrize("cutoff_type", [1, 2])
@pytest.mark.parametrize("seed,pbc", [(40, (True, True, True)), (41, (False, False, False))])
def test_shared_set_matches_reference_and_finite_differences(cutoff_type, seed, pbc):
    atoms = random_structure(seed, n=12, pbc=pbc)
    sets = shared_sets(cutoff_type)
    sfs = SymmetryFunctionSet(sets, ("H", "O"))
    desc = sfs.compute_atoms(atoms)
    reference = ref_descriptors(atoms, sets)
    for i, row in enumerate(reference):
        np.testing.assert_allclose(desc.G_ns[i, : len(row)], row, rtol=1e-12, atol=1e-14)
    assert np.all(np.abs(desc.G_ns).max(axis=0) > 1e-7)  # every function is exercised
    analytic = dense_dG(desc, len(atoms))
    numeric = position_derivative(lambda a: sfs.compute_atoms(a, False).G_ns, atoms, h=1e-5)
    np.testing.assert_allclose(analytic, numeric, rtol=0, atol=1e-7 * np.abs(numeric).max())


def test_whole_power_and_real_power_equal_pow():
    x = np.random.default_rng(0).uniform(0.01, 2.0, 50)
    for n in range(65):
        for value in x:
            assert whole_power(value, n) == pytest.approx(value**n, rel=1e-13)
            assert real_power(value, float(n)) == pytest.approx(value**n, rel=1e-13)
    assert real_power(1.7, 2.5) == pytest.approx(1.7**2.5, rel=1e-15)
    assert real_power(1.7, -2.0) == pytest.approx(1.7**-2.0, rel=1e-15)


@pytest.mark.parametrize("kind", [CT_TANHU, CT_TANH])
def test_tanh_cutoffs_with_one_exp_equal_math_tanh(kind):
    """tanh(y) = 1 - 2 / (exp(2y) + 1): the same values as libm's tanh to 1e-15."""
    pre = 1.0 if kind == CT_TANHU else 1.0 / math.tanh(1.0) ** 3
    for r in np.linspace(0.0, 5.0, 1001):
        t = math.tanh(1.0 - r / 5.0)
        f, df = cutoff_function(r, 5.0, 0.0, kind)
        assert f == pytest.approx(pre * t**3, rel=0, abs=1e-15)
        assert df == pytest.approx(pre * 3.0 * t**2 * (t**2 - 1.0) / 5.0, rel=0, abs=1e-15)


def test_lean_path_equals_stored_derivatives_water_box(n2p2_dir, monkeypatch):
    """1080-atom water (RPBE-D3): lean forces and stress equal the stored ones to 1e-12,
    in one block and in many blocks of atoms."""
    import ase.units

    import nnp_ref.model.potential as pot
    from nnp_ref.io.n2p2 import read_data, read_potential

    folder = n2p2_dir / "H2O_RPBE-D3"
    units = dict(length_unit=ase.units.Bohr, energy_unit=ase.units.Hartree)
    atoms = read_data(folder / "input.data", **units)[0]
    potential = read_potential(folder, **units)
    kwargs = dict(extrapolation="off")
    stored = pot.evaluate_atoms(potential, atoms, store_derivatives=True, **kwargs)
    for block_bytes in (pot.LEAN_BLOCK_BYTES, 200_000):
        monkeypatch.setattr(pot, "LEAN_BLOCK_BYTES", block_bytes)
        lean = pot.evaluate_atoms(potential, atoms, store_derivatives=False, **kwargs)
        np.testing.assert_array_equal(lean.descriptors.G_ns, stored.descriptors.G_ns)
        assert lean.energy == stored.energy
        for a, b in [(lean.forces_nc, stored.forces_nc), (lean.stress_cc, stored.stress_cc)]:
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-12 * np.abs(b).max())
