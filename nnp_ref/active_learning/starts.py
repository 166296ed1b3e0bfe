r"""Where active learning starts: the initial labelled set and the structures MD explores.

The committee only learns about the structures its MD visits, so the
exploration must cover what the potential will be used for: for a metal,
bulk at several temperatures, strained cells, vacancies and surfaces.
The kinds of start structure (``[md] starts``, fcc element of the config):

============  ==============================================================
``bulk``      the perfect ``repeat`` supercell of the cubic cell
``strained``  the same, deformed by a random symmetric strain,
              R -> R (1 + eps), |eps_ab| <= ``max_strain``; a new strain
              in every iteration (seeded by run seed, iteration, start)
``vacancy``   bulk with one atom removed
``divacancy`` bulk with two neighbouring atoms removed
``surface``   (100) slab of ``repeat[0] x repeat[1]`` x 3 layers, 6 Å vacuum
``surface100``, ``surface110``, ``surface111``: slabs of two cubic cells'
              thickness cut with :func:`ase.build.surface`, repeated 2 x 2
============  ==============================================================

The initial set, unless a file is given, is ``n_initial`` generated cells
of the same families (strained and rattled bulk, vacancies, surfaces; the
geometries only, the labeller labels them).
"""

from __future__ import annotations

import numpy as np

from nnp_ref.active_learning.config import ActiveLearningConfig


def unlabelled(atoms):
    """A copy without calculator results (geometry and ``info`` only)."""
    out = atoms.copy()
    out.calc = None
    return out


def initial_structures(cfg: ActiveLearningConfig) -> list:
    """Geometries of the initial set: ``cfg.initial_structures`` or generated fcc cells
    (rattled and strained bulk, vacancies, surfaces; labels are made by the labeller)."""
    from nnp_ref.data.datasets import generate_reference_data, read_dataset

    if cfg.initial_structures:
        return [unlabelled(a) for a in read_dataset(cfg.initial_structures)]
    generated = generate_reference_data(
        symbols=(cfg.element,), crystal="fcc", a=cfg.lattice_constant, calculator="emt",
        n_structures=cfg.n_initial, seed=cfg.seed, repeats=(cfg.repeat,), progress=False,
        mix={"rattled": 0.6, "vacancy": 0.2, "surface": 0.2}, rattle=(0.01, 0.12),
        max_strain=cfg.max_strain,
    )  # fmt: skip
    return [unlabelled(a) for a in generated]


def start_structure(kind: str, cfg: ActiveLearningConfig, rng):
    """One start structure of ``kind`` (module docstring), ``info["start"] = kind``."""
    from ase.build import bulk, fcc100, surface

    from nnp_ref.data.datasets import random_strain

    cubic = bulk(cfg.element, "fcc", a=cfg.lattice_constant, cubic=True)
    if kind == "surface":
        atoms = fcc100(cfg.element, size=(cfg.repeat[0], cfg.repeat[1], 3),
                       a=cfg.lattice_constant, vacuum=6.0, periodic=True)  # fmt: skip
    elif kind.startswith("surface"):
        miller = tuple(int(c) for c in kind[len("surface") :])
        atoms = surface(cubic, miller, layers=2, vacuum=6.0, periodic=True).repeat((2, 2, 1))
    else:
        atoms = cubic.repeat(cfg.repeat)
        if kind == "strained":
            atoms = random_strain(rng, atoms, cfg.max_strain)
        elif kind == "vacancy":
            del atoms[0]
        elif kind == "divacancy":
            nearest = int(np.argsort(atoms.get_distances(0, range(len(atoms)), mic=True))[1])
            del atoms[[0, nearest]]
    atoms.info["start"] = kind
    return atoms


def md_starts(cfg: ActiveLearningConfig, iteration: int = 0) -> list:
    """Start structures of iteration ``iteration``'s exploration MD (``info["start"]``)."""
    from nnp_ref.active_learning.steps import seed_of

    if cfg.start_structures:
        from nnp_ref.data.datasets import read_dataset

        starts = [unlabelled(a) for a in read_dataset(cfg.start_structures)]
        for i, a in enumerate(starts):
            a.info["start"] = f"structure {i}"
        return starts
    return [start_structure(kind, cfg, np.random.default_rng(seed_of(cfg.seed, iteration, j)))
            for j, kind in enumerate(cfg.starts)]  # fmt: skip


__all__ = ["initial_structures", "md_starts", "start_structure", "unlabelled"]
