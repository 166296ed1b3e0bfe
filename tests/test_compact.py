"""Compact functions of the polynomial symmetry functions (n2p2 types 20-25).

Besides hand values, limits and finite differences, the kernels are checked
against n2p2's own reference values for types 20-25 (``test/cpp/fixtures.h``,
used by ``test/cpp/test_SymmetryFunctions.cpp``) with a slow reference sum
written out here.
"""

import math

import numpy as np
import pytest

from nnp_ref.descriptors.compact import (
    ASYMMETRIC,
    CORE_EXP,
    SUBTYPE_NAMES,
    SUBTYPES,
    angular_code,
    check_angle_bounds,
    check_compact_parameters,
    compact_function,
    core_function,
    subtype_code,
)
from nnp_ref.descriptors.cutoff import (
    CT_EXP,
    CT_POLY1,
    CT_POLY2,
    CT_POLY3,
    CT_POLY4,
    cutoff_function,
)

ALL_CODES = sorted(SUBTYPES.values())
POLY_CODES = [1, 2, 3, 4]
ASYM_CODES = [11, 12, 13, 14]


def cf(a, left, right, code):
    """Kernel call with the one signature (float64, float64, float64, int64)."""
    return compact_function(float(a), float(left), float(right), int(code))


def core(x, code):
    return core_function(float(x), int(code))


# --- subtype strings -------------------------------------------------------


def test_subtype_codes():
    assert SUBTYPES == {
        "p1": 1,
        "p2": 2,
        "p3": 3,
        "p4": 4,
        "e": 5,
        "p1a": 11,
        "p2a": 12,
        "p3a": 13,
        "p4a": 14,
    }
    for name, code in SUBTYPES.items():
        assert subtype_code(name) == code
        assert SUBTYPE_NAMES[code] == name
    # n2p2 reads any 1-3 character string starting with "e" as the exp core.
    assert subtype_code("ex") == CORE_EXP
    assert subtype_code("exp") == CORE_EXP


@pytest.mark.parametrize("bad", ["", "p", "p0", "p5", "p2b", "p2aa", "q2", "P2", "ea12", 2, None])
def test_subtype_code_rejects_invalid(bad):
    with pytest.raises(ValueError, match="subtype"):
        subtype_code(bad)


def test_angular_code_drops_asymmetry():
    # n2p2: "p2a" -> radial p2a, angular p2 (SymFncCompAngn.h note).
    for code in ALL_CODES:
        expected = code - ASYMMETRIC if code > ASYMMETRIC else code
        assert angular_code(code) == expected
    assert angular_code(subtype_code("p3a")) == subtype_code("p3")


# --- core functions --------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "slope"),
    # smoothstep polynomials: f(1/2) = 1/2, f'(1/2) = -3/2, -15/8, -35/16, -315/128
    [(1, -1.5), (2, -1.875), (3, -2.1875), (4, -2.4609375)],
)
def test_poly_core_hand_values(code, slope):
    assert core(0.0, code) == (1.0, 0.0)
    f, df = core(0.5, code)
    assert f == pytest.approx(0.5, abs=1e-15)
    assert df == pytest.approx(slope, abs=1e-13)
    f, df = core(1.0, code)
    assert f == pytest.approx(0.0, abs=1e-13)
    assert df == pytest.approx(0.0, abs=1e-12)


def test_exp_core_hand_values():
    f, df = core(0.0, CORE_EXP)
    assert f == pytest.approx(1.0, abs=1e-15) and df == 0.0
    # f(1/2) = exp(1 - 4/3) = exp(-1/3), f'(x) = -2x/(1 - x^2)^2 f = -16/9 exp(-1/3)
    f, df = core(0.5, CORE_EXP)
    assert f == pytest.approx(math.exp(-1.0 / 3.0), abs=1e-15)
    assert df == pytest.approx(-16.0 / 9.0 * math.exp(-1.0 / 3.0), abs=1e-14)


def test_unknown_core_gives_nan():
    f, df = core(0.5, 7)
    assert math.isnan(f) and math.isnan(df)
    f, df = cf(0.5, 0.0, 1.0, 7)
    assert math.isnan(f) and math.isnan(df)


# --- compact function C(a; left, right) ------------------------------------


def test_compact_hand_values():
    # [1, 3]: centre 2, half-width 1; p1 at x = 1/2 -> 1/2, slope -/+ 3/2.
    assert cf(2.0, 1.0, 3.0, 1) == (1.0, 0.0)
    f, df = cf(2.5, 1.0, 3.0, 1)
    assert f == pytest.approx(0.5, abs=1e-15) and df == pytest.approx(-1.5, abs=1e-14)
    f, df = cf(1.5, 1.0, 3.0, 1)
    assert f == pytest.approx(0.5, abs=1e-15) and df == pytest.approx(1.5, abs=1e-14)
    # Half-width 2 halves the slope.
    f, df = cf(1.0, -2.0, 4.0, 2)  # centre 1 -> 1
    assert (f, df) == (1.0, 0.0)
    f, df = cf(3.0, -1.0, 5.0, 2)  # centre 2, w = 3: x = 1/3
    x = 1.0 / 3.0
    assert f == pytest.approx(((15 - 6 * x) * x - 10) * x**3 + 1, abs=1e-15)
    assert df == pytest.approx(x**2 * ((60 - 30 * x) * x - 30) / 3.0, abs=1e-14)


def test_asymmetric_hand_values():
    # p2a at x = 1/2: y = (2 - x) x = 3/4; p2(3/4) = 0.103515625,
    # d/dx = p2'(3/4) (2 - 2x) = 0.5625 ((60 - 22.5) 0.75 - 30) * 1 = -1.0546875.
    f, df = cf(2.5, 1.0, 3.0, subtype_code("p2a"))
    assert f == pytest.approx(0.103515625, abs=1e-15)
    assert df == pytest.approx(-1.0546875, abs=1e-14)
    f, df = cf(1.5, 1.0, 3.0, subtype_code("p2a"))
    assert f == pytest.approx(0.103515625, abs=1e-15)
    assert df == pytest.approx(1.0546875, abs=1e-14)


@pytest.mark.parametrize("code", ALL_CODES)
def test_zero_on_and_outside_the_bounds(code):
    for a in [-5.0, 0.5, 1.0, 3.0, 3.5, 100.0]:
        assert cf(a, 1.0, 3.0, code) == (0.0, 0.0)
    assert cf(2.0, 1.0, 3.0, code) == (1.0, 0.0)  # 1 at the centre


@pytest.mark.parametrize("code", ALL_CODES)
@pytest.mark.parametrize(("left", "right"), [(1.0, 3.0), (-6.0, 6.0), (0.0, math.pi / 3)])
def test_even_about_centre(code, left, right):
    c, w = (left + right) / 2, (right - left) / 2
    for d in np.linspace(0.0, 0.999 * w, 23):
        f_plus, df_plus = cf(c + d, left, right, code)
        f_minus, df_minus = cf(c - d, left, right, code)
        assert f_plus == pytest.approx(f_minus, abs=1e-13)
        assert df_plus == pytest.approx(-df_minus, abs=1e-11)
        assert -1e-13 <= f_plus <= 1.0 + 1e-15


@pytest.mark.parametrize("code", ALL_CODES)
def test_value_and_derivative_continuous_at_bounds(code):
    left, right = 0.5, 2.5  # w = 1
    for a in [left + 1e-6, right - 1e-6]:
        f, df = cf(a, left, right, code)
        assert abs(f) < 1e-10
        assert abs(df) < 1e-4


@pytest.mark.parametrize("code", ALL_CODES)
@pytest.mark.parametrize(("left", "right"), [(-3.0, 3.0), (0.5, 2.5), (0.0, math.pi)])
def test_derivative_matches_central_differences(code, left, right):
    h = 1e-5
    grid = np.linspace(left, right, 89)[1:-1]
    grid = grid[(grid - left > 2 * h) & (right - grid > 2 * h)]
    analytic = np.array([cf(a, left, right, code)[1] for a in grid])
    numeric = np.array(
        [
            (cf(a + h, left, right, code)[0] - cf(a - h, left, right, code)[0]) / (2 * h)
            for a in grid
        ]
    )
    np.testing.assert_allclose(analytic, numeric, rtol=1e-7, atol=1e-7)


@pytest.mark.parametrize(
    ("name", "kind"),
    [("p1", CT_POLY1), ("p2", CT_POLY2), ("p3", CT_POLY3), ("p4", CT_POLY4), ("e", CT_EXP)],
)
def test_cutoff_like_radial_part_equals_n2p2_cutoff(name, kind):
    # left = -rc puts the centre at 0: C(r) = f(r/rc) = cutoff type poly1-4 / exp, alpha = 0.
    rc = 4.0
    for r in np.linspace(0.0, 1.2 * rc, 37):
        f_c, df_c = cutoff_function(float(r), rc, 0.0, kind)
        f, df = cf(r, -rc, rc, subtype_code(name))
        assert f == pytest.approx(f_c, abs=1e-14)
        assert df == pytest.approx(df_c, abs=1e-13)


# --- n2p2 reference values for types 20-25 ---------------------------------

# test/cpp/fixtures.h: atom 0 at the origin, neighbours at (1, 2, 1), (0, 3, -1).
D_jc = np.array([[1.0, 2.0, 1.0], [0.0, 3.0, -1.0]])
RADIAL_PARAMS = [(-10.0, 10.0), (0.0, 8.0), (1.0, 3.0)]  # (rl, rc), subtype p2
ANGULAR_PARAMS = [(-10.0, 10.0, 0.0, 180.0), (0.0, 10.0, 10.0, 60.0), (1.0, 10.0, 40.0, 120.0)]
N2P2_G20 = [1.71653828561074920, 1.63829178699555840, 0.59406437434580717]
N2P2_G21 = [0.39698365829232357, 0.056548996092037257, 0.0017053618495084467]
N2P2_G22 = [0.440241957350979370, 0.117549886737894540, 0.008811770360680239]
# FixtureThreeAtomsDual: same geometry, centre H (Z = 1), both neighbours He (Z = 2).
N2P2_G23_DUAL = [3.4330765712215, 3.27658357399112, 1.18812874869161]
N2P2_G24_DUAL = [1.58793463316929, 0.226195984368149, 0.00682144739803379]
N2P2_G25_DUAL = [1.76096782940392, 0.470199546951578, 0.035247081442721]


def reference_compact_G(D_jc, Z_j, sf_type, rl, rc, angle_left=0.0, angle_right=180.0, sub="p2"):
    """G of the central atom for n2p2 types 20-25 (all neighbours of the right element).

    Slow transcription of n2p2's SymFncComp*::calculate: radial C(r; rl, rc)
    with the subtype, angular C(theta; theta_l, theta_r) in radians with the
    asymmetry dropped, pairs j < k, weights Z_j (23) or Z_j Z_k (24, 25).
    """
    code = subtype_code(sub)
    r_j = np.linalg.norm(D_jc, axis=1)
    if sf_type in (20, 23):
        w_j = Z_j if sf_type == 23 else np.ones_like(Z_j)
        return sum(w * cf(r, rl, rc, code)[0] for w, r in zip(w_j, r_j, strict=True))
    G = 0.0
    for j in range(len(r_j)):
        for k in range(j + 1, len(r_j)):
            cos_theta = D_jc[j] @ D_jc[k] / (r_j[j] * r_j[k])
            if not -1.0 < cos_theta < 1.0:
                continue  # n2p2 skips collinear triplets
            theta = math.acos(cos_theta)
            angular = cf(
                theta, math.radians(angle_left), math.radians(angle_right), angular_code(code)
            )
            term = cf(r_j[j], rl, rc, code)[0] * cf(r_j[k], rl, rc, code)[0] * angular[0]
            if sf_type in (21, 24):  # narrow: also C(r_jk)
                term *= cf(np.linalg.norm(D_jc[k] - D_jc[j]), rl, rc, code)[0]
            if sf_type in (24, 25):
                term *= Z_j[j] * Z_j[k]
            G += term
    return G


@pytest.mark.parametrize("n", range(3))
def test_n2p2_fixture_values_types_20_to_25(n):
    Z_mono = np.array([1.0, 1.0])
    Z_dual = np.array([2.0, 2.0])
    rl, rc = RADIAL_PARAMS[n]
    tol = {"rel": 1e-12, "abs": 1e-15}
    assert reference_compact_G(D_jc, Z_mono, 20, rl, rc) == pytest.approx(N2P2_G20[n], **tol)
    assert reference_compact_G(D_jc, Z_mono, 23, rl, rc) == pytest.approx(N2P2_G20[n], **tol)
    assert reference_compact_G(D_jc, Z_dual, 23, rl, rc) == pytest.approx(N2P2_G23_DUAL[n], **tol)
    rl, rc, al, ar = ANGULAR_PARAMS[n]
    for sf_type, mono in [(21, N2P2_G21), (22, N2P2_G22)]:
        assert reference_compact_G(D_jc, Z_mono, sf_type, rl, rc, al, ar) == pytest.approx(
            mono[n], **tol
        )
    for sf_type, mono, dual in [(24, N2P2_G21, N2P2_G24_DUAL), (25, N2P2_G22, N2P2_G25_DUAL)]:
        assert reference_compact_G(D_jc, Z_mono, sf_type, rl, rc, al, ar) == pytest.approx(
            mono[n], **tol
        )
        assert reference_compact_G(D_jc, Z_dual, sf_type, rl, rc, al, ar) == pytest.approx(
            dual[n], **tol
        )


# --- parameter checks -------------------------------------------------------


def test_check_compact_parameters():
    check_compact_parameters(-10.0, 10.0)
    check_compact_parameters(0.0, 1e-3)
    for left, right in [(1.0, 1.0), (2.0, 1.0), (math.nan, 1.0), (0.0, math.inf)]:
        with pytest.raises(ValueError, match="left|finite"):
            check_compact_parameters(left, right)


def test_check_angle_bounds():
    for left, right in [(0.0, 180.0), (10.0, 60.0), (-30.0, 30.0), (150.0, 210.0), (-180.0, 180.0)]:
        check_angle_bounds(left, right)
    for left, right, match in [
        (60.0, 10.0, "left < right"),
        (30.0, 30.0, "left < right"),
        (-10.0, 30.0, "centre"),
        (170.0, 200.0, "centre"),
        (-200.0, 200.0, "centre"),  # (n2p2's > 360 degrees check can never fire first)
    ]:
        with pytest.raises(ValueError, match=match):
            check_angle_bounds(left, right)
