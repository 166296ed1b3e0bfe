"""The exercises: solutions pass, blanks fail gracefully, typical mistakes are named.

Each exercise notebook (``notebooks/exercises/e*.ipynb``) is executed
in-process (its code cells in one namespace, the value of a cell's last
expression printed as IPython would show it) twice:

- as shipped (blanks): every cell runs, no traceback, and each graded cell
  says "not finished" (never "correct");
- with the solution filled in (each cell tagged ``exercise`` replaced by an
  import of the solution named in its metadata): every graded cell says
  "correct".

The grader itself is checked on every exercise: the solution passes, and
each typical mistake in the exercise's list is recognised and named.
"""

import ast
import contextlib
import inspect
import io
import json
import os
from pathlib import Path

import numpy as np
import pytest

from nnp_ref.checks import central_difference
from nnp_ref.course.exercises import exercise_names, get_exercise
from nnp_ref.course.grading import BLANK, FAIL, PASS, check, relative_error

NOTEBOOKS = sorted(
    (Path(__file__).resolve().parents[1] / "notebooks" / "exercises").glob("e[0-9]_*.ipynb")
)


def code_cells(path):
    nb = json.loads(path.read_text())
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def source(cell) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def solution_import(cell) -> str:
    module, name = cell["metadata"]["nnp_ref"]["solution"].split(":")
    return f"from {module} import {name}"


def run_cells(sources, cwd) -> str:
    """Execute cell sources in one namespace like IPython; return everything printed."""
    namespace = {"__name__": "__main__"}
    out = io.StringIO()
    old = Path.cwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out):
            for text in sources:
                tree = ast.parse(text)
                last = tree.body[-1] if tree.body else None
                if isinstance(last, ast.Expr):
                    body = ast.Module(tree.body[:-1], type_ignores=[])
                    exec(compile(body, "<cell>", "exec"), namespace)
                    value = eval(compile(ast.Expression(last.value), "<cell>", "eval"), namespace)
                    if value is not None:
                        print(repr(value))
                else:
                    exec(compile(tree, "<cell>", "exec"), namespace)
    finally:
        os.chdir(old)
    return out.getvalue()


def test_one_notebook_per_exercise():
    named = [get_exercise(name).notebook for name in exercise_names()]
    assert [p.name for p in NOTEBOOKS] == named


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_blank_notebook_fails_gracefully(path, tmp_path):
    cells = code_cells(path)
    assert sum("exercise" in c["metadata"].get("tags", []) for c in cells) == 1
    printed = run_cells([source(c) for c in cells], tmp_path)
    assert f"{BLANK} " in printed and "not finished" in printed, printed
    assert PASS not in printed and "Traceback" not in printed
    assert "TODO" in printed  # the message says where to write


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_with_solution_passes(path, tmp_path):
    cells = code_cells(path)
    sources = [
        solution_import(c) if "exercise" in c["metadata"].get("tags", []) else source(c)
        for c in cells
    ]
    printed = run_cells(sources, tmp_path)
    assert f"{PASS} " in printed and "correct" in printed, printed
    assert FAIL not in printed and BLANK not in printed, printed


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_blank_has_the_solutions_signature(path):
    """The student's function and the model solution take the same arguments."""
    cell = next(c for c in code_cells(path) if "exercise" in c["metadata"].get("tags", []))
    namespace = {}
    exec("import numpy as np\nfrom nnp_ref.descriptors.cutoff import cutoff_function", namespace)
    exec(source(cell), namespace)
    module, name = cell["metadata"]["nnp_ref"]["solution"].split(":")
    solution = getattr(__import__(module, fromlist=[name]), name)
    assert inspect.signature(namespace[name]) == inspect.signature(solution)


@pytest.mark.parametrize("name", exercise_names())
def test_solution_passes_and_mistakes_are_named(name):
    exercise = get_exercise(name)
    grade = check(name, exercise.solution)
    assert grade.passed, grade.message
    for part, error in grade.errors.items():
        assert error < exercise.rtol, part
    assert len(exercise.mistakes) >= 4
    for description, wrong in exercise.mistakes.items():
        grade = check(exercise, wrong)
        assert not grade.passed
        assert grade.mistake == description, (description, grade.message)
        assert description in grade.message


@pytest.mark.parametrize("name", exercise_names())
def test_a_crashing_answer_gives_one_message(name):
    def broken(*args, **kwargs):
        return undefined_name  # noqa: F821

    grade = check(name, broken)
    assert grade.status == FAIL
    assert "NameError" in grade.message and "undefined_name" in grade.message
    assert "Traceback" not in grade.message


def test_wrong_shapes_are_explained():
    grade = check("layer", lambda X, W, b, g: (g @ W.T, (g.T @ X), g))
    assert "dL/dW has shape (3, 4), expected (4, 3): transposed?" in grade.message
    assert "dL/db has shape (5, 3), expected (3,): a sum over one index missing" in grade.message
    grade = check("cutoff", lambda r, rc: float("nan"))
    assert "NaN/inf" in grade.message


def test_unknown_exercise_is_one_line():
    with pytest.raises(ValueError, match="unknown exercise 'nope'; choose one of: cutoff"):
        get_exercise("nope")


def test_central_difference_and_relative_error():
    x = np.array([0.3, -1.2, 2.0])
    numeric = central_difference(lambda v: np.sin(v).sum(), x, 1e-5)
    assert relative_error(numeric, np.cos(x)) < 1e-9
    assert relative_error(np.zeros(2), np.zeros(2)) == 0.0
