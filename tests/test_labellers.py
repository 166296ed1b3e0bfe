"""The labeller interface: ASE calculators and PySCF, and bad input caught before any work."""

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk, molecule
from ase.calculators.emt import EMT

from nnp_ref.data.database import label_structures
from nnp_ref.data.labellers import ASELabeller, check_geometry, make_labeller, minimum_distance


def test_ase_labeller_equals_the_calculator_and_records_provenance():
    atoms = bulk("Cu", cubic=True)
    atoms.positions[0] += [0.05, -0.02, 0.01]
    label = ASELabeller(EMT())(atoms)
    ref = atoms.copy()
    ref.calc = EMT()
    assert label.energy == pytest.approx(ref.get_potential_energy(), abs=1e-12)
    np.testing.assert_allclose(label.forces_nc, ref.get_forces(), atol=1e-12)
    assert label.provenance["code"] == "ase" and label.provenance["converged"] is True
    assert label.provenance["method"].startswith("ase:EMT(")
    assert atoms.calc is None  # the input structure is left alone


def test_make_labeller_presets_and_unknown_methods():
    assert make_labeller("emt").identity.startswith("ase:EMT")
    assert "LennardJones" in make_labeller("lj").identity
    assert make_labeller("lj").identity != make_labeller("emt").identity
    with pytest.raises(ValueError, match="unknown method 'dftb'"):
        make_labeller("dftb")


def test_minimum_distance_uses_minimum_image():
    atoms = Atoms("H2", positions=[[0.1, 0, 0], [4.9, 0, 0]], cell=[5, 5, 5], pbc=True)
    assert minimum_distance(atoms) == pytest.approx(0.2)
    with pytest.raises(ValueError, match=r"^s7 has overlapping atoms \(closest pair 0.200 Å"):
        check_geometry(atoms, "s7")


def PySCFLabeller(*args, **kwargs):
    """The PySCF labeller, or skip the test when PySCF is not installed."""
    pytest.importorskip("pyscf")
    from nnp_ref.data.pyscf_labeller import PySCFLabeller as labeller_class

    return labeller_class(*args, **kwargs)


@pytest.mark.parametrize(
    "method, message",
    [("foo/sto-3g", "unknown functional 'foo'"), ("hf/no-such-basis", "unknown basis")],
)
def test_unknown_method_or_basis_is_one_line(method, message):
    pytest.importorskip("pyscf")
    with pytest.raises(ValueError, match=message) as err:
        make_labeller(method)
    assert "\n" not in str(err.value)


def _bad_water_sets():
    water = molecule("H2O")
    uranium = Atoms("U", positions=[[0, 0, 0]])
    squashed = water.copy()
    squashed.positions[1] = squashed.positions[0] + [0.0, 0.0, 0.2]
    charged = water.copy()
    charged.info["charge"] = 1  # 9 electrons: spin 0 is impossible
    return [
        ("hf/sto-3g", {}, uranium, "basis 'sto-3g' has no functions for U"),
        ("hf/sto-3g", {"spin": 1}, water, r"impossible charge=0, spin=1: 10 electrons"),
        ("hf/sto-3g", {}, charged, r"impossible charge=1, spin=0: 9 electrons"),
        ("hf/sto-3g", {"charge": 11}, water, r"impossible charge=11"),
        ("hf/sto-3g", {}, squashed, "overlapping atoms"),
    ]


@pytest.mark.parametrize("method, options, bad, message", _bad_water_sets())
def test_bad_input_names_the_structure_before_any_scf(tmp_path, method, options, bad, message):
    labeller = PySCFLabeller(method, **options)
    calls = []
    original = labeller._scf
    labeller._scf = lambda atoms: calls.append(atoms) or original(atoms)
    structures = [molecule("H2"), molecule("H2O"), bad]
    if "charge" in options or "spin" in options:
        structures = [bad]
    index = len(structures) - 1
    with pytest.raises(ValueError, match=message) as err:
        label_structures(structures, labeller, tmp_path / "x.db", progress=False)
    assert str(err.value).startswith(f"structure {index} (")
    assert "\n" not in str(err.value)
    assert calls == []  # nothing expensive started
    assert not (tmp_path / "x.db").exists()


def test_periodic_cell_needs_a_gth_basis():
    box = molecule("H2O")
    box.cell = [6, 6, 6]
    box.pbc = True
    with pytest.raises(ValueError, match="periodic: use a GTH basis"):
        PySCFLabeller("pbe/def2-svp").check(box, "structure 0 (H2O)")


def _label_cli(argv):
    from nnp_ref.cli import label
    from nnp_ref.cli.common import Parser, add_quiet

    parser = Parser(prog="nnp-ref label")
    add_quiet(parser)
    label.add_arguments(parser)
    args = parser.parse_args(argv)
    return label.run(args)


def test_label_command_writes_resumes_and_reports(tmp_path, capsys):
    import ase.io

    from nnp_ref.data.database import read_database

    structures = [bulk("Cu", cubic=True) for _ in range(3)]
    for i, atoms in enumerate(structures):
        atoms.positions[0] += [0.02 * i, 0.0, 0.0]
    path = tmp_path / "cu.extxyz"
    ase.io.write(path, structures)
    db = tmp_path / "cu.db"
    argv = [str(path), "--method", "emt", "--db", str(db), "--tag", "set=train", "-q"]
    assert _label_cli(argv) == 0
    assert "3 labelled now" in capsys.readouterr().out
    assert _label_cli(argv) == 0
    assert "0 labelled now, 3 already in the database" in capsys.readouterr().out
    data = read_database(db)
    assert len(data) == 3 and {a.info["set"] for a in data} == {"train"}
    with pytest.raises(ValueError, match="--tag 'oops'"):
        _label_cli([str(path), "--method", "emt", "--db", str(db), "--tag", "oops"])
