r"""Drawn lecture diagrams (matplotlib, no pyplot): the HDNNP architecture.

The high-dimensional neural network potential of Behler and Parrinello
(Phys. Rev. Lett. 98, 146401 (2007); J. Behler, Angew. Chem. Int. Ed. 56,
12828 (2017), fig. 3):

    atoms R  ->  G_i = G(R_i, {R_j : r_ij < r_c})  ->  E_i = NN_{Z_i}(G_i)  ->  E = sum_i E_i

One network per element, shared by all atoms of that element; forces are
F = -dE/dR by the chain rule back through the same columns. The bars of G_i
are the real default symmetry functions of the drawn water molecule,
computed by nnp_ref.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Ellipse, FancyArrowPatch, FancyBboxPatch

COLOURS = {"O": "#d62728", "H": "#7f7f7f"}
WIDTH, HEIGHT = 12.0, 5.2  # inches; the axes span the figure, coordinates in [0, 1]


def Circle(xy, r, **kwargs):
    """A circle of radius r (in units of the figure width) in [0, 1] x [0, 1] axes."""
    return Ellipse(xy, 2 * r, 2 * r * WIDTH / HEIGHT, **kwargs)


def _water():
    """A water molecule (Å) and its default symmetry functions per atom, scaled to [0, 1]."""
    from nnp_ref.descriptors.symmetry_functions import SymmetryFunctionSet
    from nnp_ref.training.preprocessing import default_symmetry_functions

    symbols = ["O", "H", "H"]
    R_nc = np.array([[0.0, 0.0, 0.0], [0.757, 0.586, 0.0], [-0.757, 0.586, 0.0]])
    sets = default_symmetry_functions(("O", "H"), rc=4.0)
    desc = SymmetryFunctionSet(sets).compute(
        symbols, R_nc, np.zeros((3, 3)), (False,) * 3, with_derivatives=False
    )
    G_ns = desc.G_ns[:, :10]
    G_ns = G_ns / np.maximum(np.max(np.abs(G_ns), axis=0), 1e-12)  # each function to [0, 1]
    return symbols, R_nc, G_ns


def _arrow(ax, start, end, **kwargs):
    style = dict(arrowstyle="-|>", mutation_scale=12, lw=1.0, color="0.3")
    style.update(kwargs)
    ax.add_patch(FancyArrowPatch(start, end, **style))


def _network(ax, x0, y0, width, height, colour, sizes=(5, 4, 4, 1)):
    """A small fully connected network drawn in the box (x0, y0, width, height)."""
    xs = np.linspace(x0, x0 + width, len(sizes))
    layers = []
    for x, n in zip(xs, sizes, strict=True):
        ys = y0 + height / 2 + (np.arange(n) - (n - 1) / 2) * height / max(sizes)
        layers.append([(x, y) for y in ys])
    for left, right in zip(layers[:-1], layers[1:], strict=True):
        for a in left:
            for b in right:
                ax.plot([a[0], b[0]], [a[1], b[1]], color=colour, lw=0.4, alpha=0.6)
    for layer in layers:
        for x, y in layer:
            ax.add_patch(Circle((x, y), 0.005, color=colour, zorder=3))
    return layers[0], layers[-1][0]


def hdnnp_architecture() -> Figure:
    """The HDNNP: atoms -> symmetry functions -> element networks -> atomic energies -> sum."""
    symbols, R_nc, G_ns = _water()
    fig = Figure(figsize=(WIDTH, HEIGHT))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set(xlim=(0, 1), ylim=(0, 1))
    ax.axis("off")
    heads = [
        (0.075, "atoms\n(R, Z)"),
        (0.27, "symmetry functions G_i\n(neighbours within r_c;\ninvariant, smooth)"),
        (0.52, "element networks\nE_i = NN_Z(G_i)"),
        (0.74, "atomic energies"),
        (0.91, "total energy"),
    ]
    for x, text in heads:
        ax.text(x, 0.95, text, ha="center", va="top", fontsize=10, weight="bold")
    rows = [0.70, 0.45, 0.20]
    centre = np.array([0.065, 0.40])
    scale = 0.045  # figure widths per Å
    for i, (symbol, y) in enumerate(zip(symbols, rows, strict=True)):
        colour = COLOURS[symbol]
        # the molecule, atom i highlighted with its cutoff sphere
        for k, s in enumerate(symbols):
            xy = centre + scale * R_nc[k, :2] * np.array([1.0, -WIDTH / HEIGHT])
            if k == i:
                _arrow(ax, xy, (0.125, y), color=COLOURS[s], lw=0.6, arrowstyle="-")
        ax.text(0.165, y, f"atom {i + 1} ({symbol})", ha="center", va="center", fontsize=9)
        # G_i as bars
        x0, bar_w = 0.215, 0.011
        for s, g in enumerate(G_ns[i]):
            ax.add_patch(
                FancyBboxPatch(
                    (x0 + s * bar_w, y - 0.07), bar_w * 0.8, 0.14 * max(g, 0.02),
                    boxstyle="square,pad=0", color=colour, alpha=0.8,
                )
            )  # fmt: skip
        ax.text(x0 + 5 * bar_w, y - 0.09, f"G_{i + 1}", ha="center", va="top", fontsize=9)
        _arrow(ax, (0.195, y), (0.212, y))
        # the element network
        inputs, output = _network(ax, 0.44, y - 0.08, 0.16, 0.16, colour)
        _arrow(ax, (0.33, y), (0.435, y))
        ax.text(0.52, y + 0.095, f"NN_{symbol}", ha="center", fontsize=9, color=colour)
        # E_i and the sum
        ax.add_patch(Circle((0.74, y), 0.025, color=colour, alpha=0.3))
        ax.text(0.74, y, f"E_{i + 1}", ha="center", va="center", fontsize=11)
        _arrow(ax, (output[0] + 0.01, y), (0.70, y))
        _arrow(ax, (0.78, y), (0.875, 0.45))
    for k, s in enumerate(symbols):
        xy = centre + scale * R_nc[k, :2] * np.array([1.0, -WIDTH / HEIGHT])
        ax.add_patch(Circle(xy, 0.012 if s == "H" else 0.018, color=COLOURS[s], zorder=3))
        ax.text(xy[0], xy[1] - 0.075, s, ha="center", fontsize=9)
    ax.add_patch(Circle((0.91, 0.45), 0.03, color="0.85"))
    ax.text(0.91, 0.45, "Σ", ha="center", va="center", fontsize=16)
    ax.text(0.91, 0.36, "E = Σ_i E_i", ha="center", fontsize=10)
    ax.text(
        0.52, 0.045,
        "the two H atoms share one network (same weights); "
        "forces F_k = -∂E/∂R_k = -Σ_i Σ_s ∂E_i/∂G_is ∂G_is/∂R_k: "
        "the chain rule back through every column",
        ha="center", fontsize=9, style="italic",
    )  # fmt: skip
    return fig


__all__ = ["hdnnp_architecture"]
