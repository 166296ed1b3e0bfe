"""``nnp-ref`` never answers bad input with a traceback or a silent NaN (issue 16).

One regression test per case found: NaN RMSEs from empty or non-finite data,
non-strict JSON, bad MD options, training over an earlier run, extxyz errors
without a location, and a slow ``--help``. Commands run in-process through
``main(argv)``; the help test runs a subprocess to see which modules load.
"""

import json
import subprocess
import sys

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.emt import EMT

from nnp_ref.cli import COMMANDS, main
from nnp_ref.data.datasets import attach_reference, label, write_extxyz
from nnp_ref.io.model_json import save_model
from nnp_ref.training.trainer import build_potential


def copper(n: int, seed: int = 0):
    """``n`` rattled 4-atom copper cells labelled by EMT."""
    rng = np.random.default_rng(seed)
    structures = []
    for _ in range(n):
        atoms = bulk("Cu", "fcc", a=3.61, cubic=True)
        atoms.positions += rng.normal(scale=0.05, size=atoms.positions.shape)
        structures.append(label(atoms, EMT()))
    return structures


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A small data set and an untrained model for it (seconds)."""
    folder = tmp_path_factory.mktemp("cli_errors")
    structures = copper(6)
    write_extxyz(folder / "cu.extxyz", structures)
    potential, _ = build_potential(
        structures, hidden=(4,), rc=4.0, n_radial=3, n_angular=1, progress=False
    )
    save_model(potential, folder / "model.json")
    return folder


def one_line_error(capsys, *fragments) -> str:
    """The captured stderr is one error line holding ``fragments``; stdout has no NaN."""
    captured = capsys.readouterr()
    err = captured.err
    assert "nan" not in captured.out.lower()
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("nnp-ref: error: "), err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, err
    return err


def strict_json(text: str) -> dict:
    def refuse(constant):
        raise AssertionError(f"non-standard JSON constant {constant}")

    return json.loads(text, parse_constant=refuse)


# ---------------------------------------------------------------------------
# evaluate: no NaN RMSEs, strict JSON
# ---------------------------------------------------------------------------


def test_evaluate_empty_n2p2_file(files, tmp_path, capsys):
    empty = tmp_path / "input.data"
    empty.write_text("")
    assert main(["evaluate", str(files / "model.json"), str(empty)]) == 2
    one_line_error(capsys, str(empty), "no structures")


def test_evaluate_empty_extxyz_file(files, tmp_path, capsys):
    empty = tmp_path / "empty.extxyz"
    empty.write_text("")
    assert main(["evaluate", str(files / "model.json"), str(empty), "--json"]) == 2
    one_line_error(capsys, str(empty))


def _damaged(tmp_path, name, change):
    structures = copper(3, seed=1)
    change(structures[1])
    path = tmp_path / name
    write_extxyz(path, structures)
    return path


def test_evaluate_nan_energy(files, tmp_path, capsys):
    def nan_energy(atoms):
        attach_reference(atoms, float("nan"), atoms.calc.results["forces"])

    path = _damaged(tmp_path, "nan.extxyz", nan_energy)
    assert main(["evaluate", str(files / "model.json"), str(path), "--json"]) == 2
    # the second frame starts at line 1 + (4 + 2)
    one_line_error(capsys, f"{path}:7: structure 1", "reference energy is nan")


def test_evaluate_infinite_force(files, tmp_path, capsys):
    def inf_force(atoms):
        forces = atoms.calc.results["forces"].copy()
        forces[2, 1] = np.inf
        attach_reference(atoms, atoms.calc.results["energy"], forces)

    path = _damaged(tmp_path, "inf.extxyz", inf_force)
    assert main(["evaluate", str(files / "model.json"), str(path)]) == 2
    one_line_error(capsys, f"{path}:7: structure 1", "NaN/inf reference force on atom 2")


def test_evaluate_json_is_strict_without_forces(files, tmp_path, capsys):
    """No reference forces: force errors are null (not a bare NaN), energies are numbers."""
    structures = [attach_reference(a.copy(), a.calc.results["energy"]) for a in copper(3)]
    path = tmp_path / "energies_only.extxyz"
    write_extxyz(path, structures)
    capsys.readouterr()
    assert main(["evaluate", str(files / "model.json"), str(path), "--json"]) == 0
    result = strict_json(capsys.readouterr().out)
    assert result["n_structures"] == 3
    assert result["n_force_components"] == 0
    assert result["rmse_force_meV_per_A"] is None
    assert np.isfinite(result["rmse_energy_meV_per_atom"])


def test_evaluate_json_matches_text(files, capsys):
    argv = ["evaluate", str(files / "model.json"), str(files / "cu.extxyz")]
    assert main([*argv, "--json"]) == 0
    result = strict_json(capsys.readouterr().out)
    assert result["n_structures"] == 6 and result["n_force_components"] == 72
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert f"{result['rmse_energy_meV_per_atom']:10.4f} meV/atom" in text


def test_evaluate_extrapolation_is_one_summary_or_an_error(files, tmp_path, capsys):
    """Compressed cells leave the training range: one warning line with counts, or exit 2."""
    squeezed = [label(bulk("Cu", "fcc", a=a, cubic=True), EMT()) for a in (3.0, 3.1, 3.2)]
    path = tmp_path / "squeezed.extxyz"
    write_extxyz(path, squeezed)
    argv = ["evaluate", str(files / "model.json"), str(path), "--json"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert strict_json(captured.out)["n_structures_extrapolating"] == 3
    (line,) = captured.err.strip().splitlines()
    assert line.startswith("nnp-ref: warning: 3 of 3 structures have symmetry functions outside")
    assert main([*argv, "--extrapolation", "off"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert strict_json(captured.out)["n_structures_extrapolating"] == 3
    assert main([*argv, "--extrapolation", "raise"]) == 2
    one_line_error(capsys, f"{path}: extrapolation: ")


def test_extxyz_cut_last_frame_is_skipped_with_a_warning(files, tmp_path, capsys):
    """A trajectory killed mid-write: the whole frames are read, the cut one is named."""
    lines = (files / "cu.extxyz").read_text().splitlines()
    path = tmp_path / "cut.extxyz"
    path.write_text("\n".join(lines[:-2]) + "\n")  # the last frame lost two atoms
    assert main(["evaluate", str(files / "model.json"), str(path), "--json"]) == 0
    captured = capsys.readouterr()
    assert strict_json(captured.out)["n_structures"] == 5
    lines = captured.err.strip().splitlines()  # warnings only, one line each
    assert all(line.startswith("nnp-ref: warning: ") for line in lines)
    cut = f"{path}:31: structure 5: the last frame is cut off; skipped it"
    assert sum(cut in line for line in lines) == 1


def test_extxyz_damage_names_file_line_and_structure(files, tmp_path, capsys):
    lines = (files / "cu.extxyz").read_text().splitlines()
    path = tmp_path / "damaged.extxyz"
    del lines[14:16]  # structure 2 (lines 13-18) lost two of its atoms: not at the end
    path.write_text("\n".join(lines) + "\n")
    assert main(["evaluate", str(files / "model.json"), str(path)]) == 2
    one_line_error(capsys, f"{path}:13: structure 2: cannot read")


def test_unknown_element_names_file_and_structure(files, tmp_path, capsys):
    gold = label(bulk("Au", "fcc", a=4.08, cubic=True), EMT())
    path = tmp_path / "mixed.extxyz"
    write_extxyz(path, [*copper(2), gold])
    assert main(["evaluate", str(files / "model.json"), str(path)]) == 2
    one_line_error(capsys, f"{path}: structure 2 (Au4) has element(s) Au", "(Cu)")
    argv = ["md", str(files / "model.json"), str(path), "--index", "-1", "--steps", "1"]
    assert main([*argv, "--trajectory", str(tmp_path / "md.traj")]) == 2
    one_line_error(capsys, f"{path}: structure 2 (Au4) has element(s) Au")


# ---------------------------------------------------------------------------
# md: options checked before any work
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options, message",
    [
        (["--write-every", "0"], "md: argument --write-every: must be >= 1, got 0"),
        (["--steps", "-5"], "md: argument --steps: must be >= 1, got -5"),
        (["--dt", "nan"], "md: argument --dt: must be a finite number > 0"),
        (["--repeat", "2", "0", "2"], "md: argument --repeat: must be >= 1, got 0"),
    ],
)
def test_md_bad_option_is_one_line(files, capsys, options, message):
    with pytest.raises(SystemExit) as exit_:
        main(["md", str(files / "model.json"), str(files / "cu.extxyz"), *options])
    assert exit_.value.code == 2
    one_line_error(capsys, message)


@pytest.mark.parametrize(
    "options, message",
    [
        (["--index", "99"], "--index 99: "),
        (["--index", "-7"], "--index -7: "),
        (["--integrator", "langevin"], "--integrator langevin needs --temperature"),
        (["--temperature", "300"], "--temperature is the thermostat target"),
        (["--double-init-temperature"], "--double-init-temperature needs --init-temperature"),
    ],
)
def test_md_bad_choice_is_one_line(files, tmp_path, capsys, options, message):
    trajectory = tmp_path / "md.traj"
    argv = ["md", str(files / "model.json"), str(files / "cu.extxyz"), *options]
    assert main([*argv, "--trajectory", str(trajectory), "--steps", "2"]) == 2
    err = one_line_error(capsys, message)
    if "--index" in options:
        assert "holds 6 structures (indices 0 to 5)" in err
    assert not trajectory.exists()


def test_md_explains_equipartition(files, tmp_path, capsys):
    """NVE from a crystal near its minimum: the mean temperature is about half the start."""
    out = tmp_path / "md"
    common = ["--steps", "40", "--dt", "2", "--write-every", "20", "--repeat", "2", "2", "2"]
    files_ = ["--trajectory", str(out) + ".traj", "--plot", str(out) + ".png"]
    argv = ["md", str(files / "model.json"), str(files / "cu.extxyz"), *common, *files_]
    assert main([*argv, "--init-temperature", "300"]) == 0
    text = capsys.readouterr().out
    assert "initial velocities at 300 K" in text
    assert main([*argv, "--init-temperature", "300", "--double-init-temperature"]) == 0
    assert "initial velocities at 600 K" in capsys.readouterr().out


def test_md_extrapolation_summary_even_quiet_or_error(files, tmp_path, capsys):
    path = tmp_path / "squeezed.extxyz"
    write_extxyz(path, [label(bulk("Cu", "fcc", a=3.2, cubic=True), EMT())])
    out = ["--trajectory", str(tmp_path / "md.traj"), "--plot", str(tmp_path / "md.png")]
    argv = ["md", str(files / "model.json"), str(path), "--steps", "3", *out]
    assert main([*argv, "-q"]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = [x for x in captured.err.splitlines() if x.startswith("nnp-ref:")]
    assert len(lines) == 1, captured.err
    (line,) = lines
    assert line.startswith("nnp-ref: warning: ")
    assert "outside the training range over the 4 evaluated steps" in line
    assert main([*argv, "-q", "--extrapolation", "raise"]) == 2
    one_line_error(capsys, "outside the training range")


@pytest.mark.parametrize(
    "integrator, mean_T, expected",
    [("verlet", 157.0, True), ("verlet", 290.0, False), ("langevin", 157.0, False)],
)
def test_equipartition_note(integrator, mean_T, expected):
    """NVE from rest at 300 K settling near 150 K is explained, a thermostat run is not."""
    from argparse import Namespace

    from nnp_ref.cli.md import _equipartition_note

    note = _equipartition_note(Namespace(integrator=integrator), mean_T, 300.0)
    assert (note is not None) == expected
    if expected:
        assert "equipartition" in note and "--double-init-temperature" in note


# ---------------------------------------------------------------------------
# train: an earlier run is never overwritten silently
# ---------------------------------------------------------------------------


def test_train_refuses_existing_output(files, tmp_path, capsys):
    config = tmp_path / "train.toml"
    config.write_text(
        f'[data]\npath = "{files / "cu.extxyz"}"\nvalidation = 0.2\ntest = 0.0\n'
        "[potential]\nrc = 4.0\nhidden = [3]\nn_radial = 3\nn_angular = 1\n"
        '[training]\noptimizer = "adam"\nepochs = 1\n'
        '[output]\ndirectory = "run"\n'
    )
    assert main(["train", str(config), "-q"]) == 0
    model = tmp_path / "run" / "model.json"

    def weights():
        return json.loads(model.read_text())["networks"]

    first = weights()
    assert main(["train", str(config), "-q"]) == 2
    one_line_error(capsys, "already holds a training run", "--resume", "--overwrite")
    assert weights() == first
    (tmp_path / "run" / "model.json").unlink()
    assert main(["train", str(config), "-q", "--overwrite"]) == 0
    assert weights() == first  # same seed, same epochs: the same model
    assert main(["train", str(config), "-q", "--resume"]) == 0
    with pytest.raises(SystemExit):
        main(["train", str(config), "-q", "--resume", "--overwrite"])
    one_line_error(capsys, "not allowed with argument")


def test_train_resume_without_checkpoint(tmp_path, files, capsys):
    config = tmp_path / "train.toml"
    config.write_text(f'[data]\npath = "{files / "cu.extxyz"}"\n')
    assert main(["train", str(config), "--resume", "--out", str(tmp_path / "new")]) == 2
    one_line_error(capsys, "no checkpoint to resume")


# ---------------------------------------------------------------------------
# --help is fast: no numerical module is imported to build the parser
# ---------------------------------------------------------------------------


HELP_SCRIPT = """
import sys
from nnp_ref.cli import main
for argv in [["--help"]] + [[name, "--help"] for name in {names}]:
    try:
        main(argv)
    except SystemExit:
        pass
heavy = ("numba", "numpy", "ase", "matplotlib", "scipy", "nnp_ref.model", "nnp_ref.descriptors")
print("LOADED", sorted(m for m in heavy if m in sys.modules))
"""


def test_help_imports_no_numerical_module():
    import importlib

    names = [importlib.import_module(f"nnp_ref.cli.{m}").NAME for m in COMMANDS]
    result = subprocess.run(
        [sys.executable, "-c", HELP_SCRIPT.format(names=names)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "usage: nnp-ref md" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "LOADED []"
