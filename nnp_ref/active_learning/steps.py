r"""The steps of one active-learning iteration (:mod:`nnp_ref.active_learning.loop`).

Explore with committee MD, score and select candidate frames, label them
into the database, read the training set back, test errors; each a function
of its inputs, seeded by :func:`seed_of` (iteration and start), so the loop
can resume anywhere.
"""

from __future__ import annotations

import warnings

import numpy as np

from nnp_ref.active_learning.config import ActiveLearningConfig

EXTRAPOLATION_CAP = 10.0  # ranges; caps inf (a function constant in training that moved)


def seed_of(*keys: int) -> int:
    """A seed derived from (run seed, iteration, run index, ...)."""
    return int(np.random.SeedSequence([int(k) for k in keys]).generate_state(1)[0])


# ---------------------------------------------------------------------------
# Steps
# ---------------------------------------------------------------------------


class BeyondTrust(Exception):
    """Raised by :class:`TrustGuard` to end a trajectory whose spread left the trust window."""


class TrustGuard:
    """MD callback: the committee's :class:`~nnp_ref.model.committee.SpreadLog` plus the
    trust window's upper edge. At the first step with sigma_F > ``trust_hi`` it keeps
    that frame (``info["beyond_trust"] = True``, never labelled) and the step before it
    (the last one the committee still trusted), and ends the run with :class:`BeyondTrust`."""

    def __init__(self, atoms, every: int, trust_hi: float):
        from nnp_ref.model.committee import SpreadLog

        self.log = SpreadLog(atoms, keep_frames_every=every)
        self.trust_hi = trust_hi
        self.previous = None  # the last step's frame, a candidate if the next one crosses
        self.crossed_at = None

    def __call__(self, step, state) -> None:
        n_frames = len(self.log.frames)
        self.log(step, state)
        if self.log.rows[-1][2] <= self.trust_hi:
            if len(self.log.frames) == n_frames:  # not sampled: remember it
                self.previous = self._frame(step)
            else:
                self.previous = None
            return
        if len(self.log.frames) == n_frames:
            self.log.frames.append(self._frame(step))
        self.log.frames[-1].info["beyond_trust"] = True
        if self.previous is not None and step > 1:
            self.log.frames.insert(-1, self.previous)
        self.crossed_at = step
        raise BeyondTrust(step)

    def _frame(self, step):
        frame = self.log.atoms.copy()
        frame.calc = None
        _, e_std, f_std, x = self.log.rows[-1]
        frame.info.update(md_step=step, energy_std=e_std, max_force_std=f_std,
                          max_extrapolation=x)  # fmt: skip
        return frame


def explore(committee, starts, cfg: ActiveLearningConfig, iteration: int, progress=False):
    """Langevin MD from every start at every temperature, each trajectory ended at its first
    step beyond ``trust_hi``; (candidate frames, summary dict with the trust-window counts)."""
    from nnp_ref.dynamics.md import MDError, run_md
    from nnp_ref.model.committee import CommitteeCalculator

    frames, problems, stopped, sigma_max = [], [], [], [0.0]
    n_warnings = 0
    for j, (start, T) in enumerate((s, T) for s in starts for T in cfg.temperatures):
        atoms = start.copy()
        atoms.calc = CommitteeCalculator(committee)
        guard = TrustGuard(atoms, cfg.sample_every, cfg.trust_hi)
        name = f"{start.info.get('start', j)} at {T:g} K"
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                run_md(atoms, cfg.dt_fs, cfg.steps, "langevin", temperature_K=float(T),
                       seed=seed_of(cfg.seed, iteration, j), init_temperature_K=float(T),
                       callback=guard, progress=progress)  # fmt: skip
            except BeyondTrust as err:
                stopped.append(f"{name}: spread above trust_hi at step {err.args[0]}")
            except (MDError, ValueError) as err:  # flew apart, or atoms on top of each other
                problems.append(f"{name}: {err}")
        n_warnings += len(caught)
        if guard.log.rows:
            sigma_max.append(float(guard.log.max_force_std_t.max()))
        for frame in guard.log.frames:
            if frame.info["md_step"] == 0 and not frame.info.get("beyond_trust"):
                continue  # the start structure itself (counted if beyond trust)
            frame.info.update(md_start=str(start.info.get("start", j)), md_temperature=float(T))
            frames.append(frame)
    sigma = np.array([f.info["max_force_std"] for f in frames]) if frames else np.zeros(1)
    window = trust_window_counts(frames, cfg)
    summary = {
        "md_frames": len(frames),
        "md_max_force_std": max(sigma_max),  # over every MD step, not only the sampled ones
        "md_mean_force_std": float(sigma.mean()),
        "md_max_extrapolation": float(
            max((min(f.info["max_extrapolation"], EXTRAPOLATION_CAP) for f in frames), default=0)
        ),
        **window,
        "md_stopped_beyond_trust": stopped,
        "md_problems": problems,
        "md_warnings": n_warnings,
    }
    return frames, summary


def trust_window_counts(frames, cfg: ActiveLearningConfig) -> dict:
    """Frames below ``trust_lo`` (accurate), in [lo, hi] (candidates), above ``trust_hi``
    (unphysical, never labelled)."""
    sigma = np.array([f.info["max_force_std"] for f in frames])
    return {
        "n_accurate": int(np.sum(sigma < cfg.trust_lo)),
        "n_candidates": int(np.sum((sigma >= cfg.trust_lo) & (sigma <= cfg.trust_hi))),
        "n_beyond_trust": int(np.sum(sigma > cfg.trust_hi)),
    }


def frame_scores(frames, extrapolation_weight: float) -> np.ndarray:
    """score = sigma_F + w min(x, cap) per frame (eV/Å)."""
    sigma = np.array([f.info["max_force_std"] for f in frames])
    x = np.minimum([f.info["max_extrapolation"] for f in frames], EXTRAPOLATION_CAP)
    return sigma + extrapolation_weight * x


def eligible_frames(frames, cfg: ActiveLearningConfig) -> np.ndarray:
    """Indices of the frames that may be labelled: inside the trust window
    (trust_lo <= sigma_F <= trust_hi), or extrapolating (x > 0) with sigma_F <= trust_hi."""
    sigma = np.array([f.info["max_force_std"] for f in frames])
    x = np.array([f.info["max_extrapolation"] for f in frames])
    return np.flatnonzero(((sigma >= cfg.trust_lo) | (x > 0)) & (sigma <= cfg.trust_hi))


def structure_features(frames, potential) -> np.ndarray:
    """Per frame: mean scaled symmetry functions of each element, concatenated."""
    from nnp_ref.selection.features import structure_features as features

    sfset = potential.descriptor
    descriptors = [sfset.compute_atoms(a, with_derivatives=False) for a in frames]
    return features(descriptors, potential.elements, potential.scalings)


def select(frames, committee, cfg: ActiveLearningConfig, n_take: int) -> list[int]:
    """Indices of the frames to label (module docstring, step 4)."""
    from nnp_ref.selection.fps import fps_rows

    if n_take <= 0 or not frames:
        return []
    score = frame_scores(frames, cfg.extrapolation_weight)
    eligible = eligible_frames(frames, cfg)
    if eligible.size == 0:
        return []
    pool = eligible[np.argsort(-score[eligible], kind="stable")][: cfg.pool_factor * n_take]
    n_take = min(n_take, pool.size)
    if n_take == pool.size:
        return sorted(int(i) for i in pool)
    features = structure_features([frames[i] for i in pool], committee.members[0])
    picked = fps_rows(features, n_take, initial=0)  # pool[0] has the best score
    return [int(pool[i]) for i in picked]


def label_frames(frames, labeller, db_path, iteration: int, progress=False) -> None:
    """Label ``frames`` into the database with tag ``iteration``; a frame the labeller
    refuses (``labeller.check``: e.g. atoms on top of each other after a bad MD step) or
    fails on is stored as a failed row with its reason, and the others go on."""
    import ase.db

    from nnp_ref.data.database import existing_keys, label_structures, structure_key, write_failure

    good = []
    done = existing_keys(db_path)
    for i, atoms in enumerate(frames):
        name = f"iteration {iteration} frame {i} ({atoms.get_chemical_formula()})"
        try:
            labeller.check(atoms, name)
            good.append(atoms)
        except ValueError as err:
            key = structure_key(atoms, labeller.identity)
            if key not in done:
                db = ase.db.connect(str(db_path), type="db", append=True)
                tags = {k: v for k, v in atoms.info.items() if isinstance(v, (str, int, float))}
                write_failure(db, atoms, key, f"rejected before labelling: {err}",
                              labeller.identity, {**tags, "iteration": iteration})  # fmt: skip
    label_structures(good, labeller, db_path, tags={"iteration": iteration}, progress=progress)


def n_calculations(db_path, iteration: int) -> int:
    """Reference calculations spent up to ``iteration``: rows (labels and failures) tagged
    with an iteration <= it (a count that does not depend on where a run was killed)."""
    from nnp_ref.data.database import read_database

    return len(read_database(db_path, f"iteration<={iteration}", include_failed=True))


def training_set(db_path, iteration: int) -> list:
    """The labels of iterations <= ``iteration`` (in row order)."""
    from nnp_ref.data.database import read_database

    return read_database(db_path, f"iteration<={iteration}")


def test_errors(committee, test_set) -> dict:
    """RMSE of the committee mean on a test set: energy (meV/atom), forces (meV/Å)."""
    from nnp_ref.data.datasets import reference_energy, reference_forces
    from nnp_ref.model.committee import evaluate_committee_atoms

    dE, dF = [], []
    for atoms in test_set:
        r = evaluate_committee_atoms(committee, atoms, stress=False)
        dE.append((r.energy - reference_energy(atoms)) / len(atoms))
        dF.append((r.forces_nc - reference_forces(atoms)).ravel())
    return {
        "test_rmse_energy_meV_per_atom": 1e3 * float(np.sqrt(np.mean(np.square(dE)))),
        "test_rmse_force_meV_per_A": 1e3 * float(np.sqrt(np.mean(np.square(np.concatenate(dF))))),
    }
