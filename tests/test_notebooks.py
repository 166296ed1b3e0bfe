"""Execute every tutorial notebook (nbclient), in order, so they never rot.

The notebooks run in one temporary working folder, in their numbered
order, as a student would run them: notebook 5 picks up the copper model
that notebook 4 saves. The data-set cache goes to that folder too, so the
reference data are generated afresh. A notebook fails the test if a cell
raises or writes a warning to stderr.

The water notebook (06) finds the n2p2 files through ``NNP_REF_N2P2_DIR``
(set here to the folder tests/conftest.py uses). When they are present its
analysis must really run; when they are absent it must say where to get
them, and still run to the end.
"""

from pathlib import Path

import pytest

from tests.conftest import N2P2_DIR

nbformat = pytest.importorskip(
    "nbformat", reason="the notebook tests need nbformat (pip install -e '.[test]')"
)
nbclient = pytest.importorskip(
    "nbclient", reason="the notebook tests need nbclient (pip install -e '.[test]')"
)

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))
HAVE_N2P2 = (N2P2_DIR / "H2O_RPBE-D3" / "input.nn").is_file()

# Printed lines that show a notebook's analysis really ran (not only that no cell raised).
EXPECTED_OUTPUT = {
    "09": ("best validation error", "early stopping", "force weight   10"),
    "10": ("high temperature", "largest force error"),
    "11": ("E_vacancy_eV", "gamma_111_J_m2", "outside the training range"),
    "12": ("functions that are ~0", "first 12 chosen"),
    "13": ("FPS    N = 32", "correlation of log(disagreement)", "active learning, N = 32"),
}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("notebooks")


def streams(nb, name):
    return "".join(
        output.get("text", "")
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.get("output_type") == "stream" and output.get("name") == name
    )


def test_the_sequence_is_complete():
    """The six notebooks of the method, then the course's further ones; no number used twice."""
    numbers = [int(p.name[:2]) for p in NOTEBOOKS]
    assert numbers[:6] == [1, 2, 3, 4, 5, 6]
    assert len(set(numbers)) == len(numbers)


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, workdir, monkeypatch):
    monkeypatch.setenv("NNP_REF_N2P2_DIR", str(N2P2_DIR))
    monkeypatch.setenv("NNP_REF_CACHE_DIR", str(workdir / "cache"))
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")  # jupyter_core's deprecation notice
    monkeypatch.setenv("NNP_REF_STATIC_VIEW", "1")  # structure views as pictures, headless
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(workdir)}}
    )
    client.execute()  # its run time is reported by pytest --durations, never asserted
    stderr = streams(nb, "stderr")
    assert "Warning" not in stderr, stderr
    for text in EXPECTED_OUTPUT.get(path.name[:2], ()):
        assert text in streams(nb, "stdout"), text
    if path.name.startswith("06"):
        stdout = streams(nb, "stdout")
        if HAVE_N2P2:
            assert "n2p2 water files found" in stdout
            assert "energy RMSE" in stdout and "first O-O peak" in stdout
        else:
            assert "https://github.com/CompPhysVienna/n2p2" in stdout
