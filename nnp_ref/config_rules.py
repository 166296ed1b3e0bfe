"""Rules of the ``nnp-ref train`` config schema: value -> None if fine, else what is wrong.

Each rule is a small function (or a factory of one) that ``nnp_ref.config``
attaches to a key; its message completes the line
``train.toml: [table] key = value: <message>``.
"""

from __future__ import annotations

from dataclasses import field


def positive(value):
    return None if value > 0 else "must be > 0"


def at_least(low):
    return lambda value: None if value >= low else f"must be >= {low}"


def between(low, high):
    """Bounded counts: a typo such as ``n_radial = 1e8`` is refused, not run for hours."""
    return lambda value: None if low <= value <= high else f"must be in [{low}, {high}]"


def fraction(value):
    return None if 0 <= value < 1 else "must be in [0, 1)"


def unit_interval(value):
    return None if 0 < value <= 1 else "must be in (0, 1]"


def one_of(*names):
    return lambda value: None if value in names else f"must be one of {', '.join(names)}"


def each(rule):
    """A rule applied to every element of a list."""

    def check(values):
        for value in values:
            problem = rule(value)
            if problem:
                return f"{value!r}: {problem}"
        return None

    return check


def non_empty(rule=None):
    def check(values):
        if not values:
            return "must not be empty"
        return rule(values) if rule else None

    return check


def unit(kind: str):
    def check(value):
        from nnp_ref.io.formats import parse_unit

        try:
            parse_unit(value, kind)
        except ValueError as err:
            return str(err)
        return None

    return check


def activation_codes(values):
    from nnp_ref.model.activations import CODES

    bad = [v for v in values if v not in CODES]
    return f"unknown activation code(s) {bad}; n2p2 codes are {' '.join(CODES)}" if bad else None


def cutoff_type(value):
    from nnp_ref.descriptors.cutoff import CUTOFF_NAMES

    return None if value in CUTOFF_NAMES else f"must be an n2p2 cutoff type {sorted(CUTOFF_NAMES)}"


def non_empty_text(value):
    return None if value.strip() else "must not be empty"


def rule(check, default=None):
    """A dataclass field with a default and a rule (in ``metadata["rule"]``)."""
    return field(default=default, metadata={"rule": check})


__all__ = [
    "activation_codes",
    "at_least",
    "between",
    "cutoff_type",
    "each",
    "fraction",
    "non_empty",
    "non_empty_text",
    "one_of",
    "positive",
    "rule",
    "unit",
    "unit_interval",
]
