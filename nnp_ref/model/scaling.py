r"""Scaling of symmetry functions before they enter the networks (n2p2's modes).

Each function s of an element is mapped linearly, G_s -> a_s G_s + b_s, with
the statistics (min, max, mean, sigma) of the training set
(n2p2, ``SymFnc::scale``; Singraber et al., JCTC 15, 1827 (2019)):

==============  ========================================================
mode            G_scaled
==============  ========================================================
``none``        G
``scale``       S_min + (S_max - S_min) (G - G_min) / (G_max - G_min)
``center``      G - <G>
``scalecenter`` S_min + (S_max - S_min) (G - <G>) / (G_max - G_min)
``scalesigma``  S_min + (S_max - S_min) (G - <G>) / sigma_G
==============  ========================================================

A function with G_max == G_min (or sigma == 0) carries no information in the
training set; its factor is set to 0 instead of dividing by zero, so it
scales to a constant and never produces NaN.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MODES = ("none", "scale", "center", "scalecenter", "scalesigma")


@dataclass(frozen=True)
class Scaling:
    """Scaling of one element's functions; arrays have shape (s,)."""

    mode: str
    G_min: np.ndarray
    G_max: np.ndarray
    G_mean: np.ndarray
    G_sigma: np.ndarray
    s_min: float = 0.0
    s_max: float = 1.0

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"unknown scaling mode {self.mode!r}; expected one of {MODES}")
        arrays = (self.G_min, self.G_max, self.G_mean, self.G_sigma)
        if len({np.shape(a) for a in arrays}) != 1:
            raise ValueError("scaling statistics G_min, G_max, G_mean, G_sigma differ in length")
        for name, a in zip(("G_min", "G_max", "G_mean", "G_sigma"), arrays):
            if not np.all(np.isfinite(a)):
                raise ValueError(f"scaling statistic {name} contains NaN or inf")

    @property
    def n_functions(self) -> int:
        return len(self.G_min)

    def factor_and_offset(self) -> tuple[np.ndarray, np.ndarray]:
        """(a_s, b_s) with G_scaled = a_s G + b_s; a_s is also dG_scaled/dG."""
        spread = self.G_max - self.G_min
        width = self.s_max - self.s_min
        if self.mode == "none":
            a = np.ones_like(self.G_min)
            return a, np.zeros_like(self.G_min)
        if self.mode == "center":
            return np.ones_like(self.G_min), -self.G_mean
        if self.mode == "scalesigma":
            a = _safe_ratio(width, self.G_sigma)
        else:
            a = _safe_ratio(width, spread)
        reference = self.G_min if self.mode == "scale" else self.G_mean
        return a, self.s_min - a * reference

    def apply(self, G_as: np.ndarray) -> np.ndarray:
        """Scaled functions of an element block, shape (a, s)."""
        a, b = self.factor_and_offset()
        return G_as * a + b

    def outside_range(self, G_as: np.ndarray) -> np.ndarray:
        """Boolean (a, s): raw G outside [G_min, G_max] (an extrapolation)."""
        return (G_as < self.G_min) | (G_as > self.G_max)

    @classmethod
    def identity(cls, n_functions: int) -> Scaling:
        z = np.zeros(n_functions)
        return cls("none", z, z.copy(), z.copy(), z.copy())

    @classmethod
    def from_data(cls, G_as: np.ndarray, mode="scalecenter", s_min=0.0, s_max=1.0) -> Scaling:
        """Statistics of one element's functions over a training set (rows: atoms)."""
        G_as = np.asarray(G_as, dtype=float)
        if G_as.ndim != 2 or G_as.shape[0] == 0:
            raise ValueError("need at least one atom of the element to compute scaling statistics")
        return cls(
            mode,
            G_as.min(axis=0),
            G_as.max(axis=0),
            G_as.mean(axis=0),
            G_as.std(axis=0),
            s_min,
            s_max,
        )


def _safe_ratio(numerator: float, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, 0 where the denominator is 0."""
    out = np.zeros_like(denominator, dtype=float)
    nonzero = denominator != 0.0
    out[nonzero] = numerator / denominator[nonzero]
    return out
