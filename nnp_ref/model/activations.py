r"""Activation functions of n2p2 with their first and second derivatives.

Each function maps the pre-activation z of a neuron to (f(z), f'(z), f''(z)),
element-wise on arrays of any shape. f' is needed for backpropagation
(dE/dw, dE/dG); f'' for the force-training gradient d/dw (dE/dG . v)
(``nnp_ref.model.network.force_training_gradient``).

The one-letter codes and definitions are those of n2p2
(``src/libnnp/NeuralNetwork.cpp``, ``NeuralNetwork::propagateLayer``;
keyword ``global_activation_short``):

| code | name             | f(z)                 | f'(z)            | f''(z)                   |
|------|------------------|----------------------|------------------|--------------------------|
| l    | linear           | z                    | 1                | 0                        |
| t    | tanh             | tanh z               | 1 - f^2          | -2 f (1 - f^2)           |
| s    | logistic         | σ(z) = 1/(1+e^-z)    | σ(1-σ)           | σ(1-σ)(1-2σ)             |
| p    | softplus         | ln(1 + e^z)          | σ(z)             | σ(1-σ)                   |
| r    | ReLU             | max(z, 0)            | 1 if z > 0 else 0| 0                        |
| g    | Gaussian         | exp(-z^2/2)          | -z f             | (z^2 - 1) f              |
| c    | cosine           | cos z                | -sin z           | -cos z                   |
| S    | reverse logistic | 1 - σ(z)             | -σ(1-σ)          | -σ(1-σ)(1-2σ)            |
| e    | exponential      | exp(-z)              | -exp(-z)         | exp(-z)                  |
| h    | harmonic         | z^2                  | 2 z              | 2                        |

Note the signs n2p2 chose: ``e`` is exp(-z), not exp(z); ``S`` decreases.

Numerics. σ is evaluated as 1/(1+e^-z) for z >= 0 and e^z/(1+e^z) for z < 0,
and softplus as max(z, 0) + ln(1 + e^-|z|), so nothing overflows. n2p2
instead clamps ``s`` and ``p`` for |z| > 35 (``EXP_LIMIT``: σ = 1 or 0,
softplus = z or 0, derivatives 1 or 0); the two differ there by less than
e^-35 ≈ 6.3e-16 in absolute value. ``e`` overflows to inf below z ≈ -709, as
in n2p2 (NumPy then emits its overflow RuntimeWarning).
"""

from __future__ import annotations

import numpy as np


def _sigmoid(z):
    """σ(z) = 1 / (1 + e^-z) without overflow for either sign of z."""
    e = np.exp(-np.abs(z))  # in (0, 1]
    return np.where(z >= 0.0, 1.0 / (1.0 + e), e / (1.0 + e))


def linear(z):
    """l: f = z, f' = 1, f'' = 0."""
    return z.copy(), np.ones_like(z), np.zeros_like(z)


def tanh(z):
    """t: f = tanh z, f' = 1 - f^2, f'' = -2 f (1 - f^2)."""
    f = np.tanh(z)
    df = 1.0 - f * f
    return f, df, -2.0 * f * df


def logistic(z):
    """s: f = σ(z), f' = σ(1-σ), f'' = σ(1-σ)(1-2σ), with 1 - σ(z) = σ(-z)."""
    sp = _sigmoid(z)  # σ(z)
    sm = _sigmoid(-z)  # σ(-z) = 1 - σ(z), accurate also where σ(z) ≈ 1
    df = sp * sm
    return sp, df, df * (sm - sp)


def softplus(z):
    """p: f = ln(1 + e^z) = max(z, 0) + ln(1 + e^-|z|), f' = σ(z), f'' = σ(1-σ)."""
    f = np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))
    sp = _sigmoid(z)
    return f, sp, sp * _sigmoid(-z)


def relu(z):
    """r: f = max(z, 0), f' = 1 for z > 0 else 0 (n2p2: 0 at z = 0), f'' = 0."""
    positive = z > 0.0
    return np.where(positive, z, 0.0), positive.astype(np.float64), np.zeros_like(z)


def gaussian(z):
    """g: f = exp(-z^2/2), f' = -z f, f'' = (z^2 - 1) f."""
    f = np.exp(-0.5 * z * z)
    return f, -z * f, (z * z - 1.0) * f


def cosine(z):
    """c: f = cos z, f' = -sin z, f'' = -cos z."""
    f = np.cos(z)
    return f, -np.sin(z), -f


def reverse_logistic(z):
    """S: f = 1 - σ(z) = σ(-z), f' = -σ(1-σ), f'' = -σ(1-σ)(1-2σ)."""
    sp = _sigmoid(z)
    sm = _sigmoid(-z)
    df = -sp * sm
    return sm, df, df * (sm - sp)


def exponential(z):
    """e: f = exp(-z), f' = -exp(-z), f'' = exp(-z)."""
    f = np.exp(-z)
    return f, -f, f.copy()


def harmonic(z):
    """h: f = z^2, f' = 2 z, f'' = 2."""
    return z * z, 2.0 * z, np.full_like(z, 2.0)


ACTIVATIONS = {
    "l": linear,
    "t": tanh,
    "s": logistic,
    "p": softplus,
    "r": relu,
    "g": gaussian,
    "c": cosine,
    "S": reverse_logistic,
    "e": exponential,
    "h": harmonic,
}
"""n2p2 activation code -> function z -> (f, f', f'')."""

CODES = tuple(ACTIVATIONS)
"""All valid codes, in n2p2's order: l t s p r g c S e h."""


def check_code(code, where="activation") -> None:
    """Raise ValueError naming ``where`` if ``code`` is not an n2p2 activation code."""
    if not isinstance(code, str) or code not in ACTIVATIONS:
        raise ValueError(
            f"{where}: unknown activation code {code!r}; valid n2p2 codes are {' '.join(CODES)}"
        )


def activation(code: str, z):
    """(f(z), f'(z), f''(z)) of the n2p2 activation ``code``, element-wise.

    ``z``: array of any shape (converted to float64); the three outputs have
    its shape. ValueError for an unknown code.
    """
    check_code(code)
    return ACTIVATIONS[code](np.asarray(z, dtype=np.float64))
