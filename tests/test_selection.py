"""Selection: FPS and CUR against scikit-matter, symmetry-function generation, pruning."""

import numpy as np
import pytest

from nnp_ref.data.datasets import generate_reference_data
from nnp_ref.descriptors.symmetry_functions import SymmetryFunction
from nnp_ref.model.potential import evaluate_atoms
from nnp_ref.selection.cur import cur_columns, cur_residual, cur_rows
from nnp_ref.selection.fps import fps_columns, fps_rows
from nnp_ref.selection.pruning import prune_potential, prune_report, sensitivity
from nnp_ref.selection.symmetry_function_sets import (
    generate_symmetry_functions,
    n2p2_lines,
    radial_parameters,
)
from nnp_ref.training.preprocessing import compute_descriptors, descriptor_statistics
from nnp_ref.training.trainer import Trainer, TrainingConfig, build_potential


def random_matrix(n=50, d=18, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)) @ rng.normal(size=(d, d))


# ---------------------------------------------------------------------------
# FPS and CUR: identical selections to scikit-matter
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1])
def test_fps_matches_skmatter(seed):
    skm = pytest.importorskip("skmatter")
    from skmatter.feature_selection import FPS as FeatureFPS
    from skmatter.sample_selection import FPS as SampleFPS

    X = random_matrix(seed=seed)
    ref_rows = SampleFPS(n_to_select=15, initialize=3).fit(X).selected_idx_
    ref_cols = FeatureFPS(n_to_select=10).fit(X).selected_idx_
    assert skm is not None
    np.testing.assert_array_equal(fps_rows(X, 15, initial=3), ref_rows)
    np.testing.assert_array_equal(fps_columns(X, 10), ref_cols)


@pytest.mark.parametrize("seed", [0, 1])
def test_cur_matches_skmatter(seed):
    pytest.importorskip("skmatter")
    from skmatter.feature_selection import CUR as FeatureCUR
    from skmatter.sample_selection import CUR as SampleCUR

    X = random_matrix(seed=seed)
    np.testing.assert_array_equal(cur_rows(X, 15), SampleCUR(n_to_select=15).fit(X).selected_idx_)
    np.testing.assert_array_equal(
        cur_columns(X, 10), FeatureCUR(n_to_select=10).fit(X).selected_idx_
    )


def test_fps_distances_decrease_and_cover():
    X = random_matrix(n=40, d=3)
    idx, d2 = fps_rows(X, 40, return_distances=True)
    assert sorted(idx.tolist()) == list(range(40))  # all points, none twice
    assert np.isinf(d2[0]) and np.all(np.diff(d2[1:]) <= 1e-12)


def test_cur_picks_independent_columns_first():
    # columns 3..5 are copies of 0..2: the first 3 CUR columns reproduce X exactly
    rng = np.random.default_rng(2)
    base = rng.normal(size=(30, 3))
    X = np.hstack([base, 2.0 * base])
    cols = cur_columns(X, 3)
    assert len({c % 3 for c in cols}) == 3
    assert cur_residual(X, cols) < 1e-12


def test_selection_bad_input():
    X = random_matrix(n=5, d=4)
    with pytest.raises(ValueError, match="cannot select 6 points: there are only 5"):
        fps_rows(X, 6)
    with pytest.raises(ValueError, match="cannot select 5 columns: there are only 4"):
        cur_columns(X, 5)
    with pytest.raises(ValueError, match="cannot select 0 points"):
        fps_rows(X, 0)
    X[2, 1] = np.nan
    with pytest.raises(ValueError, match=r"NaN/inf in row\(s\) \[2\]"):
        cur_rows(X, 2)


# ---------------------------------------------------------------------------
# Symmetry-function generation (values of n2p2's sfparamgen tests)
# ---------------------------------------------------------------------------


def test_radial_parameters_as_sfparamgen():
    rs, eta = radial_parameters("imbalzano2018", "shift", 2, rc=2.0)
    np.testing.assert_allclose(rs, [1.0, 2**0.5], rtol=1e-14)
    np.testing.assert_allclose(eta, [3 + 2**1.5, 1.5 + 2**0.5], rtol=1e-14)
    rs, eta = radial_parameters("imbalzano2018", "center", 2, rc=2.0)
    np.testing.assert_array_equal(rs, [0.0, 0.0])
    np.testing.assert_array_equal(eta, [0.25, 0.25])
    rs, eta = radial_parameters("gastegger2018", "center", 2, 2.0, r_lower=0.5, r_upper=1.0)
    np.testing.assert_array_equal(eta, [2.0, 0.5])
    rs, eta = radial_parameters("gastegger2018", "shift", 2, 2.0, r_lower=0.0, r_upper=1.0)
    np.testing.assert_array_equal(rs, [0.0, 1.0])
    np.testing.assert_array_equal(eta, [0.5, 0.5])
    # imbalzano centre, n = 4: eta_m = (3^(m/3)/rc)^2, widths from rc down to rc/3
    _, eta = radial_parameters("imbalzano2018", "center", 4, rc=6.0)
    np.testing.assert_allclose(eta, (3.0 ** (np.arange(4) / 3) / 6.0) ** 2, rtol=1e-14)


def test_generate_set_counts_and_order():
    sets = generate_symmetry_functions(("H", "O"), rc=6.0, n_radial=5, n_angular=3,
                                       zetas=(1.0, 4.0))  # fmt: skip
    # per centre: 2 neighbours x 5 radial + 3 pairs x 3 x 2 zetas x 2 lambdas
    assert {e: len(s) for e, s in sets.items()} == {"H": 10 + 36, "O": 10 + 36}
    first_ang = sets["H"][10]
    assert (first_ang.type, first_ang.neighbours, first_ang.lam, first_ang.zeta) == (
        3, ("H", "H"), -1.0, 1.0
    )  # fmt: skip
    lines = n2p2_lines(sets)
    assert len(lines) == 92 and lines[0].startswith("symfunction_short  H  2  H")


def test_generation_bad_input():
    with pytest.raises(ValueError, match="unknown rule"):
        radial_parameters("behler", "shift", 4, 6.0)
    with pytest.raises(ValueError, match="needs r_lower"):
        radial_parameters("gastegger2018", "shift", 4, 6.0)
    with pytest.raises(ValueError, match="at least 2"):
        radial_parameters("imbalzano2018", "shift", 1, 6.0)
    with pytest.raises(ValueError, match="r_lower < r_upper <= rc"):
        radial_parameters("gastegger2018", "center", 4, 6.0, r_lower=0.0)


# ---------------------------------------------------------------------------
# Pruning keeps the predictions of a trained potential
# ---------------------------------------------------------------------------

RC = 4.2


@pytest.fixture(scope="module")
def trained():
    structures = generate_reference_data(
        kind="emt-cu", n_structures=8, seed=3, repeats=((2, 2, 2),),
        mix={"rattled": 0.6, "vacancy": 0.4}, progress=False,
    )  # fmt: skip
    train, test = structures[:6], structures[6:]
    sfs = generate_symmetry_functions(("Cu",), rc=RC, n_radial=4, n_angular=3, zetas=(1.0,))
    base = sfs["Cu"]
    constant = SymmetryFunction(2, "Cu", ("Cu",), RC, eta=500.0, rs=0.0, cutoff_type=6)
    # a constant function (G = 0: exp(-500 r^2) underflows) and two exact duplicates
    functions = {"Cu": [base[0], constant, *base[1:], base[2], base[5]]}
    potential, descriptors = build_potential(
        train, symmetry_functions=functions, hidden=(6,), seed=2, progress=False
    )
    config = TrainingConfig(epochs=3, progress=False, learning_rate=1e-2, batch_size=2)
    result = Trainer(potential, train, config=config, train_descriptors=descriptors).fit()
    return result.potential, train, test, descriptors


def test_prune_constant_and_correlated_keeps_predictions(trained):
    potential, train, test, descriptors = trained
    n_s = len(potential.symmetry_functions["Cu"])
    report = prune_report(
        descriptors, ("Cu",), range_threshold=1e-8, correlation_threshold=1 - 1e-9
    )
    dropped = sorted(report.reasons["Cu"])
    assert dropped == [1, n_s - 2, n_s - 1]  # the constant and the two duplicates
    assert "range" in report.reasons["Cu"][1] and "correlation" in report.reasons["Cu"][n_s - 1]
    pruned = prune_potential(potential, report.keep, descriptors)
    assert len(pruned.symmetry_functions["Cu"]) == n_s - 3
    # stated tolerance: 1e-9 eV (energies), 1e-9 eV/Å (forces), on training and unseen data
    for atoms in train + test:
        a = evaluate_atoms(potential, atoms, extrapolation="off")
        b = evaluate_atoms(pruned, atoms, extrapolation="off")
        assert abs(a.energy - b.energy) < 1e-9
        np.testing.assert_allclose(b.forces_nc, a.forces_nc, rtol=0, atol=1e-9)


def test_sensitivity_and_sensitivity_pruning(trained):
    potential, _, _, descriptors = trained
    G_as = descriptor_statistics(descriptors, ("Cu",))["Cu"]
    S = sensitivity(potential, "Cu", G_as)
    assert S.sum() == pytest.approx(100.0) and np.all(S >= 0.0)
    S_max = sensitivity(potential, "Cu", G_as, kind="max")
    assert S_max.sum() == pytest.approx(100.0)
    report = prune_report(descriptors, ("Cu",), range_threshold=None,
                          sensitivity_threshold=float(np.sort(S)[3]) + 1e-12,
                          potential=potential)  # fmt: skip
    assert int((~report.keep["Cu"]).sum()) == 4
    with pytest.raises(ValueError, match="needs a trained potential"):
        prune_report(descriptors, ("Cu",), sensitivity_threshold=1.0)
    with pytest.raises(ValueError, match="every symmetry function"):
        prune_report(descriptors, ("Cu",), range_threshold=1e9)


def test_pruned_descriptors_recomputed(trained):
    # the pruned potential computes only its kept functions
    potential, train, _, descriptors = trained
    report = prune_report(descriptors, ("Cu",), range_threshold=1e-8)
    pruned = prune_potential(potential, report.keep, descriptors)
    d = compute_descriptors(train[:1], pruned.descriptor, progress=False)[0]
    np.testing.assert_allclose(
        d.G_ns[:, : d.n_s_e[0]], descriptors[0].G_ns[:, report.keep["Cu"]], atol=1e-12
    )


def test_feature_selections_on_descriptors(trained):
    from nnp_ref.selection.features import (
        atom_features,
        select_structures,
        select_symmetry_functions,
        standardize,
        structure_features,
    )

    potential, train, _, descriptors = trained
    G_as = atom_features(descriptors, ("Cu",), "Cu")
    n_s = G_as.shape[1]
    # the first picks carry new information: never the constant (1) or a duplicate pair
    picked = select_symmetry_functions(G_as, 5, method="cur")
    assert 1 not in picked  # a constant column carries nothing
    duplicates = {(2, n_s - 2), (6, n_s - 1)}  # base[1] -> index 2, base[5] -> index 6
    assert not any(a in picked and b in picked for a, b in duplicates)
    F = structure_features(descriptors, ("Cu",), potential.scalings)
    assert F.shape == (len(train), n_s)
    np.testing.assert_array_equal(select_structures(F, 4), fps_rows(standardize(F), 4))
    np.testing.assert_array_equal(select_structures(F, 4, "cur"), cur_rows(standardize(F), 4))
    with pytest.raises(ValueError, match="cannot select 7 points: there are only 6"):
        select_structures(F, 7)
    with pytest.raises(ValueError, match="method must be one of"):
        select_symmetry_functions(G_as, 2, method="random")


def test_from_elements_and_cutoff_to_a_small_set(trained):
    from nnp_ref.selection.features import reduce_symmetry_functions

    _, train, _, _ = trained
    sets = generate_symmetry_functions(("Cu",), rc=RC, n_radial=6, n_angular=2, zetas=(1.0, 4.0))
    small, text = reduce_symmetry_functions(train, sets, n_per_element=5)
    assert len(small["Cu"]) == 5 and all(sf in sets["Cu"] for sf in small["Cu"])
    order = [sets["Cu"].index(sf) for sf in small["Cu"]]
    assert order == sorted(order)
    # imbalzano centre with n = 2 gives identical angular widths: pruned as duplicates
    assert "correlation" in text and "CUR keeps 5" in text
