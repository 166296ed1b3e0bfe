r"""The exercise checker: grades a student's function and says *what* is wrong.

Every exercise (``nnp_ref.course.exercises``) is a function the student
writes in a notebook cell. :func:`check` calls it on fixed inputs, compares
each returned array ("part") with a trusted answer (central finite
differences of nnp_ref's own forward code, or nnp_ref's tested
implementation), and, when the answer is wrong, runs a list of *typical
mistakes* (sign flips, a missing factor, a transpose, a missing self term,
...) through the same inputs: if the student's numbers match one of them,
the verdict names it. Comparisons use the relative error of the project's
``nnp_ref.checks.compare`` (Karpathy's makemore "backprop ninja" ``cmp``):

    rel = max |answer - expected| / max |expected|

A verdict never raises: a function that still returns ``None`` (the blank
version), raises, or returns the wrong shape gets a one-paragraph message
naming the problem and the line, so a notebook always runs to its end.

Usage in a notebook cell::

    from nnp_ref.course.grading import check
    check("cutoff", dfc_dr)        # -> Grade, shown as its verdict
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from nnp_ref.checks import compare

PASS, FAIL, BLANK = "✓", "✗", "…"


@dataclass
class Grade:
    """Verdict of :func:`check`: ``passed``, ``status`` (PASS/FAIL/BLANK), the message.

    ``mistake`` is the description of the typical mistake the answer
    matched (or ""), ``errors`` the relative error of each part (nan if it
    could not be computed). Shown (repr) as its message.
    """

    exercise: str
    status: str
    message: str
    mistake: str = ""
    errors: dict = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.status == PASS

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Exercise:
    """One graded exercise.

    ``run(fn)``: calls a student-style function on the exercise's inputs and
    returns a tuple of arrays, one per entry of ``parts``.
    ``expected()``: the trusted answer, same tuple (finite differences or a
    tested nnp_ref implementation). ``solution``: the model answer, a
    function with the student's signature. ``mistakes``: description ->
    wrong function with the same signature (checked in order). ``rtol``:
    the largest relative error that passes (per part).
    """

    name: str
    title: str
    parts: tuple[str, ...]
    run: Callable
    expected: Callable
    solution: Callable
    mistakes: dict
    rtol: float = 1e-6
    notebook: str = ""


def relative_error(answer, expected) -> float:
    """max |answer - expected| / max |expected| (the absolute difference if expected is 0).

    ``nnp_ref.checks.compare`` without its printout.
    """
    return compare("", answer, expected, verbose=False)


def _student_line(exc: BaseException) -> str:
    """'line N: <code>' of the innermost frame outside nnp_ref (the student's cell)."""
    frames = traceback.extract_tb(exc.__traceback__)
    own = [f for f in frames if "nnp_ref" not in f.filename.replace("\\", "/")]
    if not own:
        return ""
    frame = own[-1]
    code = f": {frame.line.strip()}" if frame.line else ""
    return f" (line {frame.lineno}{code})"


def _is_blank(exc: BaseException) -> bool:
    """True if the error comes from a blank still set to None (the TODO lines)."""
    text = str(exc)
    if "NoneType" in text or "dtype('O')" in text or "not 'NoneType'" in text:
        return True
    frames = traceback.extract_tb(exc.__traceback__)
    return bool(frames) and "TODO" in (frames[-1].line or "")


def _call(exercise: Exercise, fn):
    """(parts, None) or (None, message) for a function that failed to give numbers."""
    title = exercise.title
    try:
        value = exercise.run(fn)
    except NotImplementedError:
        return None, f"{BLANK} {title}: not written yet. Fill in the lines marked TODO."
    except (TypeError, ValueError) as exc:
        if _is_blank(exc):
            return None, (
                f"{BLANK} {title}: not finished: a value is still None{_student_line(exc)}. "
                "Fill in the lines marked TODO."
            )
        name = type(exc).__name__
        return None, f"{FAIL} {title}: your code raised {name}: {exc}{_student_line(exc)}."
    except Exception as exc:  # noqa: BLE001 - the student's code may raise anything
        name = type(exc).__name__
        return None, f"{FAIL} {title}: your code raised {name}: {exc}{_student_line(exc)}."
    return value, None


def _shape_problem(part: str, answer, expected) -> str | None:
    """A message if answer is None, not numeric, of the wrong shape, or not finite."""
    blank = answer is None or answer is Ellipsis
    if not blank and isinstance(answer, list | tuple | np.ndarray):
        blank = any(v is None for v in np.asarray(answer, dtype=object).ravel())
    if blank:
        return f"{part} is None: not written yet (fill in the lines marked TODO)"
    try:
        answer = np.asarray(answer, dtype=np.float64)
    except (TypeError, ValueError):
        return f"{part} is not an array of numbers (got {type(answer).__name__})"
    if answer.shape != expected.shape:
        hint = ""
        if answer.ndim == 2 and answer.T.shape == expected.shape:
            hint = ": transposed? (rows and columns swapped)"
        elif answer.ndim == expected.ndim + 1:
            hint = ": a sum over one index missing (over the atoms, the rows)?"
        return f"{part} has shape {answer.shape}, expected {expected.shape}{hint}"
    bad = answer.size - np.count_nonzero(np.isfinite(answer))
    if bad:
        first = np.unravel_index(np.argmin(np.isfinite(answer)), answer.shape)
        return f"{part} has {bad} NaN/inf value(s), the first at index {tuple(map(int, first))}"
    return None


def _worst(part: str, answer, expected) -> str:
    """Where the largest difference is: 'part[i, j]: yours a, expected b'."""
    answer = np.asarray(answer, dtype=np.float64)
    index = np.unravel_index(np.argmax(np.abs(answer - expected)), expected.shape)
    where = ", ".join(str(int(i)) for i in index)
    yours, wanted = answer[index], expected[index]
    return f"largest difference at {part}[{where}]: yours {yours:+.6g}, expected {wanted:+.6g}"


def _match_mistake(exercise: Exercise, answers) -> str:
    """The description of the first typical mistake that reproduces the student's numbers."""
    for description, wrong in exercise.mistakes.items():
        try:
            wrong_parts = exercise.run(wrong)
        except Exception:  # noqa: BLE001, S112 - a mistake that cannot run matches nothing
            continue
        same = True
        for answer, reference in zip(answers, wrong_parts, strict=True):
            reference = np.asarray(reference, dtype=np.float64)
            answer = np.asarray(answer, dtype=np.float64)
            if answer.shape != reference.shape or relative_error(answer, reference) > 1e-8:
                same = False
                break
        if same:
            return description
    return ""


def check(exercise, fn) -> Grade:
    """Grade ``fn`` for ``exercise`` (an :class:`Exercise` or its name); never raises.

    PASS when every part is within ``exercise.rtol`` of the expected answer.
    Otherwise the message names each wrong part, the typical mistake it
    matches (if any) and where the largest difference is.
    """
    if isinstance(exercise, str):
        from nnp_ref.course.exercises import get_exercise

        exercise = get_exercise(exercise)
    title = exercise.title
    if not callable(fn):
        return Grade(exercise.name, FAIL, f"{FAIL} {title}: pass your function, got {fn!r}")
    value, problem = _call(exercise, fn)
    if problem is not None:
        return Grade(exercise.name, problem[0], problem)
    answers = tuple(value) if isinstance(value, tuple) else None
    if answers is None or len(answers) != len(exercise.parts):
        n = len(exercise.parts)
        return Grade(
            exercise.name,
            FAIL,
            f"{FAIL} {title}: return {n} values ({', '.join(exercise.parts)}), "
            f"got {type(value).__name__}",
        )
    expected = tuple(np.asarray(e, dtype=np.float64) for e in exercise.expected())
    lines, errors, status = [], {}, PASS
    for part, answer, reference in zip(exercise.parts, answers, expected, strict=True):
        problem = _shape_problem(part, answer, reference)
        if problem is not None:
            blank = "not written yet" in problem
            status = BLANK if blank and status != FAIL else FAIL
            lines.append(problem)
            errors[part] = float("nan")
            continue
        errors[part] = relative_error(answer, reference)
        if errors[part] > exercise.rtol:
            status = FAIL
            lines.append(
                f"{part}: relative error {errors[part]:.1e}; {_worst(part, answer, reference)}"
            )
    if status == PASS:
        detail = ", ".join(f"{p} {e:.1e}" for p, e in errors.items())
        message = f"{PASS} {title}: correct (relative error against the reference: {detail})."
        return Grade(exercise.name, PASS, message, errors=errors)
    mistake = ""
    if status == FAIL and all(np.isfinite(e) for e in errors.values()):
        mistake = _match_mistake(exercise, answers)
    head = f"{status} {title}: " + ("not finished." if status == BLANK else "not right yet.")
    body = ([f"Looks like: {mistake}."] if mistake else []) + lines
    message = "\n  ".join([head, *body])
    return Grade(exercise.name, status, message, mistake=mistake, errors=errors)


__all__ = ["Exercise", "Grade", "check", "relative_error"]
