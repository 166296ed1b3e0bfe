"""The TOML file of ``nnp-ref train``: its schema, checked before any work starts.

A config has four tables (every key optional except a data source)::

    [data]       path = "data.extxyz"  (or a [data.generate] table), units, split
    [potential]  symmetry functions and networks (``build_potential``'s options)
    [training]   ``TrainingConfig``'s fields, [training.kalman] ``KalmanSettings``'s
                 (``store_dir``: descriptors on disk, streamed; relative to the file)
    [output]     directory

:func:`load_config` reads the file and returns a :class:`RunConfig`; any
problem is one :class:`ConfigError` (a ``ValueError``) naming the file, the
table and the key: ``train.toml: [training] learning_rate = -1: must be > 0``.
Unknown keys, wrong types, NaN/inf, out-of-range values and unknown names
(units, optimisers, activations, ...) are all caught here, before reading
data or training.

Design: plain dataclasses and a small schema, not a validation library.
Each table is a frozen dataclass; its type hints give the TOML types, and a
rule per key (:func:`positive`, :func:`one_of`, ... in ``nnp_ref.config_rules``)
gives the allowed range.
The [training] keys come from ``TrainingConfig``'s own fields, so the schema
cannot drift from the trainer; only their ranges are listed here. pydantic or
attrs would add a dependency and their messages (several lines, their own
wording) would need rewriting into the one-line ``file: [table] key`` form
anyway; the whole checker is about 70 lines of standard library.
"""

from __future__ import annotations

import dataclasses
import math
import sys
import types
import typing
from dataclasses import dataclass
from pathlib import Path

from nnp_ref.config_rules import (
    activation_codes,
    at_least,
    between,
    cutoff_type,
    each,
    fraction,
    non_empty,
    non_empty_text,
    one_of,
    positive,
    rule,
    unit,
    unit_interval,
)

TABLES = ("data", "potential", "training", "output")


class ConfigError(ValueError):
    """A config problem; the message names the file, the table and the key."""


# ---------------------------------------------------------------------------
# The tables
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class GenerateSection:
    """[data.generate]: reference data from ``generate_reference_data``."""

    kind: str = rule(one_of("emt-cu", "emt-cuau", "lj-ar"), "emt-cu")
    n_structures: int = rule(at_least(1), 200)
    seed: int = rule(at_least(0), 0)


@dataclass(frozen=True)
class DataSection:
    """[data]: a file (``path``, relative to the config) or [data.generate]; the split."""

    path: str | None = None
    length_unit: str | float = rule(unit("length"), "angstrom")
    energy_unit: str | float = rule(unit("energy"), "ev")
    validation: float = rule(fraction, 0.1)
    test: float = rule(fraction, 0.1)
    split_seed: int = rule(at_least(0), 0)
    generate: GenerateSection | None = None


@dataclass(frozen=True)
class PotentialSection:
    """[potential]: options of ``build_potential`` (None: the library's default)."""

    rc: float | None = rule(positive)
    hidden: tuple[int, ...] | None = rule(non_empty(each(at_least(1))))
    activations: tuple[str, ...] | None = rule(non_empty(activation_codes))
    scaling_mode: str | None = rule(one_of("none", "scale", "center", "scalecenter", "scalesigma"))
    init: str | None = rule(one_of("glorot", "nguyen-widrow"))
    seed: int | None = rule(at_least(0))
    n_radial: int | None = rule(between(1, 200))
    n_angular: int | None = rule(between(1, 200))
    r_lower: float | None = rule(positive)
    r_upper: float | None = rule(positive)
    zetas: tuple[float, ...] | None = rule(non_empty(each(at_least(1))))
    angular: str | None = rule(one_of("wide", "narrow"))
    radial_mode: str | None = rule(one_of("shift", "center"))
    cutoff_type: int | None = rule(cutoff_type)

    def options(self) -> dict:
        """The keys given in the file, as keyword arguments of ``build_potential``."""
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}


@dataclass(frozen=True)
class OutputSection:
    """[output]: the folder for model.json, history, figures, metrics.json."""

    directory: str = "nnp_ref_model"


#: Ranges of the [training] keys (their names and types come from TrainingConfig).
TRAINING_RULES = {
    "optimizer": one_of("adam", "lbfgs", "kalman"),
    "epochs": at_least(0),
    "energy_weight": at_least(0),
    "force_weight": at_least(0),
    "l2": at_least(0),
    "seed": at_least(0),
    "patience": at_least(1),
    "max_time": positive,
    "checkpoint_every": at_least(1),
    "energy_unit": positive,
    "force_unit": positive,
    "batch_size": at_least(1),
    "learning_rate": positive,
    "lr_decay": unit_interval,
    "lr_min": at_least(0),
    "lbfgs_memory": at_least(1),
    "stress_weight": at_least(0),
    "stress_unit": positive,
    "store_dir": non_empty_text,
}
#: Ranges of the [training.kalman] keys (names and types from KalmanSettings).
KALMAN_RULES = {
    "kind": one_of("standard", "fading_memory"),
    "epsilon": positive,
    "q0": at_least(0),
    "qtau": positive,
    "qmin": at_least(0),
    "eta0": positive,
    "etatau": positive,
    "etamax": positive,
    "lambda0": unit_interval,
    "nu": unit_interval,
    "energy_fraction": at_least(0),
    "force_fraction": at_least(0),
    "forces_per_update": at_least(1),
    "force_selection": one_of("structure", "components"),
    "force_update_weight": positive,
    "energy_threshold": at_least(0),
    "force_threshold": at_least(0),
    "threshold_trials": at_least(1),
}
#: Ranges by settings class (for dataclasses whose fields live elsewhere).
RULES_OF = {"TrainingConfig": TRAINING_RULES, "KalmanSettings": KALMAN_RULES}
#: TrainingConfig fields the command line sets itself.
NOT_IN_FILE = ("progress", "checkpoint_dir")


@dataclass(frozen=True)
class RunConfig:
    """A checked config: its file, the four tables and the resolved data path."""

    file: Path
    data: DataSection
    potential: PotentialSection
    training: typing.Any  # nnp_ref.training.trainer.TrainingConfig
    output: OutputSection

    @property
    def base(self) -> Path:
        """The config's folder: relative paths in the file start here."""
        return self.file.resolve().parent

    @property
    def data_path(self) -> Path | None:
        return None if self.data.path is None else self.base / self.data.path

    @property
    def output_dir(self) -> Path:
        return self.base / self.output.directory


# ---------------------------------------------------------------------------
# Checking a table against a dataclass
# ---------------------------------------------------------------------------


def _type_name(hint) -> str:
    args = [a for a in typing.get_args(hint) if a is not type(None) and a is not Ellipsis]
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in args)
    if typing.get_origin(hint) in (tuple, list):
        return f"a list of {_type_name(args[0]).split(' ', 1)[1]}s"
    if dataclasses.is_dataclass(hint):
        return "a table"
    names = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}
    return names.get(hint, f"a {getattr(hint, '__name__', hint)}")


def _convert(value, hint, table: str, key: str):
    """``value`` of ``[table] key`` as type ``hint`` (lists -> tuples, tables -> dataclasses)."""
    where = f"[{table}] {key}"
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{where} = {value}: must be a finite number")
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        for arg in (a for a in args if a is not type(None)):
            try:
                return _convert(value, arg, table, key)
            except ConfigError:
                if dataclasses.is_dataclass(arg) and isinstance(value, dict):
                    raise
        raise ConfigError(f"{where} = {value!r}: expected {_type_name(hint)}")
    if origin in (tuple, list) and isinstance(value, list):
        for v in value:
            if isinstance(v, float) and not math.isfinite(v):
                raise ConfigError(f"{where} = {value}: must hold finite numbers")
        try:
            return tuple(_convert(v, args[0], table, key) for v in value)
        except ConfigError:
            raise ConfigError(f"{where} = {value!r}: expected {_type_name(hint)}") from None
    if dataclasses.is_dataclass(hint) and isinstance(value, dict):
        return from_table(hint, value, f"{table}.{key}")
    if hint is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if hint in (int, str, bool) and type(value) is hint:
        return value
    if origin is None and hint not in (int, float, str, bool) and not isinstance(hint, type):
        return value  # a type this schema does not know (e.g. Any): the dataclass decides
    raise ConfigError(f"{where} = {value!r}: expected {_type_name(hint)}")


def from_table(cls, table, name: str, rules: dict | None = None, skip=()):
    """An instance of the dataclass ``cls`` from the TOML table ``[name]``, every key checked.

    Types come from ``cls``'s type hints, ranges from ``rules`` (key -> rule;
    default ``RULES_OF[cls.__name__]``) or the fields' ``metadata["rule"]``.
    ``skip``: fields that may not appear in the file. Raises :class:`ConfigError`.
    """
    rules = rules if rules is not None else RULES_OF.get(cls.__name__, {})
    if not isinstance(table, dict):
        raise ConfigError(f"[{name}] must be a table, got {table!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name not in skip}
    unknown = sorted(set(table) - set(fields))
    if unknown:
        raise ConfigError(
            f"unknown key(s) {', '.join(unknown)} in [{name}]; known: {', '.join(fields)}"
        )
    values = {}
    for key, value in table.items():
        where = f"[{name}] {key}"
        values[key] = _convert(value, hints[key], name, key)
        check = rules.get(key) or fields[key].metadata.get("rule")
        problem = check(values[key]) if check and values[key] is not None else None
        if problem:
            raise ConfigError(f"{where} = {value!r}: {problem}")
    try:
        return cls(**values)
    except (TypeError, ValueError) as err:
        raise ConfigError(f"[{name}]: {err}") from None


# ---------------------------------------------------------------------------
# The whole file
# ---------------------------------------------------------------------------


def read_toml(path) -> dict:
    """The TOML file as a dict; a missing file or a syntax error is one line."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"config file {path} does not exist")
    with open(path, "rb") as handle:
        try:
            return tomllib.load(handle)
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
            raise ConfigError(f"{path}: {err}") from None


def training_config(table: dict, name: str = "training"):
    """``TrainingConfig`` from a [training] table (with [training.kalman]), every key checked."""
    from nnp_ref.training.trainer import TrainingConfig

    return from_table(TrainingConfig, table, name, skip=NOT_IN_FILE)


def _check_data(data: DataSection, base: Path) -> None:
    if (data.path is None) == (data.generate is None):
        raise ConfigError("[data] needs exactly one of 'path' or a [data.generate] table")
    if data.validation + data.test >= 1:
        raise ConfigError(
            f"[data] validation + test = {data.validation + data.test:g}: must be < 1"
        )
    if data.path is not None and not (base / data.path).is_file():
        raise ConfigError(f"[data] path = {data.path!r}: {base / data.path} does not exist")


def config_from_dict(config: dict, file="<config>") -> RunConfig:
    """A :class:`RunConfig` from parsed TOML; errors are prefixed with ``file``."""
    file = Path(file)
    try:
        unknown = sorted(set(config) - set(TABLES))
        if unknown:
            raise ConfigError(f"unknown table(s) {', '.join(unknown)}; known: {', '.join(TABLES)}")
        potential = from_table(PotentialSection, config.get("potential", {}), "potential")
        training = training_config(config.get("training", {}))
        if training.store_dir is not None:  # relative to the config file, as [data] path
            store_dir = str(file.resolve().parent / training.store_dir)
            training = dataclasses.replace(training, store_dir=store_dir)
        output = from_table(OutputSection, config.get("output", {}), "output")
        if "data" not in config:
            raise ConfigError('no [data] table: give path = "..." or a [data.generate] table')
        data = from_table(DataSection, config["data"], "data")
        _check_data(data, file.resolve().parent)
        return RunConfig(file, data, potential, training, output)
    except ConfigError as err:
        raise ConfigError(f"{file}: {err}") from None


def load_config(path) -> RunConfig:
    """Read and check a config file (see the module docstring)."""
    return config_from_dict(read_toml(path), path)


__all__ = [
    "ConfigError",
    "DataSection",
    "GenerateSection",
    "OutputSection",
    "PotentialSection",
    "RunConfig",
    "config_from_dict",
    "from_table",
    "load_config",
    "read_toml",
    "training_config",
]
