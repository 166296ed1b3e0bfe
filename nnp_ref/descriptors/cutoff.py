r"""n2p2's cutoff functions f_c(r) and their derivatives df_c/dr.

A cutoff function takes a neighbour smoothly out of a symmetry function at the
cutoff radius r_c (J. Behler, J. Chem. Phys. 134, 074106 (2011),
doi:10.1063/1.3553717, eqs. 2-3). nnp_ref uses n2p2's set of cutoff types and
integer codes (A. Singraber, J. Behler, C. Dellago, J. Chem. Theory Comput. 15,
1827 (2019), doi:10.1021/acs.jctc.8b00770; n2p2 ``src/libnnp/CutoffFunction.h``,
``CutoffFunction.cpp``, ``CoreFunction.h``; keyword ``cutoff_type <code> [alpha]``).

Most types allow an inner cutoff r_ci = alpha r_c (0 <= alpha < 1). With the
reduced distance x = (r - r_ci) / (r_c - r_ci):

    f_c(r) = 1      for 0 <= r < r_ci,
           = f(x)   for r_ci <= r < r_c,
           = 0      for r >= r_c.

====  =======  =====================================================  =======
code  name     f                                                      alpha?
====  =======  =====================================================  =======
0     hard     f = 1                                                  (none)
1     cos      f(x) = [cos(pi x) + 1] / 2                             yes
2     tanhu    f_c(r) = tanh^3(1 - r/r_c)            (f_c(0) = 0.44)  no
3     tanh     f_c(r) = coth^3(1) tanh^3(1 - r/r_c)  (f_c(0) = 1)     no
4     exp      f(x) = exp(1 - 1/(1 - x^2))                            yes
5     poly1    f(x) = (2x - 3) x^2 + 1                                yes
6     poly2    f(x) = ((15 - 6x) x - 10) x^3 + 1                      yes
7     poly3    f(x) = (x (x (20x - 70) + 84) - 35) x^4 + 1            yes
8     poly4    f(x) = (x (x ((315 - 70x) x - 540) + 420) - 126) x^5 + 1  yes
====  =======  =====================================================  =======

Exactly as in n2p2: every type returns (0, 0) for r >= r_c, so f_c(r_c) = 0
(the test is ``r >= rc``, nonzero only for ``r < rc``); the tanh types ignore
alpha (n2p2 still validates it); "hard" is 1 everywhere below r_c (alpha
irrelevant). Smoothness at r_c (and at r_ci): polyN is C^N, cos is C^1, exp is
C^infinity; tanhu/tanh are C^2 at r_c; hard is discontinuous.
"""

from __future__ import annotations

import math
import numbers

from nnp_ref.descriptors.jit import kernel

CT_HARD, CT_COS, CT_TANHU, CT_TANH, CT_EXP = 0, 1, 2, 3, 4
CT_POLY1, CT_POLY2, CT_POLY3, CT_POLY4 = 5, 6, 7, 8

#: n2p2 cutoff-type names (lower case) -> integer codes of ``cutoff_type``.
CUTOFF_TYPES = {
    "hard": CT_HARD,
    "cos": CT_COS,
    "tanhu": CT_TANHU,
    "tanh": CT_TANH,
    "exp": CT_EXP,
    "poly1": CT_POLY1,
    "poly2": CT_POLY2,
    "poly3": CT_POLY3,
    "poly4": CT_POLY4,
}
#: Integer code -> name.
CUTOFF_NAMES = {code: name for name, code in CUTOFF_TYPES.items()}

# coth(1)^3 = ((e + 1/e) / (e - 1/e))^3, n2p2's TANH_PRE: makes f_c(0) = 1 for "tanh".
TANH_PRE = ((math.e + 1.0 / math.e) / (math.e - 1.0 / math.e)) ** 3


@kernel
def cutoff_function(r, rc, alpha, kind):
    r"""Cutoff function value and derivative, ``(f_c(r), df_c/dr)``; n2p2's ``fdf``.

    Arguments: distance ``r``, cutoff radius ``rc`` (> 0), inner-cutoff
    fraction ``alpha`` in [0, 1) (r_ci = alpha rc; used by cos, exp, poly1-4),
    ``kind`` the integer code of ``CUTOFF_TYPES``. Call with float64, float64,
    float64, int64. Parameters are not checked here (see
    :func:`check_cutoff_parameters`); an unknown ``kind`` returns (nan, nan).

    With x = (r - r_ci) w, w = 1 / (r_c - r_ci) and f(x) from the module table,
    df_c/dr = w f'(x) (Singraber et al., JCTC 15, 1827 (2019); n2p2
    ``CutoffFunction::fdf*`` and ``CoreFunction::fdf*``):

    - cos:   df_c/dr = -(pi w / 2) sqrt(1 - cos^2(pi x))   (= -(pi w/2) sin(pi x),
      n2p2's form)
    - tanhu: df_c/dr = 3 t^2 (t^2 - 1) / r_c with t = tanh(1 - r/r_c); tanh: times coth^3(1)
    - exp:   f(x) = e exp(1/(x^2 - 1)),  f'(x) = -2 e x u^2 exp(u),  u = 1/(x^2 - 1)
    - poly1: f'(x) = x (6x - 6)
    - poly2: f'(x) = x^2 ((60 - 30x) x - 30)
    - poly3: f'(x) = x^3 (x (x (140x - 420) + 420) - 140)
    - poly4: f'(x) = x^4 (x (x ((2520 - 630x) x - 3780) + 2520) - 630)
    """
    if r >= rc:
        return 0.0, 0.0
    if kind == CT_HARD:
        return 1.0, 0.0
    if kind == CT_TANHU or kind == CT_TANH:
        # No inner cutoff for the tanh types. tanh(y) = 1 - 2 / (exp(2y) + 1): one
        # exp, a third of libm's tanh (which goes through expm1) on the triplet path.
        t = 1.0 - 2.0 / (math.exp(2.0 * (1.0 - r * (1.0 / rc))) + 1.0)
        t2 = t * t
        pre = TANH_PRE if kind == CT_TANH else 1.0
        return pre * t * t2, pre * 3.0 * t2 * (t2 - 1.0) * (1.0 / rc)
    rci = rc * alpha
    if r < rci:
        return 1.0, 0.0
    w = 1.0 / (rc - rci)  # dx/dr
    x = (r - rci) * w
    if kind == CT_COS:
        c = math.cos(math.pi * x)
        return 0.5 * (c + 1.0), -0.5 * w * math.pi * math.sqrt(1.0 - c * c)
    if kind == CT_EXP:
        u = 1.0 / (x * x - 1.0)
        e_u = math.exp(u)
        return math.e * e_u, w * (-2.0 * math.e * x * u * u * e_u)
    x2 = x * x
    if kind == CT_POLY1:
        return (2.0 * x - 3.0) * x2 + 1.0, w * (x * (6.0 * x - 6.0))
    if kind == CT_POLY2:
        f = ((15.0 - 6.0 * x) * x - 10.0) * x * x2 + 1.0
        return f, w * (x2 * ((60.0 - 30.0 * x) * x - 30.0))
    if kind == CT_POLY3:
        f = (x * (x * (20.0 * x - 70.0) + 84.0) - 35.0) * x2 * x2 + 1.0
        return f, w * (x2 * x * (x * (x * (140.0 * x - 420.0) + 420.0) - 140.0))
    if kind == CT_POLY4:
        x4 = x2 * x2
        f = (x * (x * ((315.0 - 70.0 * x) * x - 540.0) + 420.0) - 126.0) * x * x4 + 1.0
        df = x4 * (x * (x * ((2520.0 - 630.0 * x) * x - 3780.0) + 2520.0) - 630.0)
        return f, w * df
    return math.nan, math.nan


def check_cutoff_parameters(rc, alpha, kind) -> None:
    """Raise ``ValueError`` naming the problem unless the cutoff parameters are valid.

    Valid: finite ``rc > 0``; ``0 <= alpha < 1`` (n2p2's ``setCutoffParameter``
    check, applied for every type, also those that ignore alpha); ``kind`` an
    integer code of ``CUTOFF_TYPES`` (0-8).
    """
    if isinstance(kind, bool) or not isinstance(kind, numbers.Integral):
        raise ValueError(f"cutoff type must be an integer code 0-8, got {kind!r}")
    if int(kind) not in CUTOFF_NAMES:
        raise ValueError(
            f"unknown cutoff type {kind}; known: "
            + ", ".join(f"{c} {n}" for c, n in CUTOFF_NAMES.items())
        )
    if not (math.isfinite(rc) and rc > 0.0):
        raise ValueError(f"cutoff radius rc must be finite and > 0, got {rc}")
    if not (0.0 <= alpha < 1.0):
        raise ValueError(f"inner cutoff parameter alpha must satisfy 0 <= alpha < 1, got {alpha}")


__all__ = [
    "CT_COS",
    "CT_EXP",
    "CT_HARD",
    "CT_POLY1",
    "CT_POLY2",
    "CT_POLY3",
    "CT_POLY4",
    "CT_TANH",
    "CT_TANHU",
    "CUTOFF_NAMES",
    "CUTOFF_TYPES",
    "TANH_PRE",
    "check_cutoff_parameters",
    "cutoff_function",
]
