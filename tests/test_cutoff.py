"""Cutoff functions: n2p2 reference numbers, hand values, limits, derivatives.

Reference numbers from n2p2's own unit test ``test/cpp/test_CutoffFunction.cpp``
(rc = 3, alpha = 0.2, r = 2.4 and r = 0.3). n2p2 compares to 10 eps; we use
1e-13 because n2p2's stored poly4 numbers are themselves ~1e-14 away from the
exact values at x = 3/4 (f = 0.04892730712890625, df/dr = -0.32444000244140625).
"""

import math

import numpy as np
import pytest

from nnp_ref.descriptors.cutoff import (
    CT_COS,
    CT_EXP,
    CT_HARD,
    CT_POLY1,
    CT_POLY2,
    CT_POLY3,
    CT_POLY4,
    CT_TANH,
    CT_TANHU,
    CUTOFF_NAMES,
    CUTOFF_TYPES,
    TANH_PRE,
    check_cutoff_parameters,
    cutoff_function,
)

ALL_TYPES = list(range(9))
INNER_CUTOFF_TYPES = [CT_COS, CT_EXP, CT_POLY1, CT_POLY2, CT_POLY3, CT_POLY4]
SMOOTH_TYPES = [t for t in ALL_TYPES if t != CT_HARD]  # C^1 at r_c
POLY_TYPES = [CT_POLY1, CT_POLY2, CT_POLY3, CT_POLY4]
RC = 3.0


def fc(r, rc=RC, alpha=0.0, kind=CT_COS):
    """Kernel call with the one signature (float64, float64, float64, int64)."""
    return cutoff_function(float(r), float(rc), float(alpha), int(kind))


def test_type_codes_are_n2p2s():
    assert CUTOFF_TYPES == {
        "hard": 0,
        "cos": 1,
        "tanhu": 2,
        "tanh": 3,
        "exp": 4,
        "poly1": 5,
        "poly2": 6,
        "poly3": 7,
        "poly4": 8,
    }
    assert all(CUTOFF_TYPES[CUTOFF_NAMES[code]] == code for code in ALL_TYPES)


# n2p2 test_CutoffFunction.cpp: rc = 3, alpha = 0.2, r = 0.8 rc.
N2P2_F = [
    1.0000000000000000e00,
    1.4644660940672610e-01,
    7.6891537120697719e-03,
    1.7406350897769041e-02,
    2.7645304662956399e-01,
    1.5624999999999989e-01,
    1.0351562500000000e-01,
    7.0556640624999223e-02,
    4.8927307128898589e-02,
]
N2P2_DF = [
    0.0000000000000000e00,
    -4.6280030605816297e-01,
    -3.7439367857705103e-02,
    -8.4753511078717925e-02,
    -9.0270382572918972e-01,
    -4.6874999999999978e-01,
    -4.3945312499999933e-01,
    -3.8452148437500017e-01,
    -3.2444000244142152e-01,
]


@pytest.mark.parametrize("kind", ALL_TYPES)
def test_n2p2_reference_values(kind):
    f, df = fc(0.8 * RC, alpha=0.2, kind=kind)
    assert f == pytest.approx(N2P2_F[kind], rel=0, abs=1e-13)
    assert df == pytest.approx(N2P2_DF[kind], rel=0, abs=1e-13)


@pytest.mark.parametrize("kind", ALL_TYPES)
def test_n2p2_reference_inside_inner_cutoff(kind):
    # r = 0.1 rc < r_ci = 0.2 rc: 1 and 0, except the tanh types (no inner cutoff).
    f, df = fc(0.1 * RC, alpha=0.2, kind=kind)
    expected = {
        CT_TANHU: (3.6752000144553820e-01, -2.4982884456067705e-01),
        CT_TANH: (8.3197479809356334e-01, -5.6555099503099682e-01),
    }.get(kind, (1.0, 0.0))
    assert f == pytest.approx(expected[0], rel=0, abs=1e-13)
    assert df == pytest.approx(expected[1], rel=0, abs=1e-13)


def test_cos_hand_values():
    # f = (cos(pi r/rc) + 1)/2: at r = rc/2 f = 1/2, df/dr = -pi/(2 rc).
    f, df = fc(RC / 2, kind=CT_COS)
    assert f == pytest.approx(0.5, abs=1e-15)
    assert df == pytest.approx(-math.pi / (2 * RC), abs=1e-15)
    # With alpha = 1/2 the midpoint x = 1/2 is at r = 3 rc/4 and the width is rc/2.
    f, df = fc(0.75 * RC, alpha=0.5, kind=CT_COS)
    assert f == pytest.approx(0.5, abs=1e-15)
    assert df == pytest.approx(-math.pi / RC, abs=1e-15)
    # r = rc/3 (alpha = 0): (cos(pi/3) + 1)/2 = 3/4, df = -pi sin(pi/3)/(2 rc).
    f, df = fc(RC / 3, kind=CT_COS)
    assert f == pytest.approx(0.75, abs=1e-15)
    assert df == pytest.approx(-math.pi * math.sqrt(3) / 4 / RC, abs=1e-14)


@pytest.mark.parametrize(
    ("kind", "slope"),
    # smoothstep polynomials: f(1/2) = 1/2, f'(1/2) = -3/2, -15/8, -35/16, -315/128
    [(CT_POLY1, -1.5), (CT_POLY2, -1.875), (CT_POLY3, -2.1875), (CT_POLY4, -2.4609375)],
)
@pytest.mark.parametrize("alpha", [0.0, 0.4])
def test_poly_hand_values_at_midpoint(kind, slope, alpha):
    rci = alpha * RC
    f, df = fc(rci + 0.5 * (RC - rci), alpha=alpha, kind=kind)
    assert f == pytest.approx(0.5, abs=1e-14)
    assert df == pytest.approx(slope / (RC - rci), abs=1e-13)


def test_exp_hand_value():
    # f(x) = exp(1 - 1/(1 - x^2)); x = 1/2: exp(-1/3), f'(x) = -2x/(1-x^2)^2 f = -16/9 exp(-1/3).
    f, df = fc(RC / 2, kind=CT_EXP)
    assert f == pytest.approx(math.exp(-1.0 / 3.0), abs=1e-15)
    assert df == pytest.approx(-16.0 / 9.0 * math.exp(-1.0 / 3.0) / RC, abs=1e-14)


def test_tanh_hand_values():
    t = math.tanh(1.0)
    f, df = fc(0.0, kind=CT_TANHU)
    assert f == pytest.approx(t**3, abs=1e-15)  # tanhU is not 1 at r = 0
    assert df == pytest.approx(3 * t**2 * (t**2 - 1) / RC, abs=1e-15)
    f, df = fc(0.0, kind=CT_TANH)
    assert TANH_PRE == pytest.approx(1.0 / t**3, rel=1e-15)
    assert f == pytest.approx(1.0, abs=1e-15)
    assert df == pytest.approx(3 * (t**2 - 1) / t / RC, abs=1e-15)


def test_hard_is_one_everywhere_below_rc():
    for r in [0.0, 0.5, 2.9, np.nextafter(RC, 0.0)]:
        for alpha in [0.0, 0.5]:
            assert fc(r, alpha=alpha, kind=CT_HARD) == (1.0, 0.0)


@pytest.mark.parametrize("kind", [t for t in ALL_TYPES if t != CT_TANHU])
def test_one_at_origin(kind):
    f, df = fc(1e-12, kind=kind)
    assert f == pytest.approx(1.0, abs=1e-11)
    if kind != CT_TANH:  # tanh has f'(0) = 3 (t^2 - 1)/(t rc) != 0
        assert df == pytest.approx(0.0, abs=1e-10)


@pytest.mark.parametrize("kind", ALL_TYPES)
@pytest.mark.parametrize("alpha", [0.0, 0.3])
def test_zero_at_and_beyond_rc(kind, alpha):
    # n2p2: nonzero only for r < rc, exactly (0, 0) at r = rc.
    for r in [RC, np.nextafter(RC, np.inf), 1.5 * RC, 100.0]:
        assert fc(r, alpha=alpha, kind=kind) == (0.0, 0.0)


@pytest.mark.parametrize("kind", SMOOTH_TYPES)
@pytest.mark.parametrize("alpha", [0.0, 0.3])
def test_value_and_derivative_continuous_at_rc(kind, alpha):
    delta = 1e-6
    f, df = fc(RC - delta, alpha=alpha, kind=kind)
    assert abs(f) < 1e-10  # may round to -1e-14 for the polynomials, as in n2p2
    assert abs(df) < 1e-5
    # df -> 0 at least linearly: halving delta roughly halves |df| (or better).
    _, df_half = fc(RC - delta / 2, alpha=alpha, kind=kind)
    assert abs(df_half) <= 0.55 * abs(df) + 1e-12


@pytest.mark.parametrize("kind", INNER_CUTOFF_TYPES)
def test_inner_cutoff(kind):
    alpha = 0.4
    rci = alpha * RC
    # Exactly 1 (and flat) below r_ci ...
    for r in [0.0, 0.3, rci - 1e-9]:
        assert fc(r, alpha=alpha, kind=kind) == (1.0, 0.0)
    # ... continuous with continuous derivative at r_ci ...
    f, df = fc(rci + 1e-7, alpha=alpha, kind=kind)
    assert f == pytest.approx(1.0, abs=1e-10)
    assert abs(df) < 1e-5
    # ... and the outer part is the alpha = 0 function squeezed into [r_ci, rc].
    for x in np.linspace(0.05, 0.95, 7):
        f_a, df_a = fc(rci + x * (RC - rci), alpha=alpha, kind=kind)
        f_0, df_0 = fc(x * RC, alpha=0.0, kind=kind)
        assert f_a == pytest.approx(f_0, abs=1e-13)
        assert df_a == pytest.approx(df_0 * RC / (RC - rci), abs=1e-12)


@pytest.mark.parametrize("kind", [CT_HARD, CT_TANHU, CT_TANH])
def test_alpha_ignored_where_n2p2_ignores_it(kind):
    for r in np.linspace(0.0, RC, 13):
        assert fc(r, alpha=0.6, kind=kind) == fc(r, alpha=0.0, kind=kind)


@pytest.mark.parametrize("kind", ALL_TYPES)
@pytest.mark.parametrize("alpha", [0.0, 0.3])
def test_bounded_and_non_increasing(kind, alpha):
    values = np.array([fc(r, alpha=alpha, kind=kind)[0] for r in np.linspace(0.0, RC, 301)])
    assert np.all(values >= -1e-13)  # rounding near r_c
    assert np.all(values <= 1.0 + 1e-15)
    assert np.all(np.diff(values) <= 1e-15)


@pytest.mark.parametrize("kind", ALL_TYPES)
@pytest.mark.parametrize("alpha", [0.0, 0.3])
def test_derivative_matches_central_differences(kind, alpha):
    h = 1e-5
    r_grid = np.linspace(0.01, RC - 0.01, 97)
    rci = alpha * RC
    r_grid = r_grid[np.abs(r_grid - rci) > 2 * h]  # skip the (C^1) joint itself
    analytic = np.array([fc(r, alpha=alpha, kind=kind)[1] for r in r_grid])
    numeric = np.array(
        [
            (fc(r + h, alpha=alpha, kind=kind)[0] - fc(r - h, alpha=alpha, kind=kind)[0]) / (2 * h)
            for r in r_grid
        ]
    )
    np.testing.assert_allclose(analytic, numeric, rtol=1e-7, atol=1e-7)


def test_unknown_kind_gives_nan_in_kernel():
    f, df = fc(1.0, kind=9)
    assert math.isnan(f) and math.isnan(df)


def test_n2p2_type2_fixture_with_tanhu():
    # n2p2 test/cpp/fixtures.h (FixtureThreeAtomsMono, cutoff CT_TANHU, alpha 0):
    # "H 2 H eta rs rc" for atom 0 with neighbours at (1, 2, 1) and (0, 3, -1).
    r_j = [math.sqrt(6.0), math.sqrt(10.0)]
    for (eta, rs), expected in [
        ((0.001, 0.0), 4.6578975865793892e-01),
        ((0.030, 1.0), 4.2613074319879601e-01),
    ]:
        g = sum(math.exp(-eta * (r - rs) ** 2) * fc(r, 10.0, 0.0, CT_TANHU)[0] for r in r_j)
        assert g == pytest.approx(expected, rel=0, abs=1e-14)


def test_check_cutoff_parameters_accepts_valid():
    for kind in ALL_TYPES:
        check_cutoff_parameters(3.0, 0.0, kind)
        check_cutoff_parameters(0.1, 0.999, np.int64(kind))


@pytest.mark.parametrize(
    ("rc", "alpha", "kind", "match"),
    [
        (0.0, 0.0, 1, "rc"),
        (-1.0, 0.0, 1, "rc"),
        (math.nan, 0.0, 1, "rc"),
        (math.inf, 0.0, 1, "rc"),
        (3.0, -0.1, 1, "alpha"),
        (3.0, 1.0, 1, "alpha"),
        (3.0, 1.5, 1, "alpha"),
        (3.0, math.nan, 1, "alpha"),
        (3.0, 1.0, CT_TANHU, "alpha"),  # validated even where it is ignored
        (3.0, 0.0, 9, "unknown cutoff type"),
        (3.0, 0.0, -1, "unknown cutoff type"),
        (3.0, 0.0, 1.0, "integer"),
        (3.0, 0.0, "cos", "integer"),
        (3.0, 0.0, True, "integer"),
    ],
)
def test_check_cutoff_parameters_rejects_invalid(rc, alpha, kind, match):
    with pytest.raises(ValueError, match=match):
        check_cutoff_parameters(rc, alpha, kind)
