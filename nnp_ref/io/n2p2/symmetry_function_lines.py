"""``symfunction_short`` lines of input.nn and n2p2's sort order of symmetry functions.

n2p2 (``SymFnc*.cpp``) reads each type's parameters in a fixed order
(``setParameters``), and sorts every element's functions with the type's
``operator<`` (``Element::sortSymmetryFunctions``): that sorted order is the
order of ``scaling.data`` and of the network inputs. ``convert_length``
mirrors ``changeLengthUnit``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from ase.data import atomic_numbers

from nnp_ref.descriptors.compact import check_angle_bounds
from nnp_ref.descriptors.symmetry_functions import SymmetryFunction
from nnp_ref.io.n2p2.lines import N2p2FormatError, sort_elements, to_element, to_float, to_int

#: Parameters after "<element> <type>" of each ``symfunction_short`` type, in
#: the order of n2p2's ``setParameters`` (``[rs]`` optional, default 0).
SYMFUNCTION_PARAMETERS = {
    2: ("e1", "eta", "rs", "rc"),
    3: ("e1", "e2", "eta", "lam", "zeta", "rc", "[rs]"),
    9: ("e1", "e2", "eta", "lam", "zeta", "rc", "[rs]"),
    12: ("eta", "rs", "rc"),
    13: ("eta", "rs", "lam", "zeta", "rc"),
    20: ("e1", "rl", "rc", "subtype"),
    21: ("e1", "e2", "rl", "rc", "angle_left", "angle_right", "subtype"),
    22: ("e1", "e2", "rl", "rc", "angle_left", "angle_right", "subtype"),
    23: ("rl", "rc", "subtype"),
    24: ("rl", "rc", "angle_left", "angle_right", "subtype"),
    25: ("rl", "rc", "angle_left", "angle_right", "subtype"),
}


def parse_symfunction(
    value: str, elements, cutoff_type: int, cutoff_alpha: float, path="<string>", line=0
) -> SymmetryFunction:
    """A ``SymmetryFunction`` (file length units) from a ``symfunction_short`` value.

    ``value`` is the line after the keyword, e.g. ``"H 3 O H 0.2 1.0 1.0 12.0"``.
    Angular neighbour pairs are stored in n2p2's order (lower atomic number
    first: n2p2 swaps e1, e2 so that e1 <= e2). ``cutoff_type``/``alpha``
    come from the global ``cutoff_type`` keyword (the compact types 20-25 do
    not use them).
    """
    tokens = value.split()
    if len(tokens) < 2:
        raise N2p2FormatError(path, line, f"expected '<element> <type> ...', got {value!r}")
    center = to_element(tokens[0], path, line, elements)
    sf_type = to_int(tokens[1], path, line, "the symmetry function type")
    if sf_type not in SYMFUNCTION_PARAMETERS:
        raise N2p2FormatError(
            path, line, f"unknown symmetry function type {sf_type}; n2p2 knows "
            + ", ".join(map(str, SYMFUNCTION_PARAMETERS))
        )  # fmt: skip
    names = SYMFUNCTION_PARAMETERS[sf_type]
    n_required = sum(not n.startswith("[") for n in names)
    args = tokens[2:]
    if not n_required <= len(args) <= len(names):
        counts = f"{n_required}" if n_required == len(names) else f"{n_required} or {len(names)}"
        raise N2p2FormatError(
            path, line,
            f"symmetry function type {sf_type} takes {counts} parameters after the type "
            f"({' '.join(names)}), got {len(args)}: {value!r}",
        )  # fmt: skip
    p = {}
    for name, token in zip(names, args):
        name = name.strip("[]")
        if name in ("e1", "e2"):
            p[name] = to_element(token, path, line, elements)
        elif name == "subtype":
            p[name] = token
        else:
            p[name] = to_float(token, path, line, f"parameter {name} of type {sf_type}")
    neighbours = tuple(sort_elements(p[k] for k in ("e1", "e2") if k in p))
    kwargs = {k: v for k, v in p.items() if k not in ("e1", "e2")}
    sf = SymmetryFunction(
        type=sf_type,
        center=center,
        neighbours=neighbours,
        cutoff_type=cutoff_type,
        alpha=cutoff_alpha,
        **kwargs,
    )
    try:
        sf.check()
        if sf_type in (21, 22, 24, 25):
            check_angle_bounds(sf.angle_left, sf.angle_right)
    except ValueError as error:
        raise N2p2FormatError(path, line, f"invalid symmetry function {value!r}: {error}") from None
    return sf


def format_symfunction(sf: SymmetryFunction) -> str:
    """The ``symfunction_short`` line of ``sf`` (n2p2's parameter order, full precision)."""
    values = {
        "e1": sf.neighbours[0] if sf.neighbours else "",
        "e2": sf.neighbours[1] if len(sf.neighbours) > 1 else "",
        "eta": sf.eta, "rs": sf.rs, "rc": sf.rc, "lam": sf.lam, "zeta": sf.zeta,
        "rl": sf.rl, "angle_left": sf.angle_left, "angle_right": sf.angle_right,
        "subtype": sf.subtype,
    }  # fmt: skip
    words = [f"{sf.center:>2s}", f"{sf.type:2d}"]
    for name in SYMFUNCTION_PARAMETERS[sf.type]:
        v = values[name.strip("[]")]
        words.append(f"{v:>2s}" if isinstance(v, str) else f"{v:24.16E}")
    return "symfunction_short " + " ".join(words)


def convert_length(sf: SymmetryFunction, factor: float) -> SymmetryFunction:
    """Copy of ``sf`` in a new length unit: new = ``factor`` * old length.

    rc, rs, rl are multiplied by ``factor`` and eta divided by ``factor``^2
    (n2p2 ``changeLengthUnit``); angles, zeta, lambda, alpha are unchanged.
    G itself is invariant under this change.
    """
    return dataclasses.replace(
        sf, rc=sf.rc * factor, rs=sf.rs * factor, rl=sf.rl * factor, eta=sf.eta / factor**2
    )


def n2p2_sort_key(sf: SymmetryFunction) -> tuple:
    """Key reproducing the ``operator<`` of n2p2's symmetry-function classes.

    All types compare the central element, then the type code, then
    (SymFnc*.cpp, ``operator<``):

    ========  ============================================================
    type      then, in this order
    ========  ============================================================
    2         rc, eta, rs, e1
    3, 9      rc, eta, rs, zeta, lambda, e1, e2
    12        rc, eta, rs
    13        rc, eta, rs, zeta, lambda
    20        subtype (string), e1, rc, rl
    21, 22    subtype, e1, e2, rc, rl, angle_left, angle_right
    23        subtype, rc, rl
    24, 25    subtype, rc, rl, angle_left, angle_right
    ========  ============================================================

    Elements compare by n2p2's element index, which follows the atomic
    number, so atomic numbers are used directly (e1 <= e2 for angular
    types). The exponential types also compare cutoff type and alpha right
    after the type, but n2p2 sorts before it sets the cutoff function
    (``Mode::setupSymmetryFunctions``), when they are equal for all
    functions; they are left out here.
    """
    Z = [atomic_numbers[e] for e in sf.neighbours]
    t = sf.type
    if t == 2:
        rest = (sf.rc, sf.eta, sf.rs, Z[0])
    elif t in (3, 9):
        rest = (sf.rc, sf.eta, sf.rs, sf.zeta, sf.lam, min(Z), max(Z))
    elif t == 12:
        rest = (sf.rc, sf.eta, sf.rs)
    elif t == 13:
        rest = (sf.rc, sf.eta, sf.rs, sf.zeta, sf.lam)
    elif t == 20:
        rest = (sf.subtype, Z[0], sf.rc, sf.rl)
    elif t in (21, 22):
        rest = (sf.subtype, min(Z), max(Z), sf.rc, sf.rl, sf.angle_left, sf.angle_right)
    elif t == 23:
        rest = (sf.subtype, sf.rc, sf.rl)
    elif t in (24, 25):
        rest = (sf.subtype, sf.rc, sf.rl, sf.angle_left, sf.angle_right)
    else:
        raise ValueError(f"unknown symmetry function type {t}")
    return (atomic_numbers[sf.center], t, *rest)


def sort_order(sfs: Sequence[SymmetryFunction], conv_length: float = 1.0) -> list[int]:
    """Indices that put ``sfs`` in n2p2's order (``Element::sortSymmetryFunctions``).

    With data-set normalisation n2p2 sorts after converting the lengths to
    internal units (``conv_length``); pass it to compare exactly the same
    numbers (it can only matter for values differing in the last digit).
    Ties (identical functions) keep their input order.
    """
    if conv_length != 1.0:
        keys = [n2p2_sort_key(convert_length(sf, conv_length)) for sf in sfs]
    else:
        keys = [n2p2_sort_key(sf) for sf in sfs]
    return sorted(range(len(sfs)), key=keys.__getitem__)


def sort_symmetry_functions(
    sfs: Sequence[SymmetryFunction], conv_length: float = 1.0
) -> list[SymmetryFunction]:
    """``sfs`` in n2p2's order (the order of scaling.data and the network inputs)."""
    return [sfs[i] for i in sort_order(sfs, conv_length)]
