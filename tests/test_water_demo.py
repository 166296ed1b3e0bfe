"""The water steps of the demo on the shipped clusters, shrunk to seconds."""

import dataclasses
import json

import numpy as np
import pytest

from nnp_ref.course import water_demo
from nnp_ref.data import make_water_clusters as recipe

pytest.importorskip("pyscf")

QUICK = dataclasses.replace(water_demo.WATER_QUICK, md_n_molecules=1, md_steps=10, md_every=5)


@pytest.fixture(scope="module")
def shipped():
    if not recipe.SHIPPED.is_file():
        pytest.skip(f"{recipe.SHIPPED} not generated yet")
    return water_demo.water_data()


def test_split_holds_out_the_tagged_test_clusters(shipped):
    split = water_demo.split_water(shipped, QUICK)
    assert split.test and all(a.info["set"] == "test" for a in split.test)
    assert all(a.info["set"] == "train" for a in split.train + split.validation)
    assert len(split.validation) >= 1
    assert len(split.train) + len(split.validation) + len(split.test) == len(shipped)


def test_water_demo_trains_tests_runs_md_and_checks_frames_with_live_dft(shipped, tmp_path):
    metrics = water_demo.run_water_demo(tmp_path, QUICK, progress=False, say=lambda *a: None)
    for name in ("model.json", "parity.png", "md_dft_check.png", "metrics.json"):
        assert (tmp_path / name).is_file(), name
    assert json.loads((tmp_path / "metrics.json").read_text())["test"]["n_structures"] > 0
    test = metrics["test"]
    assert np.isfinite(test["rmse_energy_meV_per_atom"]) and test["n_extrapolating"] >= 0
    check = metrics["dft_check"]
    assert check["frame"] == [0]
    # frame 0 is the held-out cluster MD started from: live DFT equals its stored label
    test_set = water_demo.split_water(shipped, QUICK).test
    start = water_demo.md_start(test_set, QUICK)
    stored = [a for a in test_set if np.array_equal(a.positions, start.positions)][0]
    assert check["E_dft"][0] == pytest.approx(stored.get_potential_energy(), abs=1e-5)
    assert np.isfinite(check["F_rmse_meV_per_A"][0]) and check["dft_s"][0] > 0
