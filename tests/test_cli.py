"""The ``nnp-ref`` command: help texts, one-line errors, every subcommand on small inputs.

Most tests call ``nnp_ref.cli.main(argv)`` in-process (fast, warnings are
errors as everywhere in the suite); one runs the real command in a
subprocess to check the exit code and that errors print no traceback.
"""

import argparse
import importlib
import json
import subprocess
import sys
from importlib import metadata

import numpy as np
import pytest
from ase.units import Bohr, Hartree

from nnp_ref.cli import COMMANDS, build_parser, main
from nnp_ref.course.lectures import LECTURES
from nnp_ref.data.datasets import reference_energy, reference_forces
from nnp_ref.io.n2p2 import read_data, read_potential, read_weights
from nnp_ref.model.potential import evaluate_atoms

WATER_UNITS = ["--length-unit", "bohr", "--energy-unit", "hartree"]


def subcommands():
    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return sub.choices


# ---------------------------------------------------------------------------
# Help and errors
# ---------------------------------------------------------------------------


#: Subcommand names of every registered command module.
NAMES = [importlib.import_module(f"nnp_ref.cli.{m}").NAME for m in COMMANDS]


def test_top_level_help_lists_every_command(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert {"demo", "generate", "train", "evaluate", "md", "convert", "lecture"} <= set(NAMES)
    for name in NAMES:
        assert name in out


@pytest.mark.parametrize("command", NAMES)
def test_help_explains_every_option(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: nnp-ref {command}")
    parser = subcommands()[command]
    for action in parser._actions:
        assert action.help, f"{command}: option {action.option_strings or action.dest} has no help"
        for option in action.option_strings:
            assert option in out


def test_entry_point_is_installed():
    try:
        scripts = metadata.entry_points(group="console_scripts")
    except Exception as err:  # pragma: no cover
        pytest.skip(f"package metadata not available: {err}")
    (entry,) = [e for e in scripts if e.name == "nnp-ref"]
    assert entry.value == "nnp_ref.cli:main"


def test_error_is_one_line_without_traceback(tmp_path):
    """The real command in a subprocess: exit code 2, one line on stderr."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "nnp_ref.cli",
            "evaluate",
            str(tmp_path / "no_model.json"),
            str(tmp_path / "no_data.extxyz"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [f"nnp-ref: error: model {tmp_path / 'no_model.json'} does not exist"]
    assert "Traceback" not in result.stderr


def write(path, text):
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(
    "argv_of, message",
    [
        (lambda d: ["lecture", "no-such-lecture"], "unknown lecture 'no-such-lecture'"),
        (
            lambda d: ["train", write(d / "c.toml", "[data]\npath = 'x.xyz'\nbogus = 1\n")],
            "unknown key(s) bogus in [data]",
        ),
        (
            lambda d: ["train", write(d / "c.toml", "[training]\nepochs = 'ten'\n")],
            "[training] epochs = 'ten': expected an integer",
        ),
        (lambda d: ["train", write(d / "c.toml", "[data\n")], "c.toml: "),
        (
            lambda d: ["train", write(d / "c.toml", "[data]\npath = 'missing.xyz'\n")],
            "does not exist",
        ),
        (lambda d: ["train", str(d / "missing.toml")], "does not exist"),
        (lambda d: ["convert", str(d), str(d / "out.json")], "without input.nn or model.json"),
        (
            lambda d: ["evaluate", write(d / "m.json", "{}"), write(d / "x.xyz", "")],
            "not an nnp_ref model",
        ),
    ],
)
def test_errors_are_one_clear_line(tmp_path, capsys, argv_of, message):
    assert main(argv_of(tmp_path)) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("nnp-ref: error: ")
    assert message in err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["evaluate", "m", "d", "--length-unit", "furlong"], "unknown length unit 'furlong'"),
        (["generate", "-n", "0"], "argument -n/--structures: must be >= 1, got 0"),
    ],
)
def test_bad_option_is_a_one_line_argparse_error(capsys, argv, message):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert err.startswith(f"nnp-ref: error: {argv[0]}: ")
    assert message in err


# ---------------------------------------------------------------------------
# Lecture figures
# ---------------------------------------------------------------------------


def test_lecture_list(capsys):
    assert main(["lecture", "--list"]) == 0
    out = capsys.readouterr().out
    for name in LECTURES:
        assert name in out


@pytest.mark.slow
@pytest.mark.parametrize("name", list(LECTURES))
def test_lecture_figure_written(name, tmp_path, request):
    if name == "four-generations":  # trains on n2p2's carbon-chain data
        request.getfixturevalue("n2p2_dir")
    out = tmp_path / f"{name}.png"
    assert main(["lecture", name, "--out", str(out), "-q"]) == 0
    assert out.stat().st_size > 20_000  # a real figure, not an empty canvas


# ---------------------------------------------------------------------------
# demo --quick, then evaluate and md on its model
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def quick_demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    assert main(["demo", "--quick", "--out", str(out), "-q"]) == 0
    return out


def test_demo_quick_writes_everything(quick_demo):
    out = quick_demo
    for name in (
        "report.md",
        "metrics.json",
        "model.json",
        "test_set.extxyz",
        "overview.png",
        "learning_curve.png",
        "parity.png",
        "energy_conservation.png",
        "rdf.png",
        "model_n2p2/input.nn",
        "training/history.csv",
    ):
        assert (out / name).is_file(), name
    m = json.loads((out / "metrics.json").read_text())
    assert m["quick"] is True
    # budgets in epochs: QUICK trains exactly its 2 epochs, whatever the machine's speed
    assert m["settings"]["max_train_time_s"] is None
    assert m["training"]["epochs"] == 2
    assert m["training"]["stopped"] == "reached 2 epochs"
    assert m["test_rmse_energy_meV_per_atom"] > 0
    assert m["test_rmse_force_meV_per_A"] > 0
    assert len(m["nve"]["dt_fs"]) == len(m["nve"]["drift_meV_per_atom_per_ps"]) == 2
    assert all(np.isfinite(m["nve"]["drift_meV_per_atom_per_ps"]))
    assert "metrics.json" in (out / "report.md").read_text()


def test_evaluate_json_matches_demo_metrics(quick_demo, capsys):
    out = quick_demo
    capsys.readouterr()
    assert (
        main(
            [
                "evaluate",
                str(out / "model.json"),
                str(out / "test_set.extxyz"),
                "--json",
                "--parity",
                str(out / "parity_cli.png"),
            ]
        )
        == 0
    )
    result = json.loads(capsys.readouterr().out)
    m = json.loads((out / "metrics.json").read_text())
    assert result["rmse_energy_meV_per_atom"] == pytest.approx(m["test_rmse_energy_meV_per_atom"])
    assert result["rmse_force_meV_per_A"] == pytest.approx(m["test_rmse_force_meV_per_A"])
    assert (out / "parity_cli.png").is_file()


def test_md_writes_trajectory_plot_and_csv(quick_demo, tmp_path, capsys):
    out = quick_demo
    argv = [
        "md",
        str(out / "model.json"),
        str(out / "md_start.extxyz"),
        "--dt",
        "2",
        "--steps",
        "10",
        "--init-temperature",
        "300",
        "--write-every",
        "5",
        "--trajectory",
        str(tmp_path / "md.traj"),
        "--plot",
        str(tmp_path / "md.png"),
        "--csv",
        str(tmp_path / "md.csv"),
    ]
    assert main(argv) == 0
    import ase.io

    frames = ase.io.read(tmp_path / "md.traj", ":")
    assert len(frames) == 3  # steps 0, 5, 10
    assert (tmp_path / "md.png").is_file()
    rows = (tmp_path / "md.csv").read_text().splitlines()
    assert rows[0].startswith("t_fs,") and len(rows) == 12
    assert "steps/s" in capsys.readouterr().out


def test_generate_then_train_from_toml(tmp_path, capsys, monkeypatch):
    """The README's chain: generate's default output is what the example config reads."""
    monkeypatch.chdir(tmp_path)
    assert main(["generate", "-n", "12", "--seed", "3", "-q"]) == 0
    assert main(["train", "--example-config"]) == 0
    example = capsys.readouterr().out
    config = example.replace("epochs = 10 ", "epochs = 1 ").replace(
        "hidden = [15, 15]", "hidden = [4]"
    )
    assert config.count("epochs = 1 ") == 1 and "hidden = [4]" in config
    assert main(["train", write(tmp_path / "train.toml", config), "-q"]) == 0
    out = tmp_path / "nnp_ref_model"
    for name in ("model.json", "metrics.json", "learning_curve.png", "training/history.csv"):
        assert (out / name).is_file(), name
    m = json.loads((out / "metrics.json").read_text())
    assert m["n_train"] + m["n_validation"] + m["n_test"] == 12


# ---------------------------------------------------------------------------
# n2p2 <-> nnp_ref (the published water potential)
# ---------------------------------------------------------------------------


@pytest.mark.n2p2
def test_evaluate_water_json_reproduces_n2p2(n2p2_dir, capsys):
    argv = [
        "evaluate",
        str(n2p2_dir / "H2O_RPBE-D3"),
        str(n2p2_dir / "H2O_RPBE-D3_dataset" / "input.data"),
        "--json",
        *WATER_UNITS,
    ]
    assert main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["n_structures"] == 20
    # n2p2's RMSE on this set (README): 2.87e-5 Ha/atom, 7.42e-4 Ha/Bohr
    assert result["rmse_energy_meV_per_atom"] == pytest.approx(2.87e-5 * Hartree * 1e3, rel=2e-3)
    assert result["rmse_force_meV_per_A"] == pytest.approx(7.42e-4 * Hartree / Bohr * 1e3, rel=2e-3)


@pytest.mark.n2p2
def test_convert_potential_round_trip(n2p2_dir, tmp_path):
    source = n2p2_dir / "H2O_RPBE-D3"
    model, back = tmp_path / "water.json", tmp_path / "water_n2p2"
    assert main(["convert", str(source), str(model), *WATER_UNITS, "-q"]) == 0
    assert main(["convert", str(model), str(back), *WATER_UNITS, "-q"]) == 0
    for z in ("001", "008"):  # same weights, written in n2p2's order
        np.testing.assert_allclose(
            read_weights(back / f"weights.{z}.data"),
            read_weights(source / f"weights.{z}.data"),
            rtol=1e-14,
        )
    units = dict(length_unit=Bohr, energy_unit=Hartree)
    atoms = read_data(n2p2_dir / "H2O_RPBE-D3_dataset" / "input.data", **units)[0]
    ref = evaluate_atoms(read_potential(source, **units), atoms)
    new = evaluate_atoms(read_potential(back, **units), atoms)
    assert new.energy == pytest.approx(ref.energy, rel=1e-12)
    np.testing.assert_allclose(new.forces_nc, ref.forces_nc, atol=1e-10)


@pytest.mark.n2p2
def test_convert_data_round_trip(n2p2_dir, tmp_path):
    source = n2p2_dir / "H2O_RPBE-D3_dataset" / "input.data"
    xyz, back = tmp_path / "water.extxyz", tmp_path / "back.data"
    assert main(["convert", str(source), str(xyz), *WATER_UNITS, "-q"]) == 0
    assert main(["convert", str(xyz), str(back), *WATER_UNITS, "-q"]) == 0
    units = dict(length_unit=Bohr, energy_unit=Hartree)
    original, again = read_data(source, **units), read_data(back, **units)
    assert len(again) == len(original) == 20
    for a, b in zip(original, again, strict=True):
        assert a.get_chemical_symbols() == b.get_chemical_symbols()
        np.testing.assert_allclose(b.positions, a.positions, atol=1e-7)
        np.testing.assert_allclose(b.cell.array, a.cell.array, atol=1e-7)
        assert reference_energy(b) == pytest.approx(reference_energy(a), abs=1e-6)
        np.testing.assert_allclose(reference_forces(b), reference_forces(a), atol=1e-6)


def test_demo_water_refuses_copper_only_options(tmp_path, capsys):
    """``--system water`` is wired to the water demo (its run is tested in test_water_demo)."""
    code = main(["demo", "--system", "water", "--max-time", "5", "--out", str(tmp_path / "w")])
    assert code == 2
    err = capsys.readouterr().err
    assert "--max-time applies to the copper demo only" in err and err.count("\n") == 1
    assert not (tmp_path / "w").exists()
