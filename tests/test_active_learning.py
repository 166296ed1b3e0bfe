"""Active learning: config, the loop's stopping rules and records, failing labellers, resume."""

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from nnp_ref.active_learning import ActiveLearningConfig, load_config, run_active_learning
from nnp_ref.active_learning.loop import make_labeller_from
from nnp_ref.cli.active_learn import EXAMPLE_CONFIG
from nnp_ref.data.database import read_database
from nnp_ref.data.labellers import ASELabeller, LabelError
from nnp_ref.model.committee import Committee

REPO = Path(__file__).resolve().parents[1]
TINY = dict(
    n_initial=4, repeat=(1, 1, 1), temperatures=(600.0,), starts=("bulk", "vacancy"), steps=16,
    sample_every=4, n_members=2, hidden=(4,), epochs=3, warm_epochs=4, rc=4.0, n_radial=3,
    n_angular=1, n_select=2, max_labels=9, max_iterations=3, target_force_std=0.001,
    trust_lo=0.001, trust_hi=100.0,
)  # fmt: skip


class FlakyEMT(ASELabeller):
    """EMT that fails (LabelError) on MD frames taken at steps divisible by 8."""

    def __init__(self):
        from ase.calculators.emt import EMT

        super().__init__(EMT(), identity="ase:EMT(flaky test)")

    def __call__(self, atoms):
        if atoms.info.get("md_step", 1) % 8 == 0:
            raise LabelError("SCF did not converge (test)")
        return super().__call__(atoms)


class FreshEMT(ASELabeller):
    """EMT with a new calculator per structure: ASE's EMT keeps the neighbour list of the
    previous structure, which changes the summation order (labels differ by ~1e-15 eV
    depending on what was labelled before, e.g. before and after a restart)."""

    def __init__(self):
        from ase.calculators.emt import EMT

        super().__init__(EMT())

    def __call__(self, atoms):
        from ase.calculators.emt import EMT

        self.calculator = EMT()
        return super().__call__(atoms)


class KillingEMT(FreshEMT):
    """SIGKILLs its process at call number $NNP_REF_TEST_KILL_AT (once, then a marker file)."""

    calls = 0

    def __call__(self, atoms):
        KillingEMT.calls += 1
        kill_at = int(os.environ.get("NNP_REF_TEST_KILL_AT", "0"))
        marker = Path(os.environ.get("NNP_REF_TEST_KILL_MARKER", "/nonexistent"))
        if KillingEMT.calls == kill_at and not marker.exists():
            marker.write_text("killed\n")
            os.kill(os.getpid(), signal.SIGKILL)
        return super().__call__(atoms)


def killing_labeller():
    return KillingEMT()


# ---------------------------------------------------------------------------
# Config
# ---------------------------------------------------------------------------


def test_example_config_loads_and_bad_keys_are_named(tmp_path):
    path = tmp_path / "al.toml"
    path.write_text(EXAMPLE_CONFIG)
    cfg = load_config(path)
    assert cfg.n_members == 4 and cfg.temperatures == (300.0, 900.0, 1500.0)
    assert Path(cfg.workdir) == tmp_path / "al_run"
    path.write_text(EXAMPLE_CONFIG.replace("n_select = 8", "n_selekt = 8"))
    with pytest.raises(ValueError, match=r"al.toml: \[selection\] n_selekt: unknown key"):
        load_config(path)
    path.write_text(EXAMPLE_CONFIG.replace("n_members = 4", "n_members = 1"))
    with pytest.raises(ValueError, match=r"\[committee\] n_members = 1: a committee needs"):
        load_config(path)
    path.write_text(EXAMPLE_CONFIG.replace("steps = 200", "steps = -5"))
    with pytest.raises(ValueError, match=r"\[md\] steps = -5: must be > 0"):
        load_config(path)
    with pytest.raises(ValueError, match="cannot import"):
        make_labeller_from("nnp_ref.nothing_here:factory")


# ---------------------------------------------------------------------------
# The loop
# ---------------------------------------------------------------------------


def test_loop_stops_at_budget_and_records_everything(tmp_path):
    cfg = ActiveLearningConfig(workdir=str(tmp_path / "run"), **TINY)
    result = run_active_learning(cfg, progress=False)
    # a target of 1 meV/Å is out of reach for this tiny committee: the budget stops the loop
    assert result.stopped.startswith("budget of 9 reference calculations spent; target not reached")
    rows = read_database(tmp_path / "run" / "labels.db")
    assert len(rows) == 9
    assert [r.info["iteration"] for r in rows[:4]] == [0, 0, 0, 0]
    active = [r for r in rows if r.info.get("source") == "active"]
    assert len(active) == 5 and all("max_force_std" in r.info for r in active)
    reports = result.reports
    assert [r["n_train"] for r in reports] == [4 + 2 * k for k in range(len(reports) - 1)] + [9]
    assert all(r["md_frames"] == 8 for r in reports)
    assert (tmp_path / "run" / "report.csv").read_text().count("\n") == len(reports) + 1
    assert (tmp_path / "run" / "report.png").is_file()
    assert isinstance(result.committee, Committee) and len(result.committee) == 2
    # a second call finds everything done and returns the same result
    again = run_active_learning(cfg, progress=False)
    assert (
        again.stopped == result.stopped and len(read_database(tmp_path / "run" / "labels.db")) == 9
    )
    # other settings in the same workdir are refused
    with pytest.raises(ValueError, match="other settings"):
        run_active_learning(ActiveLearningConfig(workdir=cfg.workdir, **{**TINY, "seed": 1}))


def test_failing_labeller_is_recorded_and_the_loop_goes_on(tmp_path):
    cfg = ActiveLearningConfig(workdir=str(tmp_path / "run"), **{**TINY, "max_labels": 12})
    result = run_active_learning(cfg, labeller=FlakyEMT(), progress=False)
    failures = [f for r in result.reports for f in r.get("failures", [])]
    assert failures and all("SCF did not converge (test)" in reason for _, reason in failures)
    rows = read_database(tmp_path / "run" / "labels.db", include_failed=True)
    failed = [r for r in rows if r.info["status"] == "failed"]
    assert len(failed) == len(failures) and all(r.info["md_step"] % 8 == 0 for r in failed)
    assert len(result.reports) >= 2  # went on after the failures
    assert result.stopped.startswith("reached max_iterations = 3")


def test_converges_when_target_is_reached(tmp_path):
    cfg = ActiveLearningConfig(workdir=str(tmp_path / "run"), **{**TINY, "target_force_std": 5.0})
    result = run_active_learning(cfg, progress=False)
    assert result.stopped.startswith("converged: max committee force spread")
    assert len(result.reports) == 1 and len(read_database(tmp_path / "run" / "labels.db")) == 4


# ---------------------------------------------------------------------------
# Resume after SIGKILL
# ---------------------------------------------------------------------------

RUN = """
import os, sys, threading, time
from pathlib import Path
from nnp_ref.active_learning import ActiveLearningConfig, run_active_learning
watch = os.environ.get("NNP_REF_TEST_KILL_WHEN")
if watch:
    def killer():
        while not Path(watch).exists():
            time.sleep(0.0005)
        os.kill(os.getpid(), 9)
    threading.Thread(target=killer, daemon=True).start()
labeller = "tests.test_active_learning:killing_labeller"
cfg = ActiveLearningConfig(workdir=sys.argv[1], labeller=labeller, **{tiny})
run_active_learning(cfg, progress=False)
"""


def _run(workdir, env):
    script = textwrap.dedent(RUN).replace("{tiny}", repr(TINY))
    env = {**os.environ, "PYTHONPATH": str(REPO), **env}
    return subprocess.run([sys.executable, "-c", script, str(workdir)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600)  # fmt: skip


def _snapshot(workdir):
    rows = read_database(Path(workdir) / "labels.db", include_failed=True)
    table = [(r.info["key"], r.info["status"], r.info["iteration"]) for r in rows]
    energies = [r.get_potential_energy() for r in rows]
    forces = [r.get_forces() for r in rows]
    weights = [
        [W for p in Committee.load(d) for W in p.networks["Cu"].weights]
        for d in sorted(Path(workdir).glob("iter_*/committee"))
    ]
    return table, energies, forces, weights


@pytest.mark.slow
def test_resume_after_kill_during_labelling_and_training(tmp_path):
    reference = tmp_path / "reference"
    cfg = ActiveLearningConfig(workdir=str(reference), labeller=(
        "tests.test_active_learning:killing_labeller"), **TINY)  # fmt: skip
    run_active_learning(cfg, progress=False)

    killed = tmp_path / "killed"
    marker = tmp_path / "marker"
    # 1) killed at the 6th reference calculation: during the labelling of iteration 0's picks
    out = _run(killed, {"NNP_REF_TEST_KILL_AT": "6", "NNP_REF_TEST_KILL_MARKER": str(marker)})
    assert out.returncode == -signal.SIGKILL, out.stderr
    assert len(read_database(killed / "labels.db")) == 5  # 4 initial + 1 of 2
    # 2) killed the moment member 0 of iteration 1 is written: during training
    member0 = killed / "iter_001" / "committee" / "member_000.json"
    out = _run(killed, {"NNP_REF_TEST_KILL_WHEN": str(member0)})
    assert out.returncode == -signal.SIGKILL, out.stderr
    assert member0.is_file() and not (killed / "iter_001" / "report.json").exists()
    # 3) resumed to the end
    out = _run(killed, {})
    assert out.returncode == 0, out.stderr
    a, b = _snapshot(reference), _snapshot(killed)
    assert a[0] == b[0]  # same rows: keys, status, iteration, in the same order
    np.testing.assert_array_equal(a[1], b[1])
    for Fa, Fb in zip(a[2], b[2]):
        np.testing.assert_array_equal(Fa, Fb)
    assert len(a[3]) == len(b[3])
    for Wa, Wb in zip(a[3], b[3]):
        for x, y in zip(Wa, Wb):
            np.testing.assert_array_equal(x, y)
    # and the same reports (but for timings)
    for path in sorted(reference.glob("iter_*/report.json")):
        a = json.loads(path.read_text())
        b = json.loads((killed / path.parent.name / "report.json").read_text())
        a.pop("committee_time_s"), b.pop("committee_time_s")
        assert a == b


def test_cli_command_runs_a_config(tmp_path, capsys):
    import argparse

    from nnp_ref.active_learning.config import TABLES
    from nnp_ref.cli import active_learn

    def toml_value(v):
        if isinstance(v, (tuple, list)):
            return "[" + ", ".join(toml_value(x) for x in v) + "]"
        return f'"{v}"' if isinstance(v, str) else repr(v)

    settings = {**TINY, "target_force_std": 5.0}
    lines = ['workdir = "run"']
    for table, keys in TABLES.items():
        lines.append(f"[{table}]")
        lines += [f"{k} = {toml_value(settings[k])}" for k in keys if k in settings]
    path = tmp_path / "al.toml"
    path.write_text("\n".join(lines) + "\n")
    parser = argparse.ArgumentParser()
    parser.add_argument("-q", "--quiet", action="store_true")
    active_learn.add_arguments(parser)
    assert active_learn.run(parser.parse_args(["--example-config"])) == 0
    assert "[committee]" in capsys.readouterr().out
    assert active_learn.run(parser.parse_args([str(path), "-q"])) == 0
    assert (tmp_path / "run" / "report.csv").is_file()
    assert active_learn.NAME == "active-learn"


def test_frames_round_trip_exactly(tmp_path):
    from nnp_ref.active_learning.frames import load_frames, save_frames
    from nnp_ref.active_learning.starts import md_starts

    starts = md_starts(ActiveLearningConfig(**{**TINY, "starts": ("bulk", "surface")}))
    starts[0].positions += 1e-9 * np.arange(12).reshape(4, 3)  # below extxyz's precision
    save_frames(tmp_path / "f.npz", starts)  # the slab's info holds nested numpy arrays
    back = load_frames(tmp_path / "f.npz")
    for a, b in zip(starts, back):
        np.testing.assert_array_equal(a.positions, b.positions)
        np.testing.assert_array_equal(a.cell.array, b.cell.array)
        assert a.get_chemical_symbols() == b.get_chemical_symbols()
        assert b.info["start"] == a.info["start"]


# ---------------------------------------------------------------------------
# Trust window (DP-GEN's model deviation) and start structures
# ---------------------------------------------------------------------------


def _frame(sigma, x=0.0, step=10):
    from ase import Atoms

    atoms = Atoms("Cu", positions=[[0.0, 0.0, 0.0]])
    atoms.info.update(max_force_std=sigma, max_extrapolation=x, md_step=step)
    return atoms


def test_trust_window_counts_and_eligible_frames():
    from nnp_ref.active_learning.steps import eligible_frames, trust_window_counts

    cfg = ActiveLearningConfig(trust_lo=0.05, trust_hi=0.3)
    # below lo, lo itself, inside, hi itself, above hi, below lo but extrapolating,
    # above hi and extrapolating
    frames = [_frame(s, x) for s, x in ((0.01, 0), (0.05, 0), (0.2, 0), (0.3, 0), (0.31, 0),
                                        (0.01, 0.5), (0.9, 2.0))]  # fmt: skip
    assert trust_window_counts(frames, cfg) == {"n_accurate": 2, "n_candidates": 3,
                                                "n_beyond_trust": 2}  # fmt: skip
    assert eligible_frames(frames, cfg).tolist() == [1, 2, 3, 5]
    with pytest.raises(ValueError, match=r"trust_hi = 0.05: must be above trust_lo = 0.05"):
        ActiveLearningConfig(trust_lo=0.05, trust_hi=0.05)


class _FakeCalc:
    results: dict = {}


def test_trust_guard_ends_the_trajectory_and_keeps_the_edge_frame():
    from ase import Atoms

    from nnp_ref.active_learning.steps import BeyondTrust, TrustGuard

    atoms = Atoms("Cu2", positions=[[0, 0, 0], [2.5, 0, 0]])
    atoms.calc = _FakeCalc()
    guard = TrustGuard(atoms, every=4, trust_hi=0.3)
    spreads = [0.01, 0.1, 0.15, 0.2, 0.25, 0.28, 0.29, 0.5, 0.6]  # crosses at step 7
    with pytest.raises(BeyondTrust):
        for step, s in enumerate(spreads):
            atoms.calc.results = {"energy_std": 0.0, "forces_std": np.array([s, 0.0]),
                                  "extrapolation": np.zeros(2)}  # fmt: skip
            guard(step, None)
    assert guard.crossed_at == 7 and len(guard.log.rows) == 8
    frames = guard.log.frames
    # sampled steps 0 and 4, the edge (step 6, last trusted) and the crossing step 7
    assert [f.info["md_step"] for f in frames] == [0, 4, 6, 7]
    assert [f.info["max_force_std"] for f in frames] == [0.01, 0.25, 0.29, 0.5]
    assert [f.info.get("beyond_trust", False) for f in frames] == [False, False, False, True]


def test_loop_never_labels_beyond_the_trust_window(tmp_path):
    starts = ("bulk", "strained", "divacancy", "surface111")
    cfg = ActiveLearningConfig(workdir=str(tmp_path / "run"), **{**TINY, "trust_lo": 0.05,
                               "trust_hi": 0.3, "starts": starts, "max_iterations": 1})  # fmt: skip
    result = run_active_learning(cfg, progress=False)
    rows = read_database(tmp_path / "run" / "labels.db")
    active = [r for r in rows if r.info.get("source") == "active"]
    assert active and all(r.info["max_force_std"] <= 0.3 for r in active)
    assert all(r.info["max_force_std"] >= 0.05 or r.info["max_extrapolation"] > 0 for r in active)
    first = result.reports[0]
    # this untrained committee loses the (111) slab at once: stopped and counted, not labelled
    assert first["n_beyond_trust"] >= 1 and first["md_stopped_beyond_trust"]
    assert any(s.startswith("surface111 at 600 K") for s in first["md_stopped_beyond_trust"])
    assert (first["n_accurate"] + first["n_candidates"] + first["n_beyond_trust"]
            == first["md_frames"])  # fmt: skip
    assert "n_beyond_trust" in (tmp_path / "run" / "report.csv").read_text().splitlines()[0]


def test_start_structures_of_every_kind():
    from nnp_ref.active_learning.starts import md_starts

    kinds = ("bulk", "strained", "vacancy", "divacancy", "surface", "surface100",
             "surface110", "surface111")  # fmt: skip
    cfg = ActiveLearningConfig(starts=kinds, repeat=(2, 2, 2))
    starts = md_starts(cfg, 0)
    assert [a.info["start"] for a in starts] == list(kinds)
    assert [len(a) for a in starts] == [32, 32, 31, 30, 12, 32, 32, 32]
    eps = np.linalg.solve(starts[0].cell.array, starts[1].cell.array) - np.eye(3)
    assert 0 < np.abs(eps).max() <= cfg.max_strain and np.allclose(eps, eps.T)
    # a divacancy: the two removed sites were nearest neighbours (a / sqrt 2 apart)
    assert starts[3].get_all_distances(mic=True)[np.triu_indices(30, 1)].min() > 2.5
    # a new strain in every iteration, the same for the same iteration
    again, later = md_starts(cfg, 0)[1], md_starts(cfg, 1)[1]
    np.testing.assert_array_equal(again.cell.array, starts[1].cell.array)
    assert not np.allclose(later.cell.array, starts[1].cell.array)
    with pytest.raises(ValueError, match=r"\[md\] starts: unknown \['slab'\]"):
        ActiveLearningConfig(starts=("bulk", "slab"))


def test_a_committee_lost_at_once_stops_without_claiming_convergence(tmp_path):
    # every trajectory leaves a (far too narrow) trust window at its first steps
    cfg = ActiveLearningConfig(workdir=str(tmp_path / "run"), **{**TINY, "trust_lo": 1e-5,
                               "trust_hi": 2e-5})  # fmt: skip
    result = run_active_learning(cfg, progress=False)
    assert result.stopped.startswith("no candidate in the trust window")
    assert "raise trust_hi" in result.stopped
    report = result.reports[0]
    assert report["md_max_force_std"] > cfg.target_force_std  # not "converged"
    # one frame beyond trust_hi per trajectory (2 starts x 1 temperature), none labelled
    assert report["n_candidates"] == 0 and report["n_beyond_trust"] == 2
    assert len(report["md_stopped_beyond_trust"]) == 2
    assert len(read_database(tmp_path / "run" / "labels.db")) == 4  # the initial set only
