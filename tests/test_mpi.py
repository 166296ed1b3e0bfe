"""Data-parallel training over MPI (nnp_ref.training.parallel): rank-count-independent weights.

The MPI runs are subprocesses ``mpiexec -n P python -m tests.test_mpi OUT OPTIMIZER``
(this file's ``__main__``), which train a tiny potential and save the final
weights; 4 ranks oversubscribe the 2 cores (correctness, not speed).
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nnp_ref.data.datasets import generate_reference_data
from nnp_ref.training import loop
from nnp_ref.training.build import build_potential
from nnp_ref.training.config import TrainingConfig
from nnp_ref.training.loss import loss_and_gradient
from nnp_ref.training.parallel import (
    Distributed,
    OneRank,
    mpi_world_size,
    shard,
    structure_weights,
)
from nnp_ref.training.parameters import get_parameters
from nnp_ref.training.problem import errors, make_problem

ROOT = Path(__file__).resolve().parents[1]
BESIDE = Path(sys.executable).parent / "mpiexec"  # the mpich wheel's, in the same environment
MPIEXEC = str(BESIDE) if BESIDE.is_file() else shutil.which("mpiexec")
SF = dict(rc=4.2, n_radial=4, n_angular=1, zetas=(1.0, 4.0), r_lower=2.0)


def tiny_case():
    """8 training + 2 validation EMT copper structures and a small potential."""
    structures = generate_reference_data(
        kind="emt-cu", n_structures=10, seed=11, repeats=((2, 2, 2),), md_snapshots=3,
        md_equilibrate=5, md_every=4, progress=False,
    )  # fmt: skip
    potential, _ = build_potential(structures[:8], hidden=(5,), seed=2, progress=False, **SF)
    return structures[:8], structures[8:], potential


@pytest.fixture(scope="module")
def case():
    return tiny_case()


def test_shards_cover_the_structures_once_and_too_many_ranks_fail():
    for n, size in ((10, 1), (10, 3), (7, 4), (4, 4)):
        owned = [s for r in range(size) for s in shard(n, r, size)]
        assert owned == list(range(n))
    with pytest.raises(ValueError, match="5 MPI ranks but only 4 training structures"):
        shard(4, 0, 5)


def test_world_size_from_the_launcher(monkeypatch):
    for var in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE"):
        monkeypatch.delenv(var, raising=False)
    assert mpi_world_size() == 1
    monkeypatch.setenv("PMI_SIZE", "3")
    assert mpi_world_size() == 3


@pytest.mark.parametrize("l2", [0.0, 1e-3])
def test_sum_of_structure_terms_is_the_batch_gradient(case, l2):
    """sum_b g_b (weights w_E/B, w_F n_b/n, w_S/B) + L2 = the batch loss gradient, to rounding."""
    train, _, potential = case
    cfg = TrainingConfig(progress=False, l2=l2)
    problem = make_problem(potential, train, None, cfg)
    problem.parallel = Distributed(OneRank(), [it.n_atoms for it in problem.train_items])
    indices = [5, 1, 6]
    value, grad = problem.parallel.loss_and_gradient(problem, indices)
    from nnp_ref.training.batch import make_batch

    batch = make_batch([problem.train_items[i] for i in indices], problem.potential)
    ref_value, ref_grad = loss_and_gradient(problem.potential, batch, problem.weights)
    np.testing.assert_allclose(grad, ref_grad, rtol=1e-11, atol=1e-14 * np.abs(ref_grad).max())
    for name in ("total", "energy", "force", "l2", "rmse_energy", "rmse_force"):
        assert getattr(value, name) == pytest.approx(getattr(ref_value, name), rel=1e-12)
    # the weights of one structure's term
    w = structure_weights(problem.weights, 3, 96, 32)
    assert w.energy == problem.weights.energy / 3 and w.force == problem.weights.force / 3


def test_shared_out_errors_equal_the_serial_ones(case):
    train, validation, potential = case
    problem = make_problem(potential, train, validation, TrainingConfig(progress=False))
    serial = errors(problem, problem.train_eval)
    problem.parallel = Distributed(OneRank(), [it.n_atoms for it in problem.train_items])
    shared = errors(problem, problem.train_eval)
    assert shared[:2] == serial[:2] and np.isnan(shared[2]) and np.isnan(serial[2])


def run_mpi(n_ranks: int, out: Path, optimizer: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}  # fmt: skip
    command = [MPIEXEC, "-launcher", "fork", "-n", str(n_ranks),
               sys.executable, "-m", "tests.test_mpi", str(out), optimizer]  # fmt: skip
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize(
    ("optimizer", "ranks"), [("adam", (1, 2, 4)), ("lbfgs", (1, 3)), ("kalman", (1, 2))]
)
def test_weights_are_bit_identical_for_1_2_4_ranks(tmp_path, optimizer, ranks):
    """Adam on 1, 2, 4 ranks; L-BFGS on 1 and 3 (shard boundaries inside blocks of 3);
    the Kalman filter on 1 and 2, and equal to the serial in-memory run (same draws, the
    same one-structure numbers, whichever rank computes them)."""
    pytest.importorskip("mpi4py")
    if MPIEXEC is None:
        pytest.skip("no mpiexec next to python or on PATH (pip install mpich)")
    weights = {}
    for n in ranks:
        out = tmp_path / f"w{n}.npy"
        done = run_mpi(n, out, optimizer)
        assert done.returncode == 0, done.stderr[-3000:]
        weights[n] = np.load(out)
    assert np.all(np.isfinite(weights[1]))
    for n in ranks[1:]:
        assert np.array_equal(weights[n], weights[1]), f"{n} ranks differ from 1 rank"
    if optimizer == "kalman":
        train, validation, potential = tiny_case()
        serial = loop.fit(make_problem(potential, train, validation, tiny_config("kalman")))
        assert np.array_equal(get_parameters(serial.final_potential), weights[1])


def test_more_ranks_than_structures_is_a_clear_error(tmp_path):
    pytest.importorskip("mpi4py")
    if MPIEXEC is None:
        pytest.skip("no mpiexec next to python or on PATH (pip install mpich)")
    done = run_mpi(2, tmp_path / "w.npy", "too-many")
    assert done.returncode != 0
    assert "2 MPI ranks but only 1 training structures" in done.stderr


CLI_CONFIG = """
[data]
validation = 0.2
test = 0.0
[data.generate]
kind = "emt-cu"
n_structures = 12
seed = 3
[potential]
rc = 4.2
hidden = [5]
n_radial = 4
n_angular = 1
r_lower = 2.0
[training]
optimizer = "adam"
epochs = 2
batch_size = 3
"""


def mpiexec_train(folder, n_ranks, *args):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "NUMBA_NUM_THREADS": "1"}  # fmt: skip
    command = [MPIEXEC, "-launcher", "fork", "-n", str(n_ranks), sys.executable, "-m",
               "nnp_ref.cli", "train", *args, "-q"]  # fmt: skip
    return subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True,
                          timeout=600)  # fmt: skip


def test_mpiexec_nnp_ref_train_just_works_and_resumes(tmp_path):
    """``mpiexec -n P nnp-ref train config.toml``: rank 0 writes the model, the same for P = 1,
    2; a 2-rank run of 1 epoch resumed on 2 ranks for the 2nd gives the same model again."""
    pytest.importorskip("mpi4py")
    if MPIEXEC is None:
        pytest.skip("no mpiexec next to python or on PATH (pip install mpich)")
    (tmp_path / "config.toml").write_text(CLI_CONFIG)
    (tmp_path / "one_epoch.toml").write_text(CLI_CONFIG.replace("epochs = 2", "epochs = 1"))
    networks = []
    for n in (1, 2):
        done = mpiexec_train(tmp_path, n, "config.toml", "--out", f"out{n}")
        assert done.returncode == 0, done.stderr[-3000:]
        assert (tmp_path / f"out{n}" / "training" / "descriptors").is_dir()
        networks.append(json.loads((tmp_path / f"out{n}" / "model.json").read_text())["networks"])
    assert networks[0] == networks[1]
    done = mpiexec_train(tmp_path, 2, "one_epoch.toml", "--out", "resumed")
    assert done.returncode == 0, done.stderr[-3000:]
    done = mpiexec_train(tmp_path, 2, "config.toml", "--out", "resumed", "--resume")
    assert done.returncode == 0, done.stderr[-3000:]
    history = (tmp_path / "resumed" / "training" / "history.csv").read_text().splitlines()
    assert len(history) == 1 + 3  # header, epochs 0, 1, 2
    resumed = json.loads((tmp_path / "resumed" / "model.json").read_text())["networks"]
    assert resumed == networks[0]


def test_mpiexec_errors_are_reported_once(tmp_path):
    """Too many ranks, or a folder that already holds a run: one line from rank 0, exit 2."""
    pytest.importorskip("mpi4py")
    if MPIEXEC is None:
        pytest.skip("no mpiexec next to python or on PATH (pip install mpich)")
    small = CLI_CONFIG.replace("n_structures = 12", "n_structures = 2")
    (tmp_path / "config.toml").write_text(small.replace("validation = 0.2", "validation = 0.0"))
    done = mpiexec_train(tmp_path, 3, "config.toml", "--out", "out")
    assert done.returncode != 0
    assert done.stderr.count("3 MPI ranks but only 2 training structures") == 1, done.stderr
    (tmp_path / "held" / "model.json").parent.mkdir()
    (tmp_path / "held" / "model.json").write_text("{}")
    done = mpiexec_train(tmp_path, 2, "config.toml", "--out", "held")
    assert done.returncode != 0
    assert done.stderr.count("already holds a training run") == 1, done.stderr


def tiny_config(optimizer: str) -> TrainingConfig:
    """Two epochs; the Kalman filter with energy trials and force updates mixing structures."""
    kalman = dict(force_fraction=0.1, forces_per_update=6, force_selection="components",
                  threshold_trials=3, energy_fraction=1.0)  # fmt: skip
    return TrainingConfig(optimizer=optimizer, epochs=2, batch_size=3, progress=False, seed=4,
                          l2=1e-4 if optimizer != "kalman" else 0.0, kalman=kalman)  # fmt: skip


def main(out: str, optimizer: str) -> None:
    """One MPI run of the tiny case; rank 0 saves the final weights to ``out``."""
    from mpi4py import MPI

    from nnp_ref.training import parallel

    parallel.BLOCK = 3  # blocks of 3 of the 8 structures: some whole on a rank, some shared
    train, validation, potential = tiny_case()
    if optimizer == "too-many":
        train, optimizer = train[:1], "adam"
    cfg = tiny_config(optimizer)
    store = Path(out).parent / "store"
    try:
        result = parallel.train_distributed(potential, train, validation, cfg, store_dir=store)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    if MPI.COMM_WORLD.Get_rank() == 0:
        np.save(out, get_parameters(result.final_potential))


if __name__ == "__main__":
    main(*sys.argv[1:3])
