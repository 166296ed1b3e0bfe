r"""The four generations of HDNNPs: the carbon-chain experiment and its lecture figure.

J. Behler, Chem. Rev. 121, 10037 (2021); T. W. Ko et al., Nat. Commun. 12,
398 (2021), whose C10H2 / C10H3+ example (n2p2's
``examples/nnp-train/Carbon_chain_4G``) is the data here: adding a proton at
one end of the chain moves charge to its far end, beyond any cutoff. A
short-range (2G) potential sees the same environment at that end in both
molecules and must predict the same atomic energy and forces there; the
4G potential's charge equilibration spreads the extra charge over the
whole chain.

- :func:`load_chain_data`: the 128 structures (eV, Å, reference charges).
- :func:`carbon_chain_experiment`: trains a 2G and a 4G potential on the
  same split (same symmetry functions, scaling, network sizes, L-BFGS
  budget) and returns the RMSEs of energies, forces and charges.
- :func:`charges_along_chain`: the lecture figure (``nnp-ref lecture
  four-generations``): reference charges of the neutral and the protonated
  chain along the chain axis, and those of a 4G potential after a short
  stage-1 fit.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

CHAIN_FILES = ("Carbon_chain_4G", "Carbon_chain_4G_train")


def n2p2_directory() -> Path:
    """../shared/n2p2 next to the repository (or ``NNP_REF_N2P2_DIR``)."""
    default = Path(__file__).resolve().parents[3] / "shared" / "n2p2"
    folder = Path(os.environ.get("NNP_REF_N2P2_DIR", default))
    if not (folder / CHAIN_FILES[1] / "input.data").is_file():
        raise FileNotFoundError(
            f"carbon-chain data not found in {folder} (set NNP_REF_N2P2_DIR to the n2p2 files)"
        )
    return folder


def load_chain_data():
    """The 128 C10H2 / C10H3+ structures (Å, eV, charges in atoms.info / initial charges)."""
    from ase.units import Bohr, Hartree

    from nnp_ref.io.n2p2 import read_data

    path = n2p2_directory() / CHAIN_FILES[1] / "input.data"
    return read_data(path, length_unit=Bohr, energy_unit=Hartree)


def fresh_4g_potential(seed: int = 0):
    """Carbon_chain_4G's settings (functions, scaling, widths, screening) with new networks.

    Networks of the input.nn topology (15-15, tanh) with n2p2's Nguyen-Widrow
    start, hardness = ``initial_hardness`` (10 Ha/e^2).
    """
    from ase.units import Bohr, Hartree

    from nnp_ref.io.n2p2.fourth_generation import read_potential_4g
    from nnp_ref.model.network import layer_sizes, make_network

    pot = read_potential_4g(n2p2_directory() / CHAIN_FILES[0], Bohr, Hartree, zero_short_range=True)
    for k, e in enumerate(pot.elements):
        for nets in (pot.electronegativity_networks, pot.short_networks):
            sizes = layer_sizes(nets[e])
            nets[e] = make_network(
                sizes[0], sizes[1:-1], nets[e].activations, seed=seed + 7 * k + len(nets)
            )
        pot.hardness[e] = 10.0 * Hartree
    return pot


def fresh_2g_potential(pot4g, seed: int = 0):
    """The 2G twin of a 4G potential: same functions, scaling, offsets, network sizes."""
    from nnp_ref.model.network import layer_sizes, make_network
    from nnp_ref.model.potential import Potential

    networks = {}
    for k, e in enumerate(pot4g.elements):
        sizes = layer_sizes(pot4g.short_networks[e])
        networks[e] = make_network(sizes[0] - 1, sizes[1:-1], pot4g.short_networks[e].activations,
                                   seed=seed + 11 * k)  # fmt: skip
    return Potential(
        pot4g.elements,
        pot4g.symmetry_functions,
        networks,
        scalings=pot4g.scalings,
        energy_offsets=pot4g.energy_offsets,
        energy_scale=pot4g.energy_scale,
    )


def split(structures, test_fraction: float = 0.1, seed: int = 0):
    """Random train/test split (indices), as n2p2's ``test_fraction``."""
    order = np.random.default_rng(seed).permutation(len(structures))
    n_test = max(1, int(round(test_fraction * len(structures))))
    return sorted(order[n_test:]), sorted(order[:n_test])


def errors_2g(pot, structures) -> dict:
    """RMSEs of a 2G potential: energies (eV/atom), forces (eV/Å); it has no charges."""
    from nnp_ref.model.potential import evaluate_atoms

    dE, dF = [], []
    for atoms in structures:
        r = evaluate_atoms(pot, atoms, stress=False, extrapolation="ignore")  # errors only
        dE.append((r.energy - atoms.get_potential_energy()) / len(atoms))
        dF.append((r.forces_nc - atoms.get_forces()).ravel())
    return {"rmse_energy": float(np.sqrt(np.mean(np.square(dE)))),
            "rmse_force": float(np.sqrt(np.mean(np.concatenate(dF) ** 2))),
            "rmse_charge": float("nan")}  # fmt: skip


def carbon_chain_experiment(iterations: int = 200, force_weight: float = 1.0, seed: int = 0,
                            progress: bool = True) -> dict:  # fmt: skip
    """Train 2G and 4G potentials on the same split; RMSEs on train and test.

    4G: stage 1 (charges, ``iterations`` L-BFGS steps) then stage 2 (short
    range, ``iterations`` steps) with ``nnp_ref.training.fourth_generation``.
    2G: the existing trainer, L-BFGS, ``iterations`` epochs, energies and forces.
    Returns {"4G": {"train": errors, "test": errors, "train neutral": ..., "test charged":
    ...}, "2G": ..., "potentials": ..., "history": ..., "split": ...}.
    """
    from nnp_ref.training import fourth_generation as t4
    from nnp_ref.training.trainer import Trainer, TrainingConfig

    data = load_chain_data()
    train_idx, test_idx = split(data, seed=seed)
    train = [data[i] for i in train_idx]
    test = [data[i] for i in test_idx]
    pot4 = fresh_4g_potential(seed)
    train_frames, test_frames = t4.prepare(pot4, train), t4.prepare(pot4, test, "test set")
    pot4, hist_q = t4.train_charges(pot4, train_frames, iterations, progress)
    pot4, hist_e = t4.train_short_range(pot4, train_frames, iterations, force_weight, progress)
    pot2 = fresh_2g_potential(pot4, seed)
    config = TrainingConfig(optimizer="lbfgs", epochs=iterations, progress=progress, seed=seed)
    pot2 = Trainer(pot2, train, test, config).fit().final_potential
    results = {"4G": {}, "2G": {}}
    for part, structures, frames in (("train", train, train_frames), ("test", test, test_frames)):
        results["4G"][part] = t4.errors(pot4, frames)
        results["2G"][part] = errors_2g(pot2, structures)
        for name, charge in (("neutral", 0.0), ("charged", 1.0)):
            keep = [k for k, a in enumerate(structures) if a.info["charge"] == charge]
            results["4G"][f"{part} {name}"] = t4.errors(pot4, [frames[k] for k in keep])
            results["2G"][f"{part} {name}"] = errors_2g(pot2, [structures[k] for k in keep])
    results["potentials"] = {"4G": pot4, "2G": pot2}
    results["history"] = {"charges": hist_q, "short": hist_e}
    results["split"] = (train_idx, test_idx)
    return results


def chain_axis_positions(atoms) -> np.ndarray:
    """Coordinate of every atom along the chain's principal axis (Å, centred).

    Oriented so that the hydrogens' mean coordinate is >= 0: the protonated
    (CH2+) end of C10H3+ is on the right.
    """
    X = atoms.positions - atoms.positions.mean(axis=0)
    s = X @ np.linalg.svd(X, full_matrices=False)[2][0]
    hydrogens = np.array(atoms.get_chemical_symbols()) == "H"
    return s if s[hydrogens].mean() >= 0.0 else -s


def carbon_charges_along_chain(structures) -> tuple[np.ndarray, np.ndarray]:
    """Mean position and mean reference charge of the k-th carbon along the chain."""
    s_all, q_all = [], []
    for atoms in structures:
        carbons = np.array(atoms.get_chemical_symbols()) == "C"
        s = chain_axis_positions(atoms)[carbons]
        order = np.argsort(s)
        s_all.append(s[order])
        q_all.append(atoms.get_initial_charges()[carbons][order])
    return np.mean(s_all, axis=0), np.mean(q_all, axis=0)


def charges_along_chain(iterations: int = 60, seed: int = 0) -> Figure:
    """Lecture figure: reference and 4G charges along the neutral and the protonated chain.

    Left: one structure of each, DFT charges and those of a 4G potential after
    ``iterations`` stage-1 L-BFGS steps on a quarter of the data. Right: the
    mean DFT charge of each carbon: the proton on the right end changes the
    charges of the carbons on the left end, farther away than the cutoff.
    """
    from nnp_ref.model.fourth_generation import evaluate_atoms
    from nnp_ref.training import fourth_generation as t4

    data = load_chain_data()
    groups = (
        ("C10H2", [a for a in data if a.info["charge"] == 0.0], "tab:blue"),
        ("C10H3+", [a for a in data if a.info["charge"] == 1.0], "tab:red"),
    )
    pot = fresh_4g_potential(seed)
    subset = groups[0][1][::4] + groups[1][1][::4]
    pot, _ = t4.train_charges(pot, t4.prepare(pot, subset), iterations, progress=False)
    fig = Figure(figsize=(9.0, 3.6), layout="constrained")
    ax = fig.add_subplot(1, 2, 1)
    for label, group, color in groups:
        atoms = group[1]  # not in the stage-1 subset
        s = chain_axis_positions(atoms)
        order = np.argsort(s)
        Q_4g = evaluate_atoms(pot, atoms, forces=False).charges_n
        ax.plot(
            s[order], atoms.get_initial_charges()[order], "o", color=color, label=f"{label} DFT"
        )
        ax.plot(s[order], Q_4g[order], "-x", color=color, label=f"{label} 4G")
    ax.set_xlabel("position along the chain (Å)")
    ax.set_ylabel("atomic charge (e)")
    ax.set_title(f"4G charges after {iterations} stage-1 steps")
    ax.legend(fontsize=7)
    ax2 = fig.add_subplot(1, 2, 2)
    for label, group, color in groups:
        s, q = carbon_charges_along_chain(group)
        ax2.plot(s, q, "o-", color=color, label=f"{label} ({len(group)} structures)")
    cutoff = max(sf.rc for sfs in pot.symmetry_functions.values() for sf in sfs)
    ax2.axvspan(s[-1] - cutoff, s[-1], color="0.9", label="cutoff from the CH2+ end")
    ax2.set_xlabel("mean carbon position (Å)")
    ax2.set_ylabel("mean DFT carbon charge (e)")
    ax2.set_title("the proton moves charge beyond the cutoff")
    ax2.legend(fontsize=7)
    return fig
