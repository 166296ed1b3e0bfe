r"""Exercises 1-3: the cutoff derivative and dG/dR of a radial and an angular function.

Solutions (the functions without a leading underscore) and the typical
mistakes the grader recognises. The trusted answer is always a central
finite difference of nnp_ref's own forward code (``cutoff_function`` and
``SymmetryFunctionSet``), never these solutions.

Conventions (``nnp_ref.descriptors.symmetry_functions``): D_ij = R_j - R_i,
r_ij = |D_ij|, so dr_ij/dR_j = +D_ij/r_ij and dr_ij/dR_i = -D_ij/r_ij.
"""

from __future__ import annotations

import math

import numpy as np

from nnp_ref.checks import central_difference
from nnp_ref.course.grading import Exercise
from nnp_ref.descriptors.cutoff import CT_COS, cutoff_function

# ---------------------------------------------------------------------------
# 1. The cutoff derivative
# ---------------------------------------------------------------------------

RC = 5.0
R_GRID = np.array([0.2, 0.4, 1.1, 2.0, 2.5, 3.3, 4.2, 4.9, 5.3, 6.1])


def dfc_dr(r, rc):
    r"""df_c/dr of the cosine cutoff f_c(r) = [cos(pi r / r_c) + 1] / 2 (r < r_c), 0 beyond.

    Chain rule with u = pi r / r_c: df_c/dr = (1/2)(-sin u) du/dr = -(pi / 2 r_c) sin(pi r / r_c).
    """
    if r >= rc:
        return 0.0
    return -0.5 * math.pi / rc * math.sin(math.pi * r / rc)


def _run_cutoff(fn):
    values = [fn(float(r), RC) for r in R_GRID]
    return (None if any(v is None for v in values) else np.array(values, dtype=np.float64),)


def _expected_cutoff():
    def f(r_r):
        return np.array([cutoff_function(float(r), RC, 0.0, CT_COS)[0] for r in r_r])

    return (np.diagonal(central_difference(f, R_GRID, 1e-6)).copy(),)


def _cutoff_mistakes():
    def unclipped(r, rc):
        return -0.5 * math.pi / rc * math.sin(math.pi * r / rc)

    return {
        "the sign is flipped: f_c falls from 1 to 0, so df_c/dr <= 0": lambda r, rc: -dfc_dr(r, rc),
        "the chain-rule factor pi/r_c of u = pi r / r_c is missing": (
            lambda r, rc: dfc_dr(r, rc) * rc / math.pi
        ),
        "the 1/r_c of du/dr = pi/r_c is missing": lambda r, rc: dfc_dr(r, rc) * rc,
        "the factor 1/2 of f_c = (cos u + 1)/2 is missing": lambda r, rc: 2.0 * dfc_dr(r, rc),
        "the derivative of cos is -sin, not cos (or -cos)": lambda r, rc: (
            0.0 if r >= rc else -0.5 * math.pi / rc * math.cos(math.pi * r / rc)
        ),
        "nonzero beyond the cutoff: f_c = 0 for r >= r_c, so its derivative is 0 there": unclipped,
    }


CUTOFF = Exercise(
    name="cutoff",
    title="df_c/dr of the cosine cutoff",
    parts=("df_c/dr",),
    run=_run_cutoff,
    expected=_expected_cutoff,
    solution=dfc_dr,
    mistakes=_cutoff_mistakes(),
    rtol=1e-6,
    notebook="e1_cutoff_derivative.ipynb",
)

# ---------------------------------------------------------------------------
# 2. dG/dR of a radial function (type 2)
# ---------------------------------------------------------------------------

# A small copper cluster: atom 0 in the middle, one neighbour beyond r_c.
CLUSTER_NC = np.array(
    [
        [0.00, 0.00, 0.00],
        [2.41, 0.35, -0.20],
        [-0.62, 2.28, 0.51],
        [0.37, -0.55, 2.66],
        [-1.90, -1.75, -1.10],
        [5.40, 0.80, 0.30],  # r > r_c: must contribute nothing
    ]
)
RADIAL = {"eta": 0.8, "rs": 2.2, "rc": 4.5}


def radial_dG_dR(R_nc, i, eta, rs, rc):
    r"""dG_i/dR_k (n, 3) for G_i = sum_{j != i} exp(-eta (r_ij - r_s)^2) f_c(r_ij) (cos cutoff).

    Per neighbour j: dG/dr = exp(-eta (r - r_s)^2) [f_c'(r) - 2 eta (r - r_s) f_c(r)]
    (product rule), then dr_ij/dR_j = +D_ij/r_ij (neighbour term) and
    dr_ij/dR_i = -D_ij/r_ij (self term), D_ij = R_j - R_i.
    """
    dG_nc = np.zeros_like(R_nc)
    for j in range(len(R_nc)):
        if j == i:
            continue
        D_c = R_nc[j] - R_nc[i]
        r = np.linalg.norm(D_c)
        fc, dfc = cutoff_function(r, rc, 0.0, 1)  # 1 = cos
        gauss = np.exp(-eta * (r - rs) ** 2)
        dG_dr = gauss * (dfc - 2.0 * eta * (r - rs) * fc)
        dG_nc[j] += dG_dr * D_c / r  # neighbour term
        dG_nc[i] -= dG_dr * D_c / r  # self term
    return dG_nc


def _radial_variant(R_nc, i, eta, rs, rc, *, with_dfc=True, with_gauss=True, factor=2.0, unit=True):
    """radial_dG_dR with one piece of the product rule changed (for the mistakes)."""
    dG_nc = np.zeros_like(R_nc)
    for j in range(len(R_nc)):
        if j == i:
            continue
        D_c = R_nc[j] - R_nc[i]
        r = np.linalg.norm(D_c)
        fc, dfc = cutoff_function(r, rc, 0.0, 1)
        gauss = np.exp(-eta * (r - rs) ** 2)
        dG_dr = gauss * (with_dfc * dfc - with_gauss * factor * eta * (r - rs) * fc)
        e_c = D_c / r if unit else D_c
        dG_nc[j] += dG_dr * e_c
        dG_nc[i] -= dG_dr * e_c
    return dG_nc


def _rows(fn, scale_self, scale_neighbours):
    def wrong(R_nc, i, eta, rs, rc):
        dG_nc = np.array(fn(R_nc, i, eta, rs, rc), dtype=np.float64)
        mask = np.arange(len(R_nc)) == i
        dG_nc[mask] *= scale_self
        dG_nc[~mask] *= scale_neighbours
        return dG_nc

    return wrong


def _variant(fn, **flags):
    def wrong(*args, **kwargs):
        return fn(*args, **kwargs, **flags)

    return wrong


def _row_mistakes(solution, d_name):
    """Row-wise mistakes of dG_i/dR_k: signs and missing self or neighbour rows."""
    return {
        f"your {d_name} has the wrong sign everywhere: with D_ij = R_j - R_i, "
        "dr_ij/dR_j = +D_ij/r_ij": _rows(solution, -1.0, -1.0),
        f"your {d_name} has the wrong sign for the neighbour term (k = j): "
        "dr_ij/dR_j = +D_ij/r_ij": _rows(solution, 1.0, -1.0),
        f"your {d_name} has the wrong sign for the self term (k = i): "
        "dr_ij/dR_i = -D_ij/r_ij": _rows(solution, -1.0, 1.0),
        "the self term (row k = i) is missing: moving atom i changes all its distances "
        "(translation invariance: row i = -sum of the other rows)": _rows(solution, 0.0, 1.0),
        "only the self term is there: the neighbour rows k = j are missing": _rows(
            solution, 1.0, 0.0
        ),
    }


def _run_radial(fn):
    return (fn(CLUSTER_NC.copy(), 0, **RADIAL),)


def _G_of(sf, R_nc, center):
    from nnp_ref.descriptors.symmetry_functions import SymmetryFunctionSet

    symbols = ["Cu"] * len(R_nc)
    sfset = SymmetryFunctionSet({"Cu": [sf]})
    G_ns = sfset.compute(symbols, R_nc, np.zeros((3, 3)), (False,) * 3, False).G_ns
    return G_ns[center, 0]


def _expected_radial():
    from nnp_ref.descriptors.symmetry_functions import SymmetryFunction

    p = RADIAL
    sf = SymmetryFunction(2, "Cu", ("Cu",), p["rc"], eta=p["eta"], rs=p["rs"], cutoff_type=1)
    return (central_difference(lambda R: _G_of(sf, R, 0), CLUSTER_NC, 1e-6),)


def _radial_mistakes():
    mistakes = _row_mistakes(radial_dG_dR, "dG/dR")
    mistakes.update(
        {
            "the df_c/dr term of the product rule is missing": _variant(
                _radial_variant, with_dfc=False
            ),
            "the derivative of the Gaussian exp(-eta (r - r_s)^2) is missing": _variant(
                _radial_variant, with_gauss=False
            ),
            "the factor 2 of d/dr exp(-eta (r - r_s)^2) = -2 eta (r - r_s) exp(...) "
            "is missing": _variant(_radial_variant, factor=1.0),
            "dr_ij/dR_j is the unit vector D_ij/r_ij; you used D_ij (divide by r_ij)": _variant(
                _radial_variant, unit=False
            ),
        }
    )
    return mistakes


RADIAL_EXERCISE = Exercise(
    name="radial",
    title="dG/dR of a radial symmetry function",
    parts=("dG_i/dR_k",),
    run=_run_radial,
    expected=_expected_radial,
    solution=radial_dG_dR,
    mistakes=_radial_mistakes(),
    rtol=1e-6,
    notebook="e2_radial_dG_dR.ipynb",
)

# ---------------------------------------------------------------------------
# 3. dG/dR of an angular function (type 9, one triplet)
# ---------------------------------------------------------------------------

TRIMER_NC = np.array([[0.10, -0.20, 0.05], [2.35, 0.30, -0.25], [0.40, 2.55, 0.60]])
ANGULAR = {"eta": 0.05, "zeta": 2.0, "lam": -1.0, "rc": 5.0}


def angular_dG_dR(R_nc, eta, zeta, lam, rc):
    r"""dG_0/dR_k (3, 3) of a trimer (i = 0; j = 1, k = 2) for the type-9 function

        G_i = 2^(1-zeta) (1 + lam cos) ^ zeta  exp(-eta (r_ij^2 + r_ik^2)) f_c(r_ij) f_c(r_ik)
            = A(cos) * B(r_ij) * B(r_ik),   B(r) = exp(-eta r^2) f_c(r),

    with cos = D_ij . D_ik / (r_ij r_ik). Derivatives:

        dA/dcos     = 2^(1-zeta) zeta lam (1 + lam cos)^(zeta-1)
        dB/dr       = exp(-eta r^2) [f_c'(r) - 2 eta r f_c(r)]
        dcos/dR_j   = D_ik / (r_ij r_ik) - cos D_ij / r_ij^2
        dcos/dR_k   = D_ij / (r_ij r_ik) - cos D_ik / r_ik^2
        dG/dR_j     = dA/dcos dcos/dR_j B_ij B_ik + A B_ij' B_ik D_ij / r_ij
        dG/dR_k     = dA/dcos dcos/dR_k B_ij B_ik + A B_ij B_ik' D_ik / r_ik
        dG/dR_i     = -(dG/dR_j + dG/dR_k)          (translation invariance)
    """
    D_ij, D_ik = R_nc[1] - R_nc[0], R_nc[2] - R_nc[0]
    r_ij, r_ik = np.linalg.norm(D_ij), np.linalg.norm(D_ik)
    cos = D_ij @ D_ik / (r_ij * r_ik)
    A = 2.0 ** (1.0 - zeta) * (1.0 + lam * cos) ** zeta
    dA_dcos = 2.0 ** (1.0 - zeta) * zeta * lam * (1.0 + lam * cos) ** (zeta - 1.0)
    fc_ij, dfc_ij = cutoff_function(r_ij, rc, 0.0, 1)
    fc_ik, dfc_ik = cutoff_function(r_ik, rc, 0.0, 1)
    B_ij, B_ik = np.exp(-eta * r_ij**2) * fc_ij, np.exp(-eta * r_ik**2) * fc_ik
    dB_ij = np.exp(-eta * r_ij**2) * (dfc_ij - 2.0 * eta * r_ij * fc_ij)
    dB_ik = np.exp(-eta * r_ik**2) * (dfc_ik - 2.0 * eta * r_ik * fc_ik)
    dcos_dRj = D_ik / (r_ij * r_ik) - cos * D_ij / r_ij**2
    dcos_dRk = D_ij / (r_ij * r_ik) - cos * D_ik / r_ik**2
    dG_nc = np.zeros((3, 3))
    dG_nc[1] = dA_dcos * dcos_dRj * B_ij * B_ik + A * dB_ij * B_ik * D_ij / r_ij
    dG_nc[2] = dA_dcos * dcos_dRk * B_ij * B_ik + A * B_ij * dB_ik * D_ik / r_ik
    dG_nc[0] = -(dG_nc[1] + dG_nc[2])
    return dG_nc


def _angular_variant(R_nc, eta, zeta, lam, rc, *, angular=True, radial=True, cos_term=True):
    """angular_dG_dR with one term changed (for the mistakes)."""
    D_ij, D_ik = R_nc[1] - R_nc[0], R_nc[2] - R_nc[0]
    r_ij, r_ik = np.linalg.norm(D_ij), np.linalg.norm(D_ik)
    cos = D_ij @ D_ik / (r_ij * r_ik)
    A = 2.0 ** (1.0 - zeta) * (1.0 + lam * cos) ** zeta
    dA_dcos = 2.0 ** (1.0 - zeta) * zeta * lam * (1.0 + lam * cos) ** (zeta - 1.0)
    fc_ij, dfc_ij = cutoff_function(r_ij, rc, 0.0, 1)
    fc_ik, dfc_ik = cutoff_function(r_ik, rc, 0.0, 1)
    B_ij, B_ik = np.exp(-eta * r_ij**2) * fc_ij, np.exp(-eta * r_ik**2) * fc_ik
    dB_ij = np.exp(-eta * r_ij**2) * (dfc_ij - 2.0 * eta * r_ij * fc_ij)
    dB_ik = np.exp(-eta * r_ik**2) * (dfc_ik - 2.0 * eta * r_ik * fc_ik)
    dcos_dRj = D_ik / (r_ij * r_ik) - cos_term * cos * D_ij / r_ij**2
    dcos_dRk = D_ij / (r_ij * r_ik) - cos_term * cos * D_ik / r_ik**2
    dG_nc = np.zeros((3, 3))
    dG_nc[1] = angular * dA_dcos * dcos_dRj * B_ij * B_ik + radial * A * dB_ij * B_ik * D_ij / r_ij
    dG_nc[2] = angular * dA_dcos * dcos_dRk * B_ij * B_ik + radial * A * B_ij * dB_ik * D_ik / r_ik
    dG_nc[0] = -(dG_nc[1] + dG_nc[2])
    return dG_nc


def _run_angular(fn):
    return (fn(TRIMER_NC.copy(), **ANGULAR),)


def _expected_angular():
    from nnp_ref.descriptors.symmetry_functions import SymmetryFunction

    p = ANGULAR
    sf = SymmetryFunction(
        9, "Cu", ("Cu", "Cu"), p["rc"], eta=p["eta"], zeta=p["zeta"], lam=p["lam"], cutoff_type=1
    )
    return (central_difference(lambda R: _G_of(sf, R, 0), TRIMER_NC, 1e-6),)


def _angular_rows(scale_self, scale_neighbours):
    def wrong(R_nc, eta, zeta, lam, rc):
        dG_nc = angular_dG_dR(R_nc, eta, zeta, lam, rc)
        dG_nc[0] *= scale_self
        dG_nc[1:] *= scale_neighbours
        return dG_nc

    return wrong


def _angular_mistakes():
    return {
        "your dG/dR has the wrong sign everywhere": _angular_rows(-1.0, -1.0),
        "your dG/dR has the wrong sign for the neighbour terms (k = j, k)": _angular_rows(
            1.0, -1.0
        ),
        "your dG/dR has the wrong sign for the self term (atom i)": _angular_rows(-1.0, 1.0),
        "the self term (row of atom i) is missing: it is -(dG/dR_j + dG/dR_k)": _angular_rows(
            0.0, 1.0
        ),
        "the angular part is missing: cos(theta) changes when j or k moves (dA/dcos dcos/dR)": (
            _variant(_angular_variant, angular=False)
        ),
        "the radial part is missing: r_ij and r_ik change too (A dB/dr dr/dR)": _variant(
            _angular_variant, radial=False
        ),
        "dcos/dR_j lacks its second term -cos D_ij / r_ij^2 (quotient rule: r_ij depends on "
        "R_j too)": _variant(_angular_variant, cos_term=False),
    }


ANGULAR_EXERCISE = Exercise(
    name="angular",
    title="dG/dR of an angular symmetry function",
    parts=("dG_i/dR_k",),
    run=_run_angular,
    expected=_expected_angular,
    solution=angular_dG_dR,
    mistakes=_angular_mistakes(),
    rtol=1e-6,
    notebook="e3_angular_dG_dR.ipynb",
)

__all__ = [
    "ANGULAR_EXERCISE",
    "CUTOFF",
    "RADIAL_EXERCISE",
    "angular_dG_dR",
    "dfc_dr",
    "radial_dG_dR",
]
