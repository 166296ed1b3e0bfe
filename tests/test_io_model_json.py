"""nnp_ref's model.json: round trip, and one-line errors naming file and key (issue 16)."""

import json

import numpy as np
import pytest
from ase import Atoms

from nnp_ref.descriptors.symmetry_functions import SymmetryFunction
from nnp_ref.io.errors import FileFormatError
from nnp_ref.io.model_json import load_model, potential_to_dict, save_model
from nnp_ref.model.network import make_network
from nnp_ref.model.potential import Potential, evaluate_atoms
from nnp_ref.model.scaling import Scaling


def small_potential() -> Potential:
    """A two-element potential (H, O; 3 functions each; 3-4-1 networks), hand-made."""
    sfs = {
        e: [
            SymmetryFunction(type=2, center=e, neighbours=("H",), rc=5.0, eta=0.5, rs=0.0),
            SymmetryFunction(type=2, center=e, neighbours=("O",), rc=5.0, eta=0.3, rs=1.0),
            SymmetryFunction(
                type=3, center=e, neighbours=("H", "O"), rc=5.0, eta=0.1, lam=-1.0, zeta=2.0
            ),
        ]  # fmt: skip
        for e in ("H", "O")
    }
    G_min, G_max = np.array([0.0, 0.0, 0.0]), np.array([2.0, 1.5, 0.8])
    scalings = {
        e: Scaling(
            "scalecenter",
            G_min,
            G_max,
            np.array([0.9, 0.6, 0.3]),
            np.array([0.4, 0.3, 0.2]),
            0.0,
            1.0,
        )  # fmt: skip
        for e in ("H", "O")
    }
    networks = {e: make_network(3, hidden=(4,), activations=("t", "l"), seed=k)
                for k, e in enumerate(("H", "O"))}  # fmt: skip
    return Potential(("H", "O"), sfs, networks, scalings=scalings,
                     energy_offsets={"H": -13.6, "O": -432.1}, energy_scale=0.5)  # fmt: skip


def water() -> Atoms:
    return Atoms("OH2", positions=[(0.0, 0.0, 0.0), (0.96, 0.0, 0.0), (-0.24, 0.93, 0.0)])


def energy_forces(potential):
    result = evaluate_atoms(potential, water(), extrapolation="off")
    return result.energy, result.forces_nc


def test_round_trip_is_bit_identical(tmp_path):
    potential = small_potential()
    path = save_model(potential, tmp_path / "model.json")
    again = load_model(path)
    e0, f0 = energy_forces(potential)
    e1, f1 = energy_forces(again)
    assert np.isfinite(e0) and e1 == e0
    assert np.array_equal(f1, f0)


def write_json(tmp_path, data) -> str:
    path = tmp_path / "model.json"
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return path


def good_dict() -> dict:
    return json.loads(json.dumps(potential_to_dict(small_potential())))


def set_key(data, keys, value):
    node = data
    for k in keys[:-1]:
        node = node[k]
    node[keys[-1]] = value
    return data


def load_error(path) -> FileFormatError:
    with pytest.raises(FileFormatError) as info:
        load_model(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(str(path))
    return info.value


@pytest.mark.parametrize(
    "keys, value, key, fragment",
    [
        (("networks", "H", "normalize"), "yes", "networks.H.normalize", "expected true or false"),
        (("units", "energy"), "Hartree", "units.energy", "must be one of 'eV'"),
        (("energy_scale",), None, "energy_scale", "expected a number, got null"),
        (("energy_scale",), 0, "energy_scale", "must be nonzero"),
        (("surprise",), 1, "surprise", "unknown field"),
        (("networks", "H", "layers", 0, "surprise"), 1, "networks.H.layers[0].surprise",
         "unknown field"),
        (("scalings", "O", "s_min"), "0.0", "scalings.O.s_min", "expected a number, got a string"),
        (("networks", "O", "layers", 1, "W", 2), ["1.0"], "networks.O.layers[1].W[2][0]",
         "expected a number"),
        (("symmetry_functions", "H", 1, "rc"), -5.0, "symmetry_functions.H[1]",
         "rc must be positive"),
        (("scalings", "H", "G_max"), [1.0], "scalings.H", "differ in length"),
        (("networks", "H", "activations"), ["t", "x"], "networks.H", "activation"),
        (("elements",), ["H"], "energy_offsets.O", "not listed in 'elements'"),
        (("format_version",), 99, "format_version", "newer than this nnp_ref"),
        (("format",), "something", "format", "not an nnp_ref model"),
    ],
)  # fmt: skip
def test_wrong_values_name_the_key(tmp_path, keys, value, key, fragment):
    path = write_json(tmp_path, set_key(good_dict(), keys, value))
    error = load_error(path)
    assert error.key == key
    assert str(error).startswith(f"{path}: {key}: ")
    assert fragment in str(error)


@pytest.mark.parametrize("key", ["elements", "networks", "energy_scale", "format"])
def test_missing_key_names_file_and_key(tmp_path, key):
    data = good_dict()
    del data[key]
    error = load_error(write_json(tmp_path, data))
    assert error.key == key
    assert ("missing required field" in str(error)) or key == "format"


def test_missing_element_entry(tmp_path):
    data = good_dict()
    del data["networks"]["O"]
    error = load_error(write_json(tmp_path, data))
    assert error.key == "networks" and "missing element 'O'" in str(error)


@pytest.mark.parametrize(
    "text, line, fragment",
    [
        ("[1, 2, 3]", None, "expected a JSON object"),
        ('{"format": "nnp_ref-model",\n "energy_scale": NaN}', 2, "NaN is not a number"),
        ('{"format": "nnp_ref-model",\n "elements": [', 2, "invalid JSON"),
        ("", 1, "invalid JSON"),
    ],
)
def test_not_a_model(tmp_path, text, line, fragment):
    error = load_error(write_json(tmp_path, text))
    assert error.line == line and fragment in str(error)


def test_binary_garbage(tmp_path):
    path = tmp_path / "model.json"
    path.write_bytes(b"\xff\xfe\x00garbage")
    error = load_error(path)
    assert "not UTF-8 text" in str(error) and error.line == 1


def test_every_symmetry_function_field_is_required(tmp_path):
    """A missing eta read as its default 0 would silently be another function."""
    data = good_dict()
    del data["symmetry_functions"]["O"][2]["eta"]
    error = load_error(write_json(tmp_path, data))
    assert error.key == "symmetry_functions.O[2].eta" and "missing required field" in str(error)


def test_optional_top_level_fields(tmp_path):
    """units, metadata and the writer's version do not change any number."""
    data = good_dict()
    del data["units"], data["metadata"], data["nnp_ref_version"]
    again = load_model(write_json(tmp_path, data))
    assert energy_forces(again)[0] == energy_forces(small_potential())[0]


def test_repeated_key_is_an_error(tmp_path):
    """json keeps the last of two equal keys; a hand-edited file must not be read that way."""
    text = json.dumps(good_dict(), indent=1).replace(
        '"energy_scale": 0.5,', '"energy_scale": 0.5,\n "energy_scale": 2.0,'
    )
    assert "key 'energy_scale' given twice" in str(load_error(write_json(tmp_path, text)))
