r"""Symmetry-function sets from "elements and a cutoff": the published generation schemes.

The radial parameters (r_s, eta) of a set of Gaussians exp(-eta (r - r_s)^2)
f_c(r) are generated on a grid, as n2p2's ``sfparamgen`` tool does
(``tools/python/symfunc_paramgen``), with two rules and two modes each:

**imbalzano2018** (G. Imbalzano, A. Anelli, D. Giofré, S. Klees, J. Behler
and M. Ceriotti, J. Chem. Phys. 148, 241730 (2018), doi:10.1063/1.5024611,
Sec. III A; n = number of functions, m = 0..n-1, r_c the cutoff):

- "center": r_s = 0, widths on a geometric grid between r_c/n and r_c,

      eta_m = (n'^(m/n') / r_c)^2,  n' = n - 1;

- "shift": shifts on a geometric grid towards the centre atom,
  r_k = r_c / n^(k/n), k = 0..n, and each Gaussian as wide as its interval,

      r_s,m = r_{m+1},   eta_m = 1 / (r_m - r_{m+1})^2,

  returned in ascending r_s (so narrow Gaussians sit at short distances,
  where the density of neighbours changes fastest).

**gastegger2018** (M. Gastegger, L. Schwiedrzik, M. Bittermann, F. Berzsenyi
and P. Marquetand, J. Chem. Phys. 148, 241709 (2018), doi:10.1063/1.5019667;
an equidistant grid r_m = linspace(r_lower, r_upper, n)):

- "center": r_s = 0, eta_m = 1 / (2 r_m^2);
- "shift": r_s,m = r_m, eta = 1 / (2 dr^2), dr = (r_upper - r_lower)/(n - 1).

Element combinations and order follow ``sfparamgen``: radial functions for
every (centre, neighbour) element pair; angular functions for every centre
and unordered neighbour pair (``combinations_with_replacement``), looping
over (r_s, eta) pairs, then zeta, then lambda = -1, +1.

Note: "imbalzano2018"/"center" with n = 2 gives two *identical* widths
(n' = 1, 1^x = 1), as sfparamgen does; use n >= 3 (correlation pruning,
:mod:`~nnp_ref.selection.pruning`, removes such duplicates).

Where it departs from sfparamgen: parameters are kept at full precision
(sfparamgen prints 4 significant digits), and ``n = 1`` is refused for
"shift" as there (no interval to derive a width from).
"""

from __future__ import annotations

from itertools import combinations_with_replacement

import numpy as np

from nnp_ref.descriptors.symmetry_functions import SymmetryFunction

RULES = ("imbalzano2018", "gastegger2018")
MODES = ("center", "shift")
ANGULAR_TYPES = {"narrow": 3, "wide": 9}


def imbalzano_center(n: int, rc: float) -> tuple[np.ndarray, np.ndarray]:
    """(r_s, eta): r_s = 0, eta_m = ((n-1)^(m/(n-1)) / r_c)^2, m = 0..n-1."""
    intervals = n - 1
    m = np.arange(n)
    eta = (intervals ** (m / intervals) / rc) ** 2
    return np.zeros(n), eta


def imbalzano_shift(n: int, rc: float) -> tuple[np.ndarray, np.ndarray]:
    """(r_s, eta): r_k = r_c / n^(k/n), k = 0..n; r_s = r_{m+1}, eta = 1/(r_m - r_{m+1})^2."""
    k = np.arange(n + 1)
    r_k = rc / n ** (k / n)
    eta = 1.0 / (r_k[:-1] - r_k[1:]) ** 2
    return np.flip(r_k[1:]).copy(), np.flip(eta).copy()


def gastegger_center(n: int, r_lower: float, r_upper: float) -> tuple[np.ndarray, np.ndarray]:
    """(r_s, eta): r_s = 0, eta_m = 1/(2 r_m^2), r_m = linspace(r_lower, r_upper, n)."""
    r_m = np.linspace(r_lower, r_upper, n)
    return np.zeros(n), 1.0 / (2.0 * r_m**2)


def gastegger_shift(n: int, r_lower: float, r_upper: float) -> tuple[np.ndarray, np.ndarray]:
    """(r_s, eta): r_s = linspace(r_lower, r_upper, n), eta = 1/(2 dr^2)."""
    dr = (r_upper - r_lower) / (n - 1)
    return np.linspace(r_lower, r_upper, n), np.full(n, 1.0 / (2.0 * dr * dr))


def radial_parameters(
    rule: str, mode: str, n: int, rc: float, r_lower: float | None = None,
    r_upper: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """(r_s, eta) arrays of ``n`` Gaussians by ``rule`` and ``mode`` (module docstring).

    ``r_lower`` (required) and ``r_upper`` (default ``rc``) only for
    "gastegger2018"; "imbalzano2018" derives everything from ``rc``.
    """
    if rule not in RULES:
        raise ValueError(f"unknown rule {rule!r}; expected one of {RULES}")
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; expected one of {MODES}")
    if int(n) != n or n < 2:
        raise ValueError(f"need at least 2 (r_s, eta) pairs, got n={n}")
    if not rc > 0:
        raise ValueError(f"cutoff radius must be positive, got rc={rc}")
    n = int(n)
    if rule == "imbalzano2018":
        if r_lower is not None or r_upper is not None:
            raise ValueError("rule 'imbalzano2018' takes no r_lower/r_upper (only rc)")
        return imbalzano_center(n, rc) if mode == "center" else imbalzano_shift(n, rc)
    if r_lower is None:
        raise ValueError("rule 'gastegger2018' needs r_lower (about the shortest distance, Å)")
    r_upper = rc if r_upper is None else r_upper
    low_ok = r_lower > 0 if mode == "center" else r_lower >= 0
    if not (low_ok and r_lower < r_upper <= rc):
        bound = "0 <" if mode == "center" else "0 <="
        raise ValueError(
            f"rule 'gastegger2018', mode {mode!r} needs {bound} r_lower < r_upper <= rc, "
            f"got r_lower={r_lower}, r_upper={r_upper}, rc={rc}"
        )
    if mode == "center":
        return gastegger_center(n, r_lower, r_upper)
    return gastegger_shift(n, r_lower, r_upper)


def radial_set(elements, rc, rs, eta, cutoff_type: int = 6) -> dict[str, list[SymmetryFunction]]:
    """Type-2 functions for every (centre, neighbour) pair and every (r_s, eta) pair."""
    sets: dict[str, list[SymmetryFunction]] = {e: [] for e in elements}
    for center in elements:
        for nb in elements:
            for r_s, eta_s in zip(rs, eta):
                sets[center].append(
                    SymmetryFunction(2, center, (nb,), float(rc), eta=float(eta_s),
                                     rs=float(r_s), cutoff_type=cutoff_type)
                )  # fmt: skip
    return sets


def angular_set(
    elements, rc, rs, eta, zetas=(1.0, 4.0, 16.0), kind: str = "narrow", cutoff_type: int = 6
) -> dict[str, list[SymmetryFunction]]:
    """Angular functions (type 3 narrow, 9 wide) for every centre and unordered neighbour pair."""
    if kind not in ANGULAR_TYPES:
        raise ValueError(f"angular kind must be one of {tuple(ANGULAR_TYPES)}, got {kind!r}")
    if len(zetas) == 0 or min(zetas) < 1:
        raise ValueError(f"need at least one zeta, all >= 1, got {tuple(zetas)}")
    sf_type = ANGULAR_TYPES[kind]
    sets: dict[str, list[SymmetryFunction]] = {e: [] for e in elements}
    for center in elements:
        for pair in combinations_with_replacement(elements, 2):
            for r_s, eta_s in zip(rs, eta):
                for zeta in zetas:
                    for lam in (-1.0, 1.0):
                        sets[center].append(
                            SymmetryFunction(sf_type, center, pair, float(rc), eta=float(eta_s),
                                             rs=float(r_s), zeta=float(zeta), lam=lam,
                                             cutoff_type=cutoff_type)
                        )  # fmt: skip
    return sets


def generate_symmetry_functions(
    elements,
    rc: float,
    n_radial: int = 6,
    n_angular: int = 3,
    rule: str = "imbalzano2018",
    radial_mode: str = "shift",
    angular_mode: str = "center",
    zetas=(1.0, 4.0, 16.0),
    angular: str = "narrow",
    r_lower: float | None = None,
    r_upper: float | None = None,
    cutoff_type: int = 6,
) -> dict[str, list[SymmetryFunction]]:
    """A complete set {element: [SymmetryFunction]}: radial then angular, sfparamgen order.

    Per centre element: ``n_radial`` radial functions per neighbour element
    and ``n_angular * len(zetas) * 2`` angular ones per unordered pair of
    neighbour elements (``n_angular = 0``: radial only). ``rule``, modes and
    ``r_lower``/``r_upper`` as :func:`radial_parameters`.
    """
    elements = tuple(elements)
    if not elements:
        raise ValueError("need at least one element")
    rs, eta = radial_parameters(rule, radial_mode, n_radial, rc, r_lower, r_upper)
    sets = radial_set(elements, rc, rs, eta, cutoff_type)
    if n_angular:
        rs_a, eta_a = radial_parameters(rule, angular_mode, n_angular, rc, r_lower, r_upper)
        ang = angular_set(elements, rc, rs_a, eta_a, zetas, angular, cutoff_type)
        for e in elements:
            sets[e].extend(ang[e])
    for sfs in sets.values():
        for sf in sfs:
            sf.check()
    return sets


def n2p2_lines(sets: dict[str, list[SymmetryFunction]]) -> list[str]:
    """``symfunction_short`` lines of ``sets`` for an n2p2 ``input.nn`` (full precision)."""
    from nnp_ref.io.n2p2 import format_symfunction

    return [format_symfunction(sf) for sfs in sets.values() for sf in sfs]


__all__ = [
    "angular_set",
    "gastegger_center",
    "gastegger_shift",
    "generate_symmetry_functions",
    "imbalzano_center",
    "imbalzano_shift",
    "n2p2_lines",
    "radial_parameters",
    "radial_set",
]
