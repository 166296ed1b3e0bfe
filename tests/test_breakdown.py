"""Errors by structure type (nnp_ref.analysis.breakdown) on hand-made predictions."""

import numpy as np
import pytest
from ase import Atoms

from nnp_ref.analysis.breakdown import error_breakdown, labels_of, plot_breakdown, structure_class
from nnp_ref.analysis.errors import Predictions


def test_structure_classes():
    assert structure_class("md 1500 K") == "high temperature"
    assert structure_class("md 300 K") == "bulk"
    assert structure_class("md 900 K", hot_K=1000.0) == "bulk"
    assert structure_class("rattled bulk") == "bulk"
    assert structure_class("2 vacancy") == "vacancy"
    assert structure_class("surface 111") == "surface"
    assert structure_class("cluster") == "other"
    atoms = [Atoms("Cu", info={"config_type": "surface 100"}), Atoms("Cu")]
    assert labels_of(atoms) == ["surface", "other"]
    assert labels_of(atoms, coarse=False) == ["surface 100", "unlabelled"]


def test_breakdown_numbers():
    # three structures: 2 bulk (1 and 2 atoms), 1 surface (1 atom); errors in eV/atom, eV/Å
    pred = Predictions(
        E_ref_s=np.zeros(3),
        E_pred_s=np.array([0.001, -0.003, 0.004]),
        n_atoms_s=np.array([1, 2, 1]),
        F_ref_kc=np.zeros((4, 3)),
        F_pred_kc=np.array([[0.01, 0, 0], [0, 0.02, 0], [0, 0, 0.02], [0.03, 0.03, 0.03]]),
        structure_k=np.array([0, 1, 1, 2]),
    )
    b = error_breakdown(pred, ["bulk", "bulk", "surface"])
    assert b.groups == ["bulk", "surface"]
    assert b.n_structures_g.tolist() == [2, 1] and b.n_atoms_g.tolist() == [3, 1]
    assert b.rmse_E_g == pytest.approx([np.sqrt((1 + 9) / 2), 4.0], rel=1e-12)
    assert b.rmse_F_g == pytest.approx([np.sqrt((100 + 400 + 400) / 9), 30.0], rel=1e-12)
    assert b.share_E_g == pytest.approx([10 / 26, 16 / 26], rel=1e-12)
    assert b.share_F_g == pytest.approx([900 / 3600, 2700 / 3600], rel=1e-12)
    assert b.total[0] == pytest.approx(np.sqrt(26 / 3), rel=1e-12)
    assert "surface" in b.table() and "all" in b.table()
    fig = plot_breakdown({"test": b, "validation": b})
    assert len(fig.axes) == 2


def test_label_count_must_match():
    pred = Predictions(np.zeros(2), np.zeros(2), np.ones(2), np.zeros((0, 3)), np.zeros((0, 3)),
                       np.zeros(0, dtype=int))  # fmt: skip
    with pytest.raises(ValueError, match="1 labels for 2 structures"):
        error_breakdown(pred, ["bulk"])
