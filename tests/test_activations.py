"""Activation functions: derivatives vs finite differences, n2p2 definitions, numerics, errors."""

import numpy as np
import pytest

from nnp_ref.model.activations import ACTIVATIONS, CODES, activation

# grid on [-4, 4] that never hits z = 0 (ReLU's kink): 0.0123 + 0.2 k
Z_GRID = np.linspace(-3.9877, 4.0123, 41)
H = 1e-5


def sigma(z):
    return 1.0 / (1.0 + np.exp(-z))


# n2p2 NeuralNetwork::propagateLayer, written as there (valid for |z| < 35)
N2P2 = {
    "l": lambda z: (z, np.ones_like(z), np.zeros_like(z)),
    "t": lambda z: (np.tanh(z), 1 - np.tanh(z) ** 2, -2 * np.tanh(z) * (1 - np.tanh(z) ** 2)),
    "s": lambda z: (
        sigma(z),
        sigma(z) * (1 - sigma(z)),
        sigma(z) * (1 - sigma(z)) * (1 - 2 * sigma(z)),
    ),
    "p": lambda z: (np.log(1 + np.exp(z)), 1 / (1 + 1 / np.exp(z)), sigma(z) * (1 - sigma(z))),
    "r": lambda z: (np.where(z > 0, z, 0.0), np.where(z > 0, 1.0, 0.0), np.zeros_like(z)),
    "g": lambda z: (np.exp(-z * z / 2), -z * np.exp(-z * z / 2), (z * z - 1) * np.exp(-z * z / 2)),
    "c": lambda z: (np.cos(z), -np.sin(z), -np.cos(z)),
    "S": lambda z: (
        1 - sigma(z),
        sigma(z) * (sigma(z) - 1),
        sigma(z) * (sigma(z) - 1) * (1 - 2 * sigma(z)),
    ),
    "e": lambda z: (np.exp(-z), -np.exp(-z), np.exp(-z)),
    "h": lambda z: (z * z, 2 * z, np.full_like(z, 2.0)),
}


def test_all_ten_n2p2_codes():
    assert CODES == ("l", "t", "s", "p", "r", "g", "c", "S", "e", "h")
    assert set(N2P2) == set(ACTIVATIONS)


@pytest.mark.parametrize("code", CODES)
def test_first_derivative_vs_central_differences(code):
    f, df, _ = activation(code, Z_GRID)
    numeric = (activation(code, Z_GRID + H)[0] - activation(code, Z_GRID - H)[0]) / (2 * H)
    scale = np.max(np.abs(numeric))
    np.testing.assert_allclose(df, numeric, rtol=1e-7, atol=1e-8 * max(scale, 1.0))


@pytest.mark.parametrize("code", CODES)
def test_second_derivative_vs_central_differences(code):
    _, _, d2f = activation(code, Z_GRID)
    numeric = (activation(code, Z_GRID + H)[1] - activation(code, Z_GRID - H)[1]) / (2 * H)
    scale = np.max(np.abs(numeric))
    np.testing.assert_allclose(d2f, numeric, rtol=1e-7, atol=1e-8 * max(scale, 1.0))


@pytest.mark.parametrize("code", CODES)
def test_matches_n2p2_formulas(code):
    z = np.linspace(-30.0, 30.0, 601) if code not in "ghe" else np.linspace(-6.0, 6.0, 121)
    ours = activation(code, z)
    ref = N2P2[code](z)
    for name, a, b in zip(("f", "df", "d2f"), ours, ref, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14, err_msg=f"{code} {name}")


def test_known_values():
    assert activation("t", 0.0)[1] == 1.0
    assert activation("s", 0.0)[0] == 0.5
    assert activation("S", 0.0)[0] == 0.5
    assert activation("p", 0.0)[0] == pytest.approx(np.log(2.0), rel=1e-15)
    assert activation("g", 0.0) == (1.0, 0.0, -1.0)
    assert activation("e", 1.0)[0] == pytest.approx(np.exp(-1.0), rel=1e-15)  # exp(-z)
    assert activation("h", 3.0) == (9.0, 6.0, 2.0)
    assert activation("c", np.pi)[0] == pytest.approx(-1.0, rel=1e-15)
    # ReLU at the kink: n2p2 uses z > 0, so f'(0) = 0
    assert activation("r", 0.0) == (0.0, 0.0, 0.0)


@pytest.mark.parametrize("code", ["s", "p", "S"])
def test_no_overflow_and_n2p2_limits(code):
    z = np.array([-1000.0, -36.0, 36.0, 1000.0])
    f, df, d2f = activation(code, z)  # filterwarnings=error: an overflow would raise
    assert np.all(np.isfinite(f)) and np.all(np.isfinite(df)) and np.all(np.isfinite(d2f))
    # n2p2 clamps |z| > 35 (EXP_LIMIT); the smooth formulas agree to < 1e-15 there
    limits = {
        "s": ([0, 0, 1, 1], [0] * 4),
        "p": ([0, 0, 36, 1000], [0, 0, 1, 1]),
        "S": ([1, 1, 0, 0], [0] * 4),
    }
    f_n2p2, df_n2p2 = limits[code]
    np.testing.assert_allclose(f, f_n2p2, rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(df, df_n2p2, rtol=0, atol=1e-15)
    np.testing.assert_allclose(d2f, 0.0, rtol=0, atol=1e-15)


def test_shape_preserved_and_input_not_modified():
    z = np.arange(12.0).reshape(3, 4) - 5.5
    z0 = z.copy()
    for code in CODES:
        out = activation(code, z)
        assert all(o.shape == (3, 4) for o in out), code
        out[0][...] = 0.0  # outputs must not alias the input
        np.testing.assert_array_equal(z, z0)


@pytest.mark.parametrize("bad", ["x", "T", "tanh", "", None, 1])
def test_unknown_code_raises(bad):
    with pytest.raises(ValueError, match=r"unknown activation code .*l t s p r g c S e h"):
        activation(bad, np.zeros(3))
