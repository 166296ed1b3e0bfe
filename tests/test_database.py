"""Labels in an ASE database: resume after SIGKILL, failed SCFs, bad input before work."""

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import ase.db
import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk, molecule
from ase.calculators.emt import EMT

from nnp_ref.data.database import label_structures, read_database, structure_key
from nnp_ref.data.labellers import ASELabeller


def copper_structures(n: int) -> list[Atoms]:
    rng = np.random.default_rng(0)
    out = []
    for i in range(n):
        atoms = bulk("Cu", cubic=True)
        atoms.positions += rng.normal(0, 0.05, atoms.positions.shape)
        atoms.info["source"] = f"rattle{i}"
        out.append(atoms)
    return out


def rows(path):
    return list(ase.db.connect(str(path)).select())


def test_label_then_resume_writes_each_structure_once(tmp_path):
    db = tmp_path / "labels.db"
    structures = copper_structures(5)
    structures[4].info["method"] = "stale"  # e.g. read from a file labelled before
    labeller = ASELabeller(EMT())
    first = label_structures(structures[:3], labeller, db, progress=False, tags={"set": "train"})
    assert (first.n_labelled, first.n_skipped) == (3, 0)
    second = label_structures(structures, labeller, db, progress=False, tags={"set": "train"})
    assert (second.n_labelled, second.n_skipped, second.failures) == (2, 3, [])
    data = read_database(db)
    assert len(data) == 5
    assert len({a.info["key"] for a in data}) == 5
    for atoms in data:  # stored labels equal a direct EMT call, tags and provenance kept
        ref = atoms.copy()
        ref.calc = EMT()
        assert atoms.get_potential_energy() == pytest.approx(ref.get_potential_energy(), abs=1e-12)
        np.testing.assert_allclose(atoms.get_forces(), ref.get_forces(), atol=1e-12)
        assert atoms.info["set"] == "train" and atoms.info["code"] == "ase"
        assert atoms.info["method"] == labeller.identity  # provenance wins over old tags
    assert [a.info["source"] for a in data] == [f"rattle{i}" for i in range(5)]


def test_structure_key_depends_on_geometry_cell_and_method():
    atoms = molecule("H2O")
    key = structure_key(atoms, "m1")
    assert structure_key(atoms.copy(), "m1") == key
    assert structure_key(atoms, "m2") != key
    moved = atoms.copy()
    moved.positions[0, 0] += 1e-6
    assert structure_key(moved, "m1") != key
    boxed = atoms.copy()
    boxed.cell = [10, 10, 10]
    assert structure_key(boxed, "m1") != key


SLOW_RUN = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    from ase.build import bulk
    from ase.calculators.emt import EMT
    from nnp_ref.data.database import label_structures
    from nnp_ref.data.labellers import ASELabeller

    class SlowEMT(ASELabeller):
        def __call__(self, atoms):
            time.sleep(0.3)
            return super().__call__(atoms)

    rng = np.random.default_rng(0)
    structures = []
    for i in range(12):
        atoms = bulk("Cu", cubic=True)
        atoms.positions += rng.normal(0, 0.05, atoms.positions.shape)
        atoms.info["source"] = f"rattle{i}"
        structures.append(atoms)
    label_structures(structures, SlowEMT(EMT()), sys.argv[1], progress=False)
    """
)


def rows_so_far(db) -> int:
    """Rows another process has written so far; 0 while it is still creating the tables.

    Read-only, plain SQL: ``ase.db.connect`` would create missing tables itself,
    and ASE creates them one statement at a time, so a reader that connected in
    between found ``systems`` but not yet ``information`` (seen once in CI).
    """
    if not db.exists():
        return 0
    try:
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as con:
            return con.execute("SELECT COUNT(*) FROM systems").fetchone()[0]
    except sqlite3.OperationalError:  # no table yet, or the file is locked for a moment
        return 0


def test_resume_after_sigkill_loses_and_duplicates_nothing(tmp_path):
    db = tmp_path / "labels.db"
    script = tmp_path / "slow_run.py"
    script.write_text(SLOW_RUN)
    proc = subprocess.Popen([sys.executable, str(script), str(db)])
    try:
        deadline = time.monotonic() + 120  # a safety net, not a timing assertion
        while time.monotonic() < deadline:
            if rows_so_far(db) >= 3:
                break
            assert proc.poll() is None, "the labelling subprocess ended before it was killed"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    killed = rows(db)
    assert 3 <= len(killed) < 12, "kill should land mid-run"
    assert all(r.status == "ok" and r.forces.shape == (4, 3) for r in killed)

    structures = copper_structures(12)
    report = label_structures(structures, ASELabeller(EMT()), db, progress=False)
    assert report.n_skipped == len(killed)
    assert report.n_labelled == 12 - len(killed)
    final = rows(db)
    assert len(final) == 12
    assert len({r.key for r in final}) == 12
    assert {r.source for r in final} == {f"rattle{i}" for i in range(12)}


def test_failed_scf_is_recorded_reported_and_retried_on_request(tmp_path):
    pytest.importorskip("pyscf")
    from nnp_ref.data.pyscf_labeller import PySCFLabeller

    db = tmp_path / "labels.db"
    water = molecule("H2O")
    labeller = PySCFLabeller("hf/sto-3g", max_cycle=1, conv_tol=1e-12)
    report = label_structures([water], labeller, db, progress=False)
    assert report.n_labelled == 0
    assert len(report.failures) == 1
    name, reason = report.failures[0]
    assert "structure 0 (H2O)" in name and "not converged" in reason
    assert "FAILED structure 0 (H2O)" in report.summary()
    (row,) = rows(db)
    assert row.status == "failed" and "not converged" in row.reason
    assert read_database(db) == []

    again = label_structures([water], labeller, db, progress=False)
    assert again.n_skipped == 1 and len(again.failures) == 1  # reported again, not rerun
    assert "earlier run" in again.failures[0][0]
    assert len(rows(db)) == 1

    labeller.max_cycle = 50  # same identity: a retry replaces the failed row
    retry = label_structures([water], labeller, db, progress=False, retry_failed=True)
    assert retry.n_labelled == 1 and retry.failures == []
    (row,) = rows(db)
    assert row.status == "ok" and row.converged


def test_bad_structure_stops_everything_before_work(tmp_path):
    db = tmp_path / "labels.db"
    good = copper_structures(2)
    bad = good[0].copy()
    bad.positions[1] = bad.positions[0] + [0.1, 0, 0]
    with pytest.raises(ValueError, match=r"structure 2 \(Cu4, rattle0\) has overlapping atoms"):
        label_structures(good + [bad], ASELabeller(EMT()), db, progress=False)
    assert not db.exists()


def test_read_database_names_a_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothere.db"):
        read_database(tmp_path / "nothere.db")
