"""The active-learning run's summary: ``report.csv`` and ``report.png`` in the workdir."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from nnp_ref.io.model_json import atomic_write_text

REPORT_COLUMNS = ("iteration", "n_train", "n_calculations", "md_frames", "md_max_force_std",
                  "md_mean_force_std", "md_max_extrapolation", "n_accurate", "n_candidates",
                  "n_beyond_trust", "n_selected", "n_labelled",
                  "test_rmse_energy_meV_per_atom", "test_rmse_force_meV_per_A")  # fmt: skip


def write_summary(wd: Path, reports: list) -> None:
    """``report.csv`` (one row per iteration) and ``report.png`` (spread and test error)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=REPORT_COLUMNS, extrasaction="ignore",
                            lineterminator="\n")  # fmt: skip
    writer.writeheader()
    for r in reports:
        writer.writerow({k: r.get(k, "") for k in REPORT_COLUMNS})
    atomic_write_text(wd / "report.csv", buffer.getvalue())
    if not reports:
        return
    import matplotlib.pyplot as plt

    n = [r["n_train"] for r in reports]
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot(n, [1e3 * r["md_max_force_std"] for r in reports], "o-", label="max force spread (MD)")
    if "test_rmse_force_meV_per_A" in reports[0]:
        ax.plot(n, [r["test_rmse_force_meV_per_A"] for r in reports], "s-",
                label="test force RMSE")  # fmt: skip
    ax.set_xlabel("reference calculations in training set")
    ax.set_ylabel("meV/Å")
    ax.set_yscale("log")
    ax.legend()
    fig.tight_layout()
    fig.savefig(wd / "report.png", dpi=110)
    plt.close(fig)


__all__ = ["REPORT_COLUMNS", "write_summary"]
