"""Process pool and Dask give the same database content as a serial run."""

import numpy as np
import pytest
from ase import Atoms
from ase.build import molecule

pytest.importorskip("pyscf")

from nnp_ref.data.database import label_structures, read_database  # noqa: E402
from nnp_ref.data.executors import make_executor, run_tasks  # noqa: E402
from nnp_ref.data.pyscf_labeller import PySCFLabeller  # noqa: E402


def tiny_molecules() -> list[Atoms]:
    out = [molecule("H2"), molecule("H2O"), molecule("LiH"), molecule("HF")]
    for i, atoms in enumerate(out):
        atoms.positions += np.random.default_rng(i).normal(0, 0.02, atoms.positions.shape)
    return out


def content(db) -> dict:
    """key -> (energy, forces) of every row, independent of row order."""
    return {a.info["key"]: (a.get_potential_energy(), a.get_forces()) for a in read_database(db)}


def assert_same_content(a: dict, b: dict):
    assert a.keys() == b.keys()
    for key in a:
        assert a[key][0] == pytest.approx(b[key][0], abs=1e-8)  # eV
        np.testing.assert_allclose(a[key][1], b[key][1], atol=1e-6)  # eV/Å


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    db = tmp_path_factory.mktemp("serial") / "serial.db"
    report = label_structures(tiny_molecules(), PySCFLabeller("hf/sto-3g"), db, progress=False)
    assert report.n_labelled == 4
    return content(db)


def test_process_pool_matches_serial(serial, tmp_path):
    db = tmp_path / "pool.db"
    with make_executor(workers=2) as executor:
        report = label_structures(
            tiny_molecules(), PySCFLabeller("hf/sto-3g"), db, executor=executor, progress=False
        )
    assert report.n_labelled == 4 and report.failures == []
    assert_same_content(content(db), serial)


def test_dask_local_cluster_matches_serial(serial, tmp_path):
    distributed = pytest.importorskip("distributed")
    db = tmp_path / "dask.db"
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        with make_executor(scheduler=client) as executor:
            report = label_structures(
                tiny_molecules(),
                PySCFLabeller("hf/sto-3g"),
                db,
                executor=executor,
                progress=False,
            )
    assert report.n_labelled == 4 and report.failures == []
    assert_same_content(content(db), serial)


def _square(x):
    return x * x


def test_run_tasks_yields_every_result_once():
    with make_executor(workers=1) as executor:
        assert executor is None
        assert list(run_tasks(_square, [(2,), (3,)], ["a", "b"], progress=False)) == [
            (4, "a"),
            (9, "b"),
        ]
    with pytest.raises(ValueError, match="--workers must be >= 1"):
        with make_executor(workers=0):
            pass
