"""The TOML schema of ``nnp-ref train`` (``nnp_ref.config``): good files load, bad ones
give one ``ConfigError`` naming the file, the table and the key, before any work."""

import dataclasses
import math

import pytest

from nnp_ref.cli.train import EXAMPLE_CONFIG
from nnp_ref.config import (
    KALMAN_RULES,
    NOT_IN_FILE,
    TRAINING_RULES,
    ConfigError,
    config_from_dict,
    load_config,
)
from nnp_ref.training.optimizers import KalmanSettings
from nnp_ref.training.trainer import TrainingConfig


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "reference_data.extxyz").write_text("")  # only its existence is checked
    return tmp_path


def test_example_config_loads_with_its_values(folder):
    path = folder / "train.toml"
    path.write_text(EXAMPLE_CONFIG)
    config = load_config(path)
    assert config.data_path == folder / "reference_data.extxyz"
    assert (config.data.validation, config.data.test, config.data.split_seed) == (0.1, 0.1, 0)
    assert config.potential.options() == {
        "rc": 5.0,
        "hidden": (15, 15),
        "scaling_mode": "scalecenter",
        "init": "glorot",
        "seed": 0,
        "n_radial": 8,
        "n_angular": 3,
        "r_lower": 1.5,
        "angular": "wide",
    }
    expected = TrainingConfig(optimizer="kalman", epochs=10, use_forces=True, force_weight=1.0)
    assert config.training == expected
    assert config.training.max_time is None  # no hidden wall-clock budget
    assert config.output_dir == folder / "nnp_ref_model"


def test_kalman_table_becomes_kalman_settings(folder):
    config = config_from_dict(
        {"data": {"path": "reference_data.extxyz"}, "training": {"kalman": {"q0": 0.02}}},
        folder / "t.toml",
    )
    assert config.training.kalman == KalmanSettings(q0=0.02)


def test_rules_name_existing_fields():
    """The range tables cannot drift from the trainer's dataclasses."""
    training = {f.name for f in dataclasses.fields(TrainingConfig)}
    assert set(TRAINING_RULES) <= training
    assert set(NOT_IN_FILE) <= training
    assert set(KALMAN_RULES) <= {f.name for f in dataclasses.fields(KalmanSettings)}


GOOD = {"path": "reference_data.extxyz"}


@pytest.mark.parametrize(
    "config, message",
    [
        ({"data": {**GOOD, "bogus": 1}}, "unknown key(s) bogus in [data]"),
        ({"data": GOOD, "extra": {}}, "unknown table(s) extra"),
        (
            {"data": GOOD, "training": {"epochs": "ten"}},
            "[training] epochs = 'ten': expected an integer",
        ),
        (
            {"data": GOOD, "training": {"epochs": 2.5}},
            "[training] epochs = 2.5: expected an integer",
        ),
        (
            {"data": GOOD, "training": {"use_forces": 1}},
            "[training] use_forces = 1: expected true or false",
        ),
        (
            {"data": GOOD, "training": {"learning_rate": -1}},
            "[training] learning_rate = -1: must be > 0",
        ),
        (
            {"data": GOOD, "training": {"stress_weight": -1.0}},
            "[training] stress_weight = -1.0: must be >= 0",
        ),
        (
            {"data": GOOD, "potential": {"n_radial": 100000000}},
            "[potential] n_radial = 100000000: must be in [1, 200]",
        ),
        (
            {"data": GOOD, "training": {"learning_rate": math.nan}},
            "[training] learning_rate = nan: must be a finite number",
        ),
        (
            {"data": GOOD, "training": {"max_time": math.inf}},
            "[training] max_time = inf: must be a finite number",
        ),
        (
            {"data": GOOD, "training": {"force_weight": -1.0}},
            "[training] force_weight = -1.0: must be >= 0",
        ),
        (
            {"data": GOOD, "training": {"energy_weight": -0.5}},
            "[training] energy_weight = -0.5: must be >= 0",
        ),
        (
            {"data": GOOD, "training": {"optimizer": "sgd"}},
            "[training] optimizer = 'sgd': must be one of adam, lbfgs, kalman",
        ),
        ({"data": GOOD, "training": {"progress": False}}, "unknown key(s) progress in [training]"),
        (
            {"data": GOOD, "training": {"kalman": {"q0": "x"}}},
            "[training.kalman] q0 = 'x': expected a number",
        ),
        (
            {"data": GOOD, "training": {"kalman": {"nu": 1.5}}},
            "[training.kalman] nu = 1.5: must be in (0, 1]",
        ),
        ({"data": GOOD, "training": {"kalman": 3}}, "[training] kalman = 3: expected a table"),
        (
            {"data": {**GOOD, "length_unit": "parsec"}},
            "[data] length_unit = 'parsec': unknown length unit 'parsec'",
        ),
        (
            {"data": {**GOOD, "energy_unit": -2.0}},
            "[data] energy_unit = -2.0: energy unit must be a positive number",
        ),
        (
            {"data": {**GOOD, "validation": 0.6, "test": 0.5}},
            "[data] validation + test = 1.1: must be < 1",
        ),
        ({"data": {**GOOD, "test": -0.1}}, "[data] test = -0.1: must be in [0, 1)"),
        ({"data": {"path": "missing.xyz"}}, "[data] path = 'missing.xyz': "),
        (
            {"data": {**GOOD, "generate": {}}},
            "[data] needs exactly one of 'path' or a [data.generate]",
        ),
        ({"data": {"generate": {"kind": "dft"}}}, "[data.generate] kind = 'dft': must be one of"),
        (
            {"data": {"generate": {"n_structures": 0}}},
            "[data.generate] n_structures = 0: must be >= 1",
        ),
        ({"data": 3}, "[data] must be a table"),
        ({}, "no [data] table"),
        (
            {"data": GOOD, "potential": {"hidden": [15, "a"]}},
            "[potential] hidden = [15, 'a']: expected a list of integers",
        ),
        ({"data": GOOD, "potential": {"hidden": []}}, "[potential] hidden = []: must not be empty"),
        ({"data": GOOD, "potential": {"hidden": [0]}}, "[potential] hidden = [0]: 0: must be >= 1"),
        ({"data": GOOD, "potential": {"rc": 0}}, "[potential] rc = 0: must be > 0"),
        (
            {"data": GOOD, "potential": {"activations": ["t", "x"]}},
            "unknown activation code(s) ['x']",
        ),
        (
            {"data": GOOD, "potential": {"cutoff_type": 99}},
            "[potential] cutoff_type = 99: must be an n2p2 cutoff type",
        ),
        (
            {"data": GOOD, "potential": {"scaling_mode": "minmax"}},
            "[potential] scaling_mode = 'minmax': must be one of",
        ),
        ({"data": GOOD, "output": {"directory": 5}}, "[output] directory = 5: expected a string"),
        (
            {"data": GOOD, "training": {"store_dir": "  "}},
            "[training] store_dir = '  ': must not be empty",
        ),
        (
            {"data": GOOD, "training": {"store_dir": 3}},
            "[training] store_dir = 3: expected a string",
        ),
    ],
)
def test_bad_config_is_one_line_naming_file_and_key(folder, config, message):
    with pytest.raises(ConfigError) as err:
        config_from_dict(config, folder / "train.toml")
    text = str(err.value)
    assert text.startswith(f"{folder / 'train.toml'}: ")
    assert message in text
    assert "\n" not in text


def test_toml_syntax_error_names_the_file(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[data\n")
    with pytest.raises(ConfigError, match="bad.toml: "):
        load_config(path)


def test_missing_config_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_config(tmp_path / "none.toml")


def test_store_dir_is_relative_to_the_config_file(folder):
    """``[training] store_dir``: streamed training; a relative folder starts at the file."""
    config = config_from_dict({"data": GOOD, "training": {"store_dir": "cache/descriptors"}},
                              folder / "train.toml")  # fmt: skip
    assert config.training.store_dir == str(folder.resolve() / "cache" / "descriptors")
    absolute = str(folder / "elsewhere")
    config = config_from_dict({"data": GOOD, "training": {"store_dir": absolute}},
                              folder / "train.toml")  # fmt: skip
    assert config.training.store_dir == absolute
    assert config_from_dict({"data": GOOD}, folder / "train.toml").training.store_dir is None
