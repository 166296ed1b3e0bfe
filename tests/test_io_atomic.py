"""Atomic writes (nnp_ref.io.atomic): umask-respecting modes, no orphan temporaries."""

import os
import stat
import subprocess

import pytest

from nnp_ref.io import atomic
from nnp_ref.io.atomic import atomic_write_text, remove_stale_temporaries


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def umask():
    """Set the process umask for one test and restore it afterwards."""
    old = os.umask(0o022)
    os.umask(old)
    yield lambda value: os.umask(value)
    os.umask(old)


@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_new_file_mode_follows_umask(tmp_path, umask, mask, expected):
    umask(mask)
    atomic_write_text(tmp_path / "a.txt", "x\n")
    assert mode(tmp_path / "a.txt") == expected  # mkstemp would give 0o600 for all


def test_existing_file_keeps_its_mode(tmp_path, umask):
    umask(0o022)
    path = tmp_path / "a.txt"
    path.write_text("old\n")
    path.chmod(0o640)
    atomic_write_text(path, "new\n")
    assert path.read_text() == "new\n" and mode(path) == 0o640


def temporaries(directory):
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


@pytest.mark.parametrize("exception", [OSError("disk full"), KeyboardInterrupt()])
def test_interrupted_write_leaves_old_file_and_no_temporary(tmp_path, monkeypatch, exception):
    path = tmp_path / "model.json"
    path.write_text("old\n")

    def fail(fd):
        raise exception

    monkeypatch.setattr(atomic.os, "fsync", fail)
    with pytest.raises(type(exception)):
        atomic_write_text(path, "new\n")
    assert path.read_text() == "old\n"
    assert temporaries(tmp_path) == []


def dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_stale_temporary_of_a_killed_writer_is_removed(tmp_path):
    path = tmp_path / "model.json"
    stale = tmp_path / f".model.json.{dead_pid()}.0badc0de.tmp"
    live = tmp_path / f".model.json.{os.getppid()}.0123abcd.tmp"  # a concurrent writer
    other = tmp_path / f".other.json.{dead_pid()}.0badc0de.tmp"  # another target
    for p in (stale, live, other):
        p.write_text("half a fi")
    atomic_write_text(path, "new\n")
    assert path.read_text() == "new\n"
    assert temporaries(tmp_path) == sorted([live.name, other.name])
    assert remove_stale_temporaries(tmp_path / "other.json") == [other]


def test_n2p2_writers_are_atomic(tmp_path, umask):
    """write_weights goes through atomic_write_text: mode from the umask, no temporaries."""
    from nnp_ref.io.n2p2 import read_weights, write_weights

    umask(0o022)
    write_weights(tmp_path / "weights.001.data", [0.5, -0.25, 1.0, 2.0], (1, 1, 1))
    assert mode(tmp_path / "weights.001.data") == 0o644
    assert read_weights(tmp_path / "weights.001.data", 4)[0] == 0.5


def test_extxyz_and_checkpoint_writers_respect_the_umask(tmp_path):
    """Every atomic writer goes through ``io.atomic`` (mkstemp's 0600 was a bug)."""
    import numpy as np
    from ase.build import bulk
    from ase.calculators.emt import EMT

    from nnp_ref.data.datasets import write_extxyz
    from nnp_ref.io.atomic import atomic_write

    atoms = bulk("Cu")
    atoms.calc = EMT()
    atoms.get_potential_energy()
    old = os.umask(0o022)
    try:
        write_extxyz(tmp_path / "x.extxyz", [atoms])
        atomic_write(tmp_path / "a.npz", lambda h: np.savez(h, a=np.ones(2)), binary=True)
    finally:
        os.umask(old)
    for name in ("x.extxyz", "a.npz"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o644, name
    assert np.load(tmp_path / "a.npz")["a"].tolist() == [1.0, 1.0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npz", "x.extxyz"]
