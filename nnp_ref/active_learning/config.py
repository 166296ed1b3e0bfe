r"""Settings of the active-learning loop, from Python or a TOML file.

A TOML file has up to six tables; every key is optional (defaults below)::

    workdir = "al_run"        # everything the loop writes (resumable)
    seed = 0
    [reference]  labeller = "emt"          # "emt", "lj", "pbe/def2-svp" or "module:factory"
                 initial_structures = ""   # file; empty: generated copper cells
                 n_initial = 10
                 test_set = ""             # file with labelled structures for test errors
    [md]         temperatures = [300.0, 900.0, 1500.0]
                 starts = ["bulk", "vacancy", "surface"]   # or start_structures = "file"
                 steps = 200, dt_fs = 2.0, sample_every = 10, max_strain = 0.04
    [committee]  n_members = 4, hidden = [16, 16], optimizer = "adam", epochs = 30,
                 warm_epochs = 15 (epochs of the warm-started retraining),
                 warm_start = true (false: every committee trained from scratch),
                 learning_rate = 3e-3, batch_size = 8, bootstrap = false, workers = 1,
                 rc = 5.0, n_radial = 6, n_angular = 2, r_lower = 2.0
    [selection]  n_select = 8, pool_factor = 3, extrapolation_weight = 0.1,
                 trust_lo = 0.05, trust_hi = 0.5
    [stop]       target_force_std = 0.05, max_labels = 100, max_iterations = 8

Units: eV, Å, K, fs. ``target_force_std``: eV/Å (the largest per-atom
committee force spread on new MD must fall below it). ``starts``: kinds of
:mod:`nnp_ref.active_learning.starts` (bulk, strained, vacancy, divacancy,
surface, surface100, surface110, surface111); ``max_strain``: of the
strained starts and the generated initial cells.

**Trust window** (DP-GEN's model deviation; Y. Zhang et al., Comput. Phys.
Commun. 253, 107206 (2020)): a frame whose largest per-atom force spread
sigma_F is below ``trust_lo`` (eV/Å) is already described well; one in
[``trust_lo``, ``trust_hi``] is a candidate for labelling; one above
``trust_hi`` is treated as unphysical (the committee has lost the
trajectory, the structure is likely nonsense) and is never labelled. An MD
trajectory stops at its first step above ``trust_hi``; the step just before
it (still inside the window, the edge of what the committee knows) becomes
a candidate. The report counts the frames of each kind.
``extrapolation_weight``: eV/Å added to a frame's score per unit of training
range its most extrapolating symmetry function lies outside.

Any problem is one ``ValueError`` naming the file, the table and the key.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path

TABLES = {
    "reference": ("labeller", "initial_structures", "n_initial", "test_set", "element",
                  "lattice_constant", "repeat"),
    "md": ("temperatures", "starts", "start_structures", "steps", "dt_fs", "sample_every",
           "max_strain"),
    "committee": ("n_members", "hidden", "optimizer", "epochs", "warm_epochs", "warm_start",
                  "learning_rate", "batch_size", "bootstrap", "workers", "rc", "n_radial",
                  "n_angular", "r_lower"),
    "selection": ("n_select", "pool_factor", "extrapolation_weight", "trust_lo", "trust_hi"),
    "stop": ("target_force_std", "max_labels", "max_iterations"),
}  # fmt: skip


@dataclass
class ActiveLearningConfig:
    """All settings (see the module docstring for meaning and units)."""

    workdir: str = "al_run"
    seed: int = 0
    # reference
    labeller: str = "emt"
    initial_structures: str = ""
    n_initial: int = 10
    test_set: str = ""
    element: str = "Cu"
    lattice_constant: float = 3.61
    repeat: tuple = (2, 2, 2)
    # md
    temperatures: tuple = (300.0, 900.0, 1500.0)
    starts: tuple = ("bulk", "vacancy", "surface")
    start_structures: str = ""
    steps: int = 200
    dt_fs: float = 2.0
    sample_every: int = 10
    max_strain: float = 0.04
    # committee
    n_members: int = 4
    hidden: tuple = (16, 16)
    optimizer: str = "adam"
    epochs: int = 30
    warm_epochs: int = 15
    warm_start: bool = True
    learning_rate: float = 3e-3
    batch_size: int = 8
    bootstrap: bool = False
    workers: int = 1
    rc: float = 5.0
    n_radial: int = 6
    n_angular: int = 2
    r_lower: float = 2.0
    # selection
    n_select: int = 8
    pool_factor: int = 3
    extrapolation_weight: float = 0.1
    trust_lo: float = 0.05
    trust_hi: float = 0.5
    # stop
    target_force_std: float = 0.05
    max_labels: int = 100
    max_iterations: int = 8
    source: str = field(default="<python>", compare=False)

    def __post_init__(self):
        for name in ("repeat", "temperatures", "starts", "hidden"):
            setattr(self, name, tuple(getattr(self, name)))
        check(self)

    def to_dict(self) -> dict:
        out = dataclasses.asdict(self)
        out.pop("source")
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in out.items()}


POSITIVE = ("n_initial", "lattice_constant", "steps", "dt_fs", "sample_every", "epochs",
            "learning_rate", "batch_size", "workers", "rc", "n_radial", "r_lower", "n_select",
            "pool_factor", "target_force_std", "max_labels", "max_iterations")  # fmt: skip
NON_NEGATIVE = ("warm_epochs", "n_angular", "extrapolation_weight", "max_strain", "trust_lo")
START_KINDS = ("bulk", "strained", "vacancy", "divacancy", "surface", "surface100", "surface110",
               "surface111")  # fmt: skip


def _where(cfg, key) -> str:
    table = next((t for t, keys in TABLES.items() if key in keys), None)
    return f"{cfg.source}: " + (f"[{table}] {key}" if table else key)


def check(cfg: ActiveLearningConfig) -> None:
    """Raise a one-line ``ValueError`` naming file, table and key for a bad setting."""
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{_where(cfg, f.name)} = {value}: must be finite")
    for key in POSITIVE:
        if not getattr(cfg, key) > 0:
            raise ValueError(f"{_where(cfg, key)} = {getattr(cfg, key)}: must be > 0")
    for key in NON_NEGATIVE:
        if getattr(cfg, key) < 0:
            raise ValueError(f"{_where(cfg, key)} = {getattr(cfg, key)}: must be >= 0")
    if not cfg.trust_hi > cfg.trust_lo:
        raise ValueError(
            f"{_where(cfg, 'trust_hi')} = {cfg.trust_hi}: must be above trust_lo = {cfg.trust_lo}"
        )
    if cfg.n_members < 2:
        raise ValueError(
            f"{_where(cfg, 'n_members')} = {cfg.n_members}: a committee needs at least 2 members"
        )
    if not cfg.temperatures or min(cfg.temperatures) <= 0:
        raise ValueError(f"{_where(cfg, 'temperatures')}: need at least one temperature > 0 K")
    bad = [s for s in cfg.starts if s not in START_KINDS]
    if bad and not cfg.start_structures:
        raise ValueError(f"{_where(cfg, 'starts')}: unknown {bad}; use {START_KINDS}")
    if len(cfg.repeat) != 3 or min(cfg.repeat) < 1:
        raise ValueError(f"{_where(cfg, 'repeat')} = {cfg.repeat}: need three integers >= 1")
    if cfg.optimizer not in ("adam", "lbfgs", "kalman"):
        raise ValueError(f"{_where(cfg, 'optimizer')} = {cfg.optimizer!r}: use adam, lbfgs, kalman")
    if not cfg.hidden or min(cfg.hidden) < 1:
        raise ValueError(f"{_where(cfg, 'hidden')} = {cfg.hidden}: need layer sizes >= 1")


def load_config(path, **overrides) -> ActiveLearningConfig:
    """Read a TOML file (module docstring); ``overrides`` replace keys after reading."""
    try:
        import tomllib
    except ImportError:  # Python < 3.11
        import tomli as tomllib

    path = Path(path)
    with open(path, "rb") as handle:
        try:
            data = tomllib.load(handle)
        except tomllib.TOMLDecodeError as err:
            raise ValueError(f"{path}: not valid TOML: {err}") from None
    flat: dict = {}
    known = {f.name for f in dataclasses.fields(ActiveLearningConfig)} - {"source"}
    for key, value in data.items():
        if isinstance(value, dict):
            if key not in TABLES:
                raise ValueError(f"{path}: unknown table [{key}]; expected {sorted(TABLES)}")
            for sub, v in value.items():
                if sub not in TABLES[key]:
                    raise ValueError(f"{path}: [{key}] {sub}: unknown key")
                flat[sub] = v
        elif key in ("workdir", "seed"):
            flat[key] = value
        else:
            where = next((t for t, keys in TABLES.items() if key in keys), None)
            hint = f" (it belongs in [{where}])" if where else ""
            raise ValueError(f"{path}: {key}: unknown top-level key{hint}")
    flat.update(overrides)
    for key, value in flat.items():
        default = getattr(ActiveLearningConfig, key, None) if key in known else None
        if isinstance(default, bool) and not isinstance(value, bool):
            raise ValueError(f"{path}: {key} = {value!r}: must be true or false")
        if isinstance(default, (int, float)) and not isinstance(default, bool):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"{path}: {key} = {value!r}: must be a number")
            if isinstance(default, int) and not isinstance(default, bool):
                if value != int(value):
                    raise ValueError(f"{path}: {key} = {value!r}: must be an integer")
                flat[key] = int(value)
    if "workdir" in flat and not Path(flat["workdir"]).is_absolute():
        flat["workdir"] = str(path.parent / flat["workdir"])
    return ActiveLearningConfig(**flat, source=str(path))


__all__ = ["ActiveLearningConfig", "check", "load_config"]
