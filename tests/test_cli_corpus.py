"""A damaged-file corpus through ``nnp-ref`` (issue 16): never a traceback, never a NaN.

Generated here from good files: TOML configs with wrong types, NaN, negative
values, duplicated lines, truncated lines and missing headers; extxyz and
n2p2 data files truncated, with deleted or duplicated lines and with
non-numbers, NaN or inf in place of a number. Each goes through ``main(argv)``
in-process. The answer must be "exit 2 and one line naming the file", or,
for a file that is still valid, "exit 0 and finite numbers" (strict JSON).
A damaged config must be refused before any work: no output folder appears.
"""

import json
import re

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.emt import EMT

from nnp_ref.cli import main
from nnp_ref.data.datasets import label, write_extxyz
from nnp_ref.io.model_json import save_model
from nnp_ref.io.n2p2 import write_data
from nnp_ref.training.trainer import build_potential


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """Three labelled 4-atom copper cells (extxyz and input.data) and a model for them."""
    folder = tmp_path_factory.mktemp("corpus")
    rng = np.random.default_rng(7)
    structures = []
    for _ in range(3):
        atoms = bulk("Cu", "fcc", a=3.61, cubic=True)
        atoms.positions += rng.normal(scale=0.05, size=atoms.positions.shape)
        structures.append(label(atoms, EMT()))
    write_extxyz(folder / "cu.extxyz", structures)
    write_data(structures, folder / "input.data")
    potential, _ = build_potential(
        structures, hidden=(3,), rc=4.0, n_radial=2, n_angular=1, progress=False
    )
    save_model(potential, folder / "model.json")
    return folder


def check(capsys, code: int, path) -> None:
    """Exit 2 with one line naming ``path``, or exit 0 with strict, finite JSON."""
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    if code == 0:
        result = json.loads(captured.out, parse_constant=lambda c: pytest.fail(f"JSON {c}"))
        assert np.isfinite(result["rmse_energy_meV_per_atom"])
        assert result["n_structures"] >= 1
        return
    assert code == 2, captured.err
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("nnp-ref: error: ")
    assert str(path) in lines[0] or path.name in lines[0], lines[0]


# ---------------------------------------------------------------------------
# Data files
# ---------------------------------------------------------------------------


def number_spans(line: str):
    return [m.span() for m in re.finditer(r"-?\d+\.\d+(e[-+]?\d+)?", line)]


def data_variants(text: str):
    """(name, damaged text): truncations, deletions, duplications, bad numbers."""
    lines = text.splitlines(keepends=True)
    for k in range(1, len(lines)):
        yield f"cut{k}", "".join(lines[:k])
        yield f"cut{k}-mid", "".join(lines[: k - 1]) + lines[k - 1][: len(lines[k - 1]) // 2]
    for k in range(len(lines)):
        yield f"del{k}", "".join(lines[:k] + lines[k + 1 :])
        yield f"dup{k}", "".join(lines[: k + 1] + lines[k:])
    for k in range(0, len(lines), 3):
        spans = number_spans(lines[k])
        if spans:
            a, b = spans[len(spans) // 2]
            for bad in ("abc", "nan", "inf", ""):
                yield (
                    f"num{k}-{bad}",
                    "".join(lines[:k] + [lines[k][:a] + bad + lines[k][b:]] + lines[k + 1 :]),
                )


@pytest.mark.parametrize("name", ["cu.extxyz", "input.data"])
def test_damaged_data_files_through_evaluate(good, tmp_path, capsys, name):
    text = (good / name).read_text()
    n = 0
    for tag, damaged in data_variants(text):
        path = tmp_path / f"{tag}-{name}"
        path.write_text(damaged)
        code = main(["evaluate", str(good / "model.json"), str(path), "--json", "-q"])
        check(capsys, code, path)
        n += 1
    assert n > 50


# ---------------------------------------------------------------------------
# TOML configs
# ---------------------------------------------------------------------------

BASE = """\
[data]
path = "{data}"
validation = 0.2
test = 0.2
[potential]
rc = 4.0
hidden = [3]
n_radial = 2
[training]
optimizer = "adam"
epochs = 1
learning_rate = 0.001
force_weight = 1.0
[output]
directory = "out"
"""


def config_variants(text: str):
    """Damaged configs that are all invalid (so that none starts training)."""
    lines = text.splitlines(keepends=True)
    for k, line in enumerate(lines):
        if line.startswith("["):
            yield f"nohead{k}", "".join(lines[:k] + lines[k + 1 :])
            continue
        key, value = (s.strip() for s in line.split("=", 1))
        wrong = "1" if value.startswith('"') else '"x"'
        for bad in (wrong, "nan", "inf", "-1", "[1, 2]", "{a = 1}", "true"):
            if (key, bad) == ("hidden", "[1, 2]"):
                continue  # a valid value
            yield f"{key}={bad}", "".join(lines[:k] + [f"{key} = {bad}\n"] + lines[k + 1 :])
        yield f"dup-{key}", "".join(lines[: k + 1] + lines[k:])
        yield f"cut-{key}", "".join(lines[:k] + [line[: len(key) + 2] + "\n"] + lines[k + 1 :])
        yield f"unknown-{key}", "".join(lines[: k + 1] + [f"{key}x = 1\n"] + lines[k + 1 :])
    yield "binary", "\x00\xff[data"


def test_damaged_configs_are_refused_before_any_work(good, tmp_path, capsys):
    text = BASE.format(data=good / "cu.extxyz")
    n = 0
    for tag, damaged in config_variants(text):
        path = tmp_path / f"{re.sub(r'[^A-Za-z0-9_=.-]', '_', tag)}.toml"
        path.write_text(damaged)
        code = main(["train", str(path), "-q"])
        assert code == 2, f"{tag}: exit {code}"
        check(capsys, code, path)
        assert not (tmp_path / "out").exists(), tag
        n += 1
    assert n > 80
