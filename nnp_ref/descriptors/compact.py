r"""n2p2's compact functions C(a; left, right) for the polynomial symmetry functions.

The "polynomial" symmetry functions (n2p2 types 20-25; M. P. Bircher,
A. Singraber, C. Dellago, "Improved description of atomic environments using
low-cost polynomial functions with compact support", arXiv:2010.14414;
Mach. Learn.: Sci. Technol. 2, 035026 (2021)) replace exp(-eta r^2) f_c(r)
and (1 + lambda cos theta)^zeta by one function with compact support
[left, right] for the radial part (left = r_l, right = r_c) and for the
angular part (left = theta_l, right = theta_r). Following n2p2
(``src/libnnp/CompactFunction.h/.cpp``, ``CoreFunction.h/.cpp``,
``SymFncBaseComp.cpp``), with centre c = (left + right)/2 and half-width
w = (right - left)/2:

    C(a) = f(|a - c| / w)     for left < a < right,     0 otherwise,
    dC/da = sign(a - c) f'(|a - c| / w) / w.

So C is a bump, symmetric about c, with C(c) = 1 and C = 0 at both ends
(a cutoff-like radial function needs left = -r_c: then c = 0 and C(r) = f(r/r_c)).
The core function f(x), x in [0, 1], f(0) = 1, f(1) = 0, is one of

=========  ====  ========================================================
subtype    code  f(x)
=========  ====  ========================================================
``p1``     1     (2x - 3) x^2 + 1                          (C^1 at x = 1)
``p2``     2     ((15 - 6x) x - 10) x^3 + 1                (C^2)
``p3``     3     (x (x (20x - 70) + 84) - 35) x^4 + 1      (C^3)
``p4``     4     (x (x ((315 - 70x) x - 540) + 420) - 126) x^5 + 1  (C^4)
``e``      5     exp(1 - 1/(1 - x^2))                      (C^infinity)
``pNa``    10+N  the "asymmetric" pN: f_pN(y) with y = (2 - x) x, so
                 df/dx = f_pN'(y) (2 - 2x)
=========  ====  ========================================================

These are the polynomials of n2p2's cutoff types poly1-poly4 and exp
(``nnp_ref.descriptors.cutoff``). "Asymmetric" is n2p2's name: the mapping y = 2x - x^2
makes the profile of each half asymmetric about x = 1/2 (still even in a - c);
it exists only for the polynomials. n2p2 applies the asymmetry to the radial
parts only: an angular compact function of a "p2a" symmetry function uses
"p2" (use :func:`angular_code`).

Boundaries as in n2p2's symmetry functions: C is nonzero only for
left < a < right (open interval; n2p2's ``SymFncComp*`` test
``r > rl && r < rc``), which also avoids the exp core's 1/0 at x = 1.
"""

from __future__ import annotations

import math

from nnp_ref.descriptors.jit import kernel

CORE_POLY1, CORE_POLY2, CORE_POLY3, CORE_POLY4, CORE_EXP = 1, 2, 3, 4, 5
ASYMMETRIC = 10  # added to a polynomial core code for the "a" variants

#: Canonical subtype names -> integer codes.
SUBTYPES = {
    "p1": CORE_POLY1,
    "p2": CORE_POLY2,
    "p3": CORE_POLY3,
    "p4": CORE_POLY4,
    "e": CORE_EXP,
    "p1a": ASYMMETRIC + CORE_POLY1,
    "p2a": ASYMMETRIC + CORE_POLY2,
    "p3a": ASYMMETRIC + CORE_POLY3,
    "p4a": ASYMMETRIC + CORE_POLY4,
}
#: Integer code -> canonical name.
SUBTYPE_NAMES = {code: name for name, code in SUBTYPES.items()}


def subtype_code(subtype: str) -> int:
    """Integer code of an n2p2 compact-function subtype string; ``ValueError`` if invalid.

    n2p2's parsing rules (``SymFncBaseComp::setCompactFunction``): 1 to 3
    characters; ``pN`` with N in 1-4, optionally followed by ``a``
    (asymmetric); or any string starting with ``e`` (exp core; n2p2 ignores
    the rest, so ``"e"``, ``"ex"`` and ``"exp"`` all select it).
    """
    if not isinstance(subtype, str) or not 1 <= len(subtype) <= 3:
        raise ValueError(f"invalid compact function subtype {subtype!r} (need 1-3 characters)")
    if subtype[0] == "e":
        return CORE_EXP
    if subtype[0] == "p" and len(subtype) >= 2 and subtype[1] in "1234":
        core = int(subtype[1])
        if len(subtype) == 2:
            return core
        if subtype[2] == "a":
            return ASYMMETRIC + core
    raise ValueError(f"invalid compact function subtype {subtype!r}; known: {', '.join(SUBTYPES)}")


@kernel
def angular_code(code):
    """Subtype code n2p2 uses for the angular part: the asymmetry dropped (p2a -> p2)."""
    return code % ASYMMETRIC


@kernel
def core_function(x, core):
    """Core function f(x) and f'(x) on [0, 1] (n2p2 ``CoreFunction::fdf*``).

    ``core``: 1-4 for poly1-poly4, 5 for exp (symmetric codes; see the module
    table for the formulas). f'(x):

    - poly1: x (6x - 6)
    - poly2: x^2 ((60 - 30x) x - 30)
    - poly3: x^3 (x (x (140x - 420) + 420) - 140)
    - poly4: x^4 (x (x ((2520 - 630x) x - 3780) + 2520) - 630)
    - exp:   f = e exp(u), f' = -2 e x u^2 exp(u), u = 1/(x^2 - 1)

    An unknown ``core`` gives (nan, nan).
    """
    x2 = x * x
    if core == CORE_POLY1:
        return (2.0 * x - 3.0) * x2 + 1.0, x * (6.0 * x - 6.0)
    if core == CORE_POLY2:
        return ((15.0 - 6.0 * x) * x - 10.0) * x * x2 + 1.0, x2 * ((60.0 - 30.0 * x) * x - 30.0)
    if core == CORE_POLY3:
        f = (x * (x * (20.0 * x - 70.0) + 84.0) - 35.0) * x2 * x2 + 1.0
        return f, x2 * x * (x * (x * (140.0 * x - 420.0) + 420.0) - 140.0)
    if core == CORE_POLY4:
        x4 = x2 * x2
        f = (x * (x * ((315.0 - 70.0 * x) * x - 540.0) + 420.0) - 126.0) * x * x4 + 1.0
        return f, x4 * (x * (x * ((2520.0 - 630.0 * x) * x - 3780.0) + 2520.0) - 630.0)
    if core == CORE_EXP:
        u = 1.0 / (x2 - 1.0)
        e_u = math.exp(u)
        return math.e * e_u, -2.0 * math.e * x * u * u * e_u
    return math.nan, math.nan


@kernel
def compact_function(a, left, right, code):
    r"""Compact function value and derivative, ``(C(a), dC/da)``; n2p2 ``CompactFunction::fdf``.

    C(a) = f(|a - c| / w) with c = (left + right)/2, w = (right - left)/2,
    dC/da = sign(a - c) f'(|a - c| / w) / w, and (0, 0) unless
    left < a < right. For the asymmetric codes (11-14), f(x) = f_pN((2 - x) x)
    and f'(x) = f_pN'((2 - x) x) (2 - 2x). ``code`` from :func:`subtype_code`;
    call with float64, float64, float64, int64. Needs left < right (not
    checked here; see :func:`check_compact_parameters`).
    (Bircher, Singraber, Dellago, arXiv:2010.14414.)
    """
    if a <= left or a >= right:
        return 0.0, 0.0
    center = (right + left) / 2.0
    scale = 1.0 / ((right - left) / 2.0)  # 1/w
    y = (a - center) * scale  # in (-1, 1)
    x = abs(y)
    if code > ASYMMETRIC:
        f, df = core_function((2.0 - x) * x, code - ASYMMETRIC)
        df *= 2.0 - 2.0 * x  # d[(2 - x) x]/dx
    else:
        f, df = core_function(x, code)
    return f, df * math.copysign(scale, y)


def check_compact_parameters(left, right) -> None:
    """``ValueError`` unless ``left < right`` are finite (n2p2 ``setLeftRight``)."""
    if not (math.isfinite(left) and math.isfinite(right)):
        raise ValueError(f"compact function bounds must be finite, got {left}, {right}")
    if not left < right:
        raise ValueError(f"compact function needs left < right, got left={left}, right={right}")


def check_angle_bounds(angle_left, angle_right) -> None:
    """``ValueError`` unless the angular bounds (degrees) are valid in n2p2.

    n2p2 (``SymFncBaseCompAng::setParameters``): left < right; a bound
    outside [0, 180] is allowed only if the centre is 0 (left < 0) or 180
    (right > 180), so that the function stays even about theta = 0 or 180
    degrees; right - left <= 360.
    """
    check_compact_parameters(angle_left, angle_right)
    center = (angle_left + angle_right) / 2.0
    if (angle_left < 0.0 and center != 0.0) or (angle_right > 180.0 and center != 180.0):
        raise ValueError(
            f"angle bounds ({angle_left}, {angle_right}) leave [0, 180] degrees but the "
            "centre is not 0 or 180"
        )
    if angle_right - angle_left > 360.0:
        raise ValueError(
            f"angular compact function wider than 360 degrees: {angle_left}, {angle_right}"
        )


__all__ = [
    "ASYMMETRIC",
    "CORE_EXP",
    "CORE_POLY1",
    "CORE_POLY2",
    "CORE_POLY3",
    "CORE_POLY4",
    "SUBTYPES",
    "SUBTYPE_NAMES",
    "angular_code",
    "check_angle_bounds",
    "check_compact_parameters",
    "compact_function",
    "core_function",
    "subtype_code",
]
