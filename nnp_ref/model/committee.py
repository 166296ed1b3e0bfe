r"""A committee of HDNNPs: the mean is the prediction, the spread says where it is unsure.

M independently trained potentials (different initial weights and/or
training subsets) agree where the training data constrain them and disagree
elsewhere (A. A. Peterson, R. Christensen and A. Khorshidi, PCCP 19, 10978
(2017); C. Schran, K. Brezina and O. Marsalek, J. Chem. Phys. 153, 104105
(2020)). For any predicted quantity y (energy, force component, stress
component) with member values y_m:

    y_mean = (1/M) sum_m y_m
    sigma_y = sqrt( 1/(M-1) sum_m (y_m - y_mean)^2 )       (sample std, ddof = 1)

and per atom the force disagreement is the length of the deviation vector,

    sigma_F,i = sqrt( 1/(M-1) sum_m |F_m,i - F_mean,i|^2 ).

A committee of one has no spread and is refused. The members share nothing:
each is evaluated on its own (:func:`nnp_ref.model.potential.evaluate`), so
the committee's numbers are exactly those of M separate evaluations.

**Extrapolation report.** Next to the spread, how far each atom's raw
symmetry functions lie outside the range seen in training (the union of
the members' [G_min, G_max], which differ when members saw different
subsets), in units of that range:

    x_is = max(G_is - G_max,s, G_min,s - G_is, 0) / (G_max,s - G_min,s)

(0 inside; 0.5: half a training range beyond the edge). Constant functions
(G_max = G_min) count any deviation > 1e-12 as x = inf.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ase.calculators.calculator import Calculator, all_changes
from ase.stress import full_3x3_to_voigt_6_stress

from nnp_ref.model.potential import Result, evaluate


class Committee:
    """M >= 2 potentials with the same elements and symmetry functions.

    ``members``: list of :class:`~nnp_ref.model.potential.Potential`.
    Construct from files with ``Committee.load(directory)``.
    """

    def __init__(self, members):
        members = list(members)
        if len(members) < 2:
            raise ValueError(
                f"a committee needs at least 2 members, got {len(members)}: "
                "the spread of one model is always 0"
            )
        first = members[0]
        for m, pot in enumerate(members[1:], start=1):
            if tuple(pot.elements) != tuple(first.elements):
                raise ValueError(
                    f"committee member {m} has elements {pot.elements}, member 0 {first.elements}"
                )
            if pot.symmetry_functions != first.symmetry_functions:
                raise ValueError(f"committee member {m} has other symmetry functions than member 0")
        self.members = members

    def __len__(self) -> int:
        return len(self.members)

    def __repr__(self) -> str:
        return f"Committee({len(self)} members, elements {self.elements})"

    @property
    def elements(self) -> tuple[str, ...]:
        return tuple(self.members[0].elements)

    @property
    def cutoff(self) -> float:
        return self.members[0].cutoff

    def training_range(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """{element: (G_min_s, G_max_s)}: union of the members' training ranges."""
        out = {}
        for e in self.elements:
            lo = np.min([p.scalings[e].G_min for p in self.members], axis=0)
            hi = np.max([p.scalings[e].G_max for p in self.members], axis=0)
            out[e] = (lo, hi)
        return out

    def save(self, directory) -> list:
        """One ``member_XXX.json`` per member in ``directory``; returns the paths."""
        from pathlib import Path

        from nnp_ref.io.model_json import save_model

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        return [save_model(p, directory / f"member_{m:03d}.json") for m, p in enumerate(self)]

    @classmethod
    def load(cls, directory) -> Committee:
        """The committee saved by :meth:`save` (members in file-name order)."""
        from pathlib import Path

        from nnp_ref.io.model_json import load_model

        paths = sorted(Path(directory).glob("member_*.json"))
        if not paths:
            raise FileNotFoundError(f"no member_*.json files in {directory}")
        return cls([load_model(p) for p in paths])

    def __iter__(self):
        return iter(self.members)


# ---------------------------------------------------------------------------
# Statistics
# ---------------------------------------------------------------------------


def mean_and_std(y_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mean, sample std with ddof=1) over the first axis (members)."""
    y_m = np.asarray(y_m, dtype=np.float64)
    return y_m.mean(axis=0), y_m.std(axis=0, ddof=1)


def force_disagreement(F_mnc: np.ndarray) -> np.ndarray:
    """sigma_F,i = sqrt( 1/(M-1) sum_m |F_m,i - F_mean,i|^2 ), shape (n,)."""
    dF_mnc = F_mnc - F_mnc.mean(axis=0)
    return np.sqrt(np.sum(dF_mnc**2, axis=(0, 2)) / (F_mnc.shape[0] - 1))


def extrapolation_distance(G_ns, elem_n, n_s_e, ranges, elements) -> np.ndarray:
    """x_ns: distance outside the training range in units of the range (module docstring).

    Padding columns (beyond an element's own functions) are 0.
    """
    x_ns = np.zeros_like(G_ns)
    for e, symbol in enumerate(elements):
        idx = np.flatnonzero(elem_n == e)
        if idx.size == 0:
            continue
        n_s = int(n_s_e[e])
        lo_s, hi_s = ranges[symbol]
        G_as = G_ns[idx, :n_s]
        outside_as = np.maximum(np.maximum(G_as - hi_s, lo_s - G_as), 0.0)
        width_s = hi_s - lo_s
        flat_s = width_s <= 0.0
        x_as = np.divide(outside_as, width_s, out=np.zeros_like(outside_as), where=~flat_s)
        x_as[:, flat_s] = np.where(outside_as[:, flat_s] > 1e-12, np.inf, 0.0)
        x_ns[idx, :n_s] = x_as
    return x_ns


@dataclass
class ExtrapolationReport:
    """How far outside the training range, per atom and per symmetry function.

    ``distance_ns`` (n, s_max): x_is of the module docstring;
    ``atom_n`` (n,): max_s x_is; ``function_es``: {element: (s,) max over
    that element's atoms}; ``n_outside``: number of (atom, function) values
    outside the range.
    """

    distance_ns: np.ndarray
    atom_n: np.ndarray
    function_es: dict
    n_outside: int

    @property
    def max_distance(self) -> float:
        return float(self.atom_n.max()) if self.atom_n.size else 0.0


def extrapolation_report(desc, ranges, elements) -> ExtrapolationReport:
    """:class:`ExtrapolationReport` of one structure's descriptors."""
    x_ns = extrapolation_distance(desc.G_ns, desc.elem_n, desc.n_s_e, ranges, elements)
    per_function = {}
    for e, symbol in enumerate(elements):
        rows = desc.elem_n == e
        n_s = int(desc.n_s_e[e])
        per_function[symbol] = x_ns[rows, :n_s].max(axis=0) if rows.any() else np.zeros(n_s)
    atom_n = x_ns.max(axis=1) if x_ns.shape[1] else np.zeros(len(x_ns))
    return ExtrapolationReport(x_ns, atom_n, per_function, int(np.count_nonzero(x_ns)))


@dataclass
class CommitteeResult:
    """Output of :func:`evaluate_committee` (eV, Å); m = member, n = atom.

    ``energy``, ``energy_std``: mean and spread of the total energy;
    ``energies_n``, ``energies_std_n``: per-atom energies;
    ``forces_nc``, ``forces_std_nc`` (component-wise), ``forces_std_n``
    (sigma_F,i); ``stress_cc``, ``stress_std_cc`` (None without a cell);
    ``energy_m``, ``forces_mnc``: member values; ``extrapolation``:
    :class:`ExtrapolationReport`; ``members``: the members' full results.
    """

    energy: float
    energy_std: float
    energies_n: np.ndarray
    energies_std_n: np.ndarray
    forces_nc: np.ndarray | None
    forces_std_nc: np.ndarray | None
    forces_std_n: np.ndarray | None
    stress_cc: np.ndarray | None
    stress_std_cc: np.ndarray | None
    energy_m: np.ndarray
    forces_mnc: np.ndarray | None
    extrapolation: ExtrapolationReport
    members: list

    def summary(self, top: int = 5) -> str:
        """The ``top`` atoms by force spread, each with its extrapolation (how far, which
        function): where the committee is unsure, and whether it is outside its data."""
        lines = [f"energy {self.energy:.6f} eV +- {self.energy_std:.3g} eV (committee spread)"]
        if self.forces_std_n is None:
            return lines[0]
        x_ns = self.extrapolation.distance_ns
        for i in np.argsort(-self.forces_std_n, kind="stable")[:top]:
            s = int(np.argmax(x_ns[i])) if x_ns.shape[1] else 0
            where = "inside the training range"
            if x_ns.shape[1] and x_ns[i, s] > 0:
                where = f"function {s} is {x_ns[i, s]:.3g} range widths outside the training range"
            lines.append(f"atom {i}: force spread {1e3 * self.forces_std_n[i]:.1f} meV/Å, {where}")
        return "\n".join(lines)


def evaluate_committee(
    committee: Committee, symbols, R_nc, cell_cc=None, pbc_c=(False, False, False),
    forces: bool = True, stress: bool = True,
) -> CommitteeResult:  # fmt: skip
    """Mean and spread of every member's :func:`~nnp_ref.model.potential.evaluate`."""
    results: list[Result] = [
        evaluate(p, symbols, R_nc, cell_cc, pbc_c, forces=forces, stress=stress,
                 extrapolation="ignore")
        for p in committee
    ]  # fmt: skip
    energy_m = np.array([r.energy for r in results])
    E, E_std = mean_and_std(energy_m)
    En, En_std = mean_and_std([r.energies_n for r in results])
    F = F_std_nc = F_std_n = F_mnc = None
    if forces:
        F_mnc = np.array([r.forces_nc for r in results])
        F, F_std_nc = mean_and_std(F_mnc)
        F_std_n = force_disagreement(F_mnc)
    S = S_std = None
    if results[0].stress_cc is not None:
        S, S_std = mean_and_std([r.stress_cc for r in results])
    report = extrapolation_report(results[0].descriptors, committee.training_range(),
                                  committee.elements)  # fmt: skip
    return CommitteeResult(float(E), float(E_std), En, En_std, F, F_std_nc, F_std_n, S, S_std,
                           energy_m, F_mnc, report, results)  # fmt: skip


def evaluate_committee_atoms(committee: Committee, atoms, **kwargs) -> CommitteeResult:
    """:func:`evaluate_committee` for an ``ase.Atoms``."""
    return evaluate_committee(committee, atoms.get_chemical_symbols(), atoms.get_positions(),
                              atoms.get_cell().array, atoms.get_pbc(), **kwargs)  # fmt: skip


# ---------------------------------------------------------------------------
# ASE adapter
# ---------------------------------------------------------------------------


class CommitteeCalculator(Calculator):
    """ASE calculator of a :class:`Committee`: the mean, plus the spread as extra results.

    Results: ``energy``, ``free_energy``, ``energies``, ``forces``, ``stress``
    (the committee means, as :class:`~nnp_ref.model.calculator.NNPCalculator`),
    and ``energy_std`` (eV), ``energies_std`` (n,), ``forces_std`` (n,)
    sigma_F,i (eV/Å), ``forces_std_components`` (n, 3), ``stress_std``
    (Voigt), ``extrapolation`` (n,) max distance outside the training range
    per atom. ``calc.last`` holds the whole :class:`CommitteeResult`.
    Read the spread in MD with :class:`SpreadLog` as the ``callback`` of
    :func:`nnp_ref.dynamics.md.run_md`.
    """

    implemented_properties = [
        "energy", "free_energy", "energies", "forces", "stress", "energy_std",
        "energies_std", "forces_std", "forces_std_components", "stress_std", "extrapolation",
    ]  # fmt: skip

    def __init__(self, committee: Committee, **kwargs):
        super().__init__(**kwargs)
        self.committee = committee if isinstance(committee, Committee) else Committee(committee)
        self.last: CommitteeResult | None = None

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        want_stress = ("stress" in properties or "stress_std" in properties) and any(self.atoms.pbc)
        r = evaluate_committee_atoms(self.committee, self.atoms, forces=True, stress=want_stress)
        self.last = r
        self.results.update(
            energy=r.energy, free_energy=r.energy, energies=r.energies_n, forces=r.forces_nc,
            energy_std=r.energy_std, energies_std=r.energies_std_n, forces_std=r.forces_std_n,
            forces_std_components=r.forces_std_nc, extrapolation=r.extrapolation.atom_n,
        )  # fmt: skip
        if want_stress:
            self.results["stress"] = full_3x3_to_voigt_6_stress(r.stress_cc)
            self.results["stress_std"] = full_3x3_to_voigt_6_stress(r.stress_std_cc)


class SpreadLog:
    """MD callback (``run_md(..., callback=SpreadLog(atoms))``): the committee's spread per step.

    After the run: ``step_t``, ``energy_std_t`` (eV), ``max_force_std_t``
    (eV/Å, max over atoms of sigma_F,i), ``max_extrapolation_t`` as arrays;
    with ``keep_frames_every=k`` also copies of every k-th frame in
    ``frames`` (with the spreads in ``atoms.info``), the candidates of
    active learning.
    """

    def __init__(self, atoms, keep_frames_every: int = 0):
        self.atoms = atoms
        self.every = int(keep_frames_every)
        self.rows: list[tuple] = []
        self.frames: list = []

    def __call__(self, step, state) -> None:
        res = self.atoms.calc.results
        row = (step, float(res["energy_std"]), float(np.max(res["forces_std"])),
               float(np.max(res["extrapolation"])))  # fmt: skip
        self.rows.append(row)
        if self.every and step % self.every == 0:
            frame = self.atoms.copy()
            frame.calc = None
            frame.info.update(md_step=step, energy_std=row[1], max_force_std=row[2],
                              max_extrapolation=row[3])  # fmt: skip
            self.frames.append(frame)

    def _column(self, k):
        return np.array([r[k] for r in self.rows])

    @property
    def step_t(self):
        return self._column(0).astype(int)

    @property
    def energy_std_t(self):
        return self._column(1)

    @property
    def max_force_std_t(self):
        return self._column(2)

    @property
    def max_extrapolation_t(self):
        return self._column(3)


__all__ = [
    "Committee",
    "CommitteeCalculator",
    "CommitteeResult",
    "ExtrapolationReport",
    "SpreadLog",
    "evaluate_committee",
    "evaluate_committee_atoms",
    "extrapolation_distance",
    "extrapolation_report",
    "force_disagreement",
    "mean_and_std",
]
