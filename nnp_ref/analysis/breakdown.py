r"""Errors broken down by structure type: which structures cause the test error?

One RMSE over a whole test set hides where a potential fails: a set with a
few surfaces among many bulk snapshots can have a small overall error and
a large surface error (J. Behler, Int. J. Quantum Chem. 115, 1032 (2015),
sec. 5: validate per type of structure). This module groups the per-structure
errors of :class:`nnp_ref.analysis.errors.Predictions` by a label of each
structure (``atoms.info["config_type"]`` by default) and computes, per group g,

    RMSE_E(g) = sqrt( (1/S_g) sum_{s in g} [(E_s - E_s^ref)/N_s]^2 )     meV/atom
    RMSE_F(g) = sqrt( (1/3N_g) sum_{k in g, c} (F_kc - F_kc^ref)^2 )     meV/Å

and the group's share of the total squared error (which groups to fix first).

:func:`structure_class` maps nnp_ref's generated labels ("md 1500 K",
"rattled bulk", "1 vacancy", "surface 111") onto four coarse classes:
bulk, surface, vacancy, high temperature (MD at >= ``hot_K``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

from nnp_ref.analysis.errors import Predictions

#: Coarse classes in display order.
CLASSES = ("bulk", "high temperature", "vacancy", "surface", "other")


def structure_class(label: str, hot_K: float = 900.0) -> str:
    """Coarse class of a structure label: bulk, high temperature, vacancy, surface or other.

    "md T K" is "high temperature" for T >= hot_K, else "bulk"; "rattled
    bulk" is "bulk"; labels containing "vacanc" or "surface"/"slab" are
    "vacancy"/"surface"; anything else is "other".
    """
    text = str(label).lower()
    if "surface" in text or "slab" in text:
        return "surface"
    if "vacanc" in text:
        return "vacancy"
    match = re.match(r"md\s+([0-9.eE+-]+)\s*k", text)
    if match:
        return "high temperature" if float(match.group(1)) >= hot_K else "bulk"
    if "bulk" in text or "crystal" in text:
        return "bulk"
    return "other"


def labels_of(structures, key: str = "config_type", coarse: bool = True) -> list[str]:
    """One label per structure: ``atoms.info[key]`` ("unlabelled" if absent), coarse if asked."""
    out = []
    for atoms in structures:
        label = str(atoms.info.get(key, "unlabelled"))
        out.append(structure_class(label) if coarse else label)
    return out


@dataclass
class Breakdown:
    """Errors per group (arrays in the order of ``groups``).

    ``n_structures_g``, ``n_atoms_g``; ``rmse_E_g`` (meV/atom), ``rmse_F_g``
    (meV/Å, nan without forces); ``share_E_g``, ``share_F_g``: the group's
    share of the total sum of squared errors (sums to 1); ``total``: the
    overall RMSEs, (meV/atom, meV/Å).
    """

    groups: list[str]
    n_structures_g: np.ndarray
    n_atoms_g: np.ndarray
    rmse_E_g: np.ndarray
    rmse_F_g: np.ndarray
    share_E_g: np.ndarray
    share_F_g: np.ndarray
    total: tuple[float, float]

    def table(self) -> str:
        """A plain-text table, one row per group, then the total."""
        head = f"{'group':18s} {'structures':>10s} {'atoms':>7s} {'RMSE E':>9s} {'RMSE F':>8s}"
        head += f" {'share E²':>9s} {'share F²':>9s}"
        units = f"{'':18s} {'':>10s} {'':>7s} {'meV/atom':>9s} {'meV/Å':>8s} {'':>9s} {'':>9s}"
        rows = [head, units]
        for g, name in enumerate(self.groups):
            rows.append(
                f"{name:18s} {self.n_structures_g[g]:10d} {self.n_atoms_g[g]:7d} "
                f"{self.rmse_E_g[g]:9.2f} {self.rmse_F_g[g]:8.1f} "
                f"{100 * self.share_E_g[g]:8.0f}% {100 * self.share_F_g[g]:8.0f}%"
            )
        rows.append(
            f"{'all':18s} {int(self.n_structures_g.sum()):10d} {int(self.n_atoms_g.sum()):7d} "
            f"{self.total[0]:9.2f} {self.total[1]:8.1f}"
        )
        return "\n".join(rows)


def _ordered(labels) -> list[str]:
    present = list(dict.fromkeys(labels))
    known = [c for c in CLASSES if c in present]
    return known + sorted(set(present) - set(known))


def error_breakdown(pred: Predictions, labels) -> Breakdown:
    """Per-group RMSEs of ``pred`` for one label per structure (see the module docstring)."""
    labels = [str(label) for label in labels]
    S = len(pred.E_ref_s)
    if len(labels) != S:
        raise ValueError(f"error_breakdown: {len(labels)} labels for {S} structures")
    label_s = np.array(labels, dtype=object)
    dE2_s = (1e3 * (pred.E_pred_s - pred.E_ref_s)) ** 2  # (meV/atom)^2
    dF2_k = np.sum((1e3 * (pred.F_pred_kc - pred.F_ref_kc)) ** 2, axis=1)  # (meV/Å)^2, 3 comps
    label_k = label_s[pred.structure_k] if len(pred.structure_k) else np.zeros(0, dtype=object)
    groups = _ordered(labels)
    n_s, n_a, rE, rF, sE, sF = [], [], [], [], [], []
    total_E, total_F = dE2_s.sum(), dF2_k.sum()
    for name in groups:
        in_s = label_s == name
        in_k = label_k == name
        n_s.append(int(in_s.sum()))
        n_a.append(int(pred.n_atoms_s[in_s].sum()))
        rE.append(float(np.sqrt(dE2_s[in_s].mean())))
        rF.append(float(np.sqrt(dF2_k[in_k].sum() / (3 * in_k.sum()))) if in_k.any() else np.nan)
        sE.append(float(dE2_s[in_s].sum() / total_E) if total_E > 0 else 0.0)
        sF.append(float(dF2_k[in_k].sum() / total_F) if total_F > 0 else 0.0)
    total = (
        float(np.sqrt(dE2_s.mean())) if S else np.nan,
        float(np.sqrt(dF2_k.sum() / (3 * len(dF2_k)))) if len(dF2_k) else np.nan,
    )
    return Breakdown(
        groups, np.array(n_s), np.array(n_a), np.array(rE), np.array(rF), np.array(sE),
        np.array(sF), total,
    )  # fmt: skip


def plot_breakdown(breakdowns: dict[str, Breakdown], path=None) -> Figure:
    """Grouped bars of RMSE_E and RMSE_F per group, one bar colour per entry of ``breakdowns``.

    ``breakdowns``: e.g. {"validation": b_val, "test": b_test}; the groups of
    the first entry set the order.
    """
    fig = Figure(figsize=(10, 3.8))
    ax_E, ax_F = fig.subplots(1, 2)
    names = list(breakdowns)
    groups = list(breakdowns[names[0]].groups)
    for b in breakdowns.values():
        groups += [g for g in b.groups if g not in groups]
    x_g = np.arange(len(groups))
    width = 0.8 / len(names)
    for k, name in enumerate(names):
        b = breakdowns[name]
        index = {g: i for i, g in enumerate(b.groups)}
        E = [b.rmse_E_g[index[g]] if g in index else np.nan for g in groups]
        F = [b.rmse_F_g[index[g]] if g in index else np.nan for g in groups]
        shift = (k - (len(names) - 1) / 2) * width
        ax_E.bar(x_g + shift, E, width, label=name, color=f"C{k}")
        ax_F.bar(x_g + shift, F, width, label=name, color=f"C{k}")
    for ax, what in ((ax_E, "energy RMSE (meV/atom)"), (ax_F, "force RMSE (meV/Å)")):
        ax.set_xticks(x_g, groups, rotation=20, ha="right")
        ax.set(ylabel=what)
    ax_E.legend(fontsize="small")
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig


__all__ = [
    "CLASSES",
    "Breakdown",
    "error_breakdown",
    "labels_of",
    "plot_breakdown",
    "structure_class",
]
