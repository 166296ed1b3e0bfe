"""n2p2 file formats (nnp_ref.io.n2p2) against n2p2's own files and logs.

The reference files live in ../shared/n2p2 (fixture ``n2p2_dir``); damaged
files are written to tmp_path.
"""

import re
import warnings

import numpy as np
import pytest
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator
from ase.units import Bohr, Hartree

from nnp_ref.descriptors.symmetry_functions import SymmetryFunction
from nnp_ref.io import n2p2 as io

POTENTIALS = ["H2O_RPBE-D3", "Cu2S_PBE", "Ethylbenzene_SCAN"]


def symfunction_lines(path):
    """1-based line numbers of the active symfunction_short lines, per central element."""
    lines = {}
    for number, text in enumerate(path.read_text().splitlines(), 1):
        words = text.split("#")[0].split()
        if words and words[0] == "symfunction_short":
            lines.setdefault(words[1], []).append(number)
    return lines


def log_table(path):
    """{element: rows} of the "SETUP: SYMMETRY FUNCTIONS" table of an n2p2 log."""
    table, element = {}, None
    for text in path.read_text().splitlines():
        m = re.match(r"Short range atomic symmetry functions element\s+(\w+) :", text)
        if m:
            element = m.group(1)
            table[element] = []
        elif element and text.startswith("Minimum cutoff"):
            element = None
        elif element and re.match(r"\s+\d+\s+[A-Z]", text):
            table[element].append(text.split())
    return table


# ---------------------------------------------------------------------------
# input.nn
# ---------------------------------------------------------------------------


def test_read_input_nn_water(n2p2_dir):
    s = io.read_input_nn(n2p2_dir / "H2O_RPBE-D3" / "input.nn")
    assert s.elements == ("H", "O") and s.number_of_elements == 2
    assert s.cutoff_type == 2 and s.cutoff_alpha == 0.0
    assert s.scale_symmetry_functions and s.center_symmetry_functions
    assert not s.scale_symmetry_functions_sigma
    assert s.scaling_mode == "scalecenter"
    assert (s.scale_min_short, s.scale_max_short) == (0.0, 1.0)
    assert s.normalize and s.mean_energy == -2.5521343547039809e01
    assert s.conv_energy == 2.4265748255366972e02 and s.conv_length == 5.8038448995319847e00
    assert s.atom_energy == {"H": 0.0, "O": 0.0}  # commented out in the file
    assert s.global_hidden_layers_short == 2 and s.global_nodes_short == (25, 25)
    assert s.global_activation_short == ("t", "t", "l")
    assert s.activations == {"H": ("t", "t", "l"), "O": ("t", "t", "l")}
    assert s.layer_sizes("H") == (27, 25, 25, 1) and s.layer_sizes("O") == (30, 25, 25, 1)
    assert s.n_parameters("H") == 1376 and s.n_parameters("O") == 1451  # as in the log
    assert not s.normalize_nodes and s.nnp_type == 2
    sf = s.symmetry_functions["H"][0]
    assert sf == SymmetryFunction(2, "H", ("H",), rc=12.0, eta=0.001, rs=0.0, cutoff_type=2)
    assert s.energy_offset("O") == s.mean_energy


def test_read_input_nn_training_file(n2p2_dir):
    """Training keywords (and their old aliases) are accepted silently; atom_energy read."""
    s = io.read_input_nn(n2p2_dir / "H2O_RPBE-D3_train" / "input.nn")
    assert s.atom_energy == {"H": -0.45890771, "O": -74.94518524}
    assert s.unknown_keywords == []
    assert s.keywords["short_force_fraction"][0][1] == "0.0041"
    assert s.keywords["epochs"][0][1] == "2"


@pytest.mark.parametrize("name", POTENTIALS)
def test_read_all_potentials(n2p2_dir, name):
    """input.nn, scaling.data and weights agree on every count (sorted order)."""
    folder = n2p2_dir / name
    files = io.read_n2p2_files(folder)
    s = files.settings
    lines = symfunction_lines(folder / "input.nn")
    for e in s.elements:
        n_sf = len(s.symmetry_functions[e])
        assert n_sf == len(lines[e])
        assert sorted(s.symmetry_function_lines[e]) == lines[e]
        assert files.scaling[e].G_min.shape == (n_sf,)
        assert np.all(files.scaling[e].G_min <= files.scaling[e].G_max)
        sizes = s.layer_sizes(e)
        assert sizes[0] == n_sf
        assert files.weights[e].shape == (io.n_parameters(sizes),)
        assert files.weights[e].dtype == np.float64
        keys = [io.n2p2_sort_key(sf) for sf in s.symmetry_functions[e]]
        assert keys == sorted(keys)


def test_potential_specifics(n2p2_dir):
    cu2s = io.read_input_nn(n2p2_dir / "Cu2S_PBE" / "input.nn")
    assert cu2s.elements == ("S", "Cu") and cu2s.elements_as_written == ("S", "Cu")
    assert cu2s.scaling_mode == "scalesigma" and cu2s.cutoff_type == 6
    assert cu2s.activations["Cu"] == ("p", "p", "l")
    types = {sf.type for sf in cu2s.symmetry_functions["S"]}
    assert types == {2, 3, 9}
    eb = io.read_input_nn(n2p2_dir / "Ethylbenzene_SCAN" / "input.nn")
    assert eb.elements == ("H", "C") and eb.elements_as_written == ("C", "H")
    first = eb.symmetry_functions["C"][0]
    assert (first.type, first.subtype, first.neighbours) == (20, "p2", ("H",))
    assert (first.rl, first.rc) == (-15.0, 15.0)
    angular = [sf for sf in eb.symmetry_functions["C"] if sf.type == 22]
    assert all(sf.neighbours in [("H", "H"), ("H", "C"), ("C", "C")] for sf in angular)
    # Polynomial types sort by subtype string first: all "p2" before "p2a".
    subtypes = [sf.subtype for sf in eb.symmetry_functions["C"] if sf.type == 20]
    assert subtypes == sorted(subtypes) and subtypes[0] == "p2" and subtypes[-1] == "p2a"


def test_sort_order_matches_n2p2_log(n2p2_dir):
    """Sorted index -> input.nn line and parameters as in n2p2's log, for H and O."""
    folder = n2p2_dir / "H2O_RPBE-D3"
    s = io.read_input_nn(folder / "input.nn")
    table = log_table(folder / "nnp-predict.log")
    assert set(table) == {"H", "O"}
    for e, rows in table.items():
        sfs = s.symmetry_functions[e]
        assert [int(r[0]) for r in rows] == list(range(1, len(sfs) + 1))
        assert [int(r[-1]) for r in rows] == s.symmetry_function_lines[e]
        for row, sf in zip(rows, sfs):
            assert row[1] == e and int(row[2]) == sf.type
            n_nb = len(sf.neighbours)
            assert tuple(row[4 : 4 + n_nb]) == sf.neighbours  # e1 <= e2 by atomic number
            eta, rs, rc = map(float, row[4 + n_nb : 7 + n_nb])
            assert (eta, rs, rc) == pytest.approx((sf.eta, sf.rs, sf.rc), rel=1e-3)
            if sf.type == 3:
                assert float(row[7 + n_nb]) == sf.lam and float(row[8 + n_nb]) == sf.zeta
    # Shuffling the input does not change the result (a true sort).
    rng = np.random.default_rng(0)
    for e in s.elements:
        shuffled = [
            s.symmetry_functions[e][i] for i in rng.permutation(len(s.symmetry_functions[e]))
        ]
        assert io.sort_symmetry_functions(shuffled, s.conv_length) == s.symmetry_functions[e]


def test_sort_key_rules():
    """Per-type operator< rules on hand-made functions."""
    a = SymmetryFunction(2, "O", ("O",), rc=6.0, eta=0.1, rs=0.0)
    b = SymmetryFunction(2, "O", ("H",), rc=6.0, eta=0.1, rs=1.0)
    c = SymmetryFunction(2, "O", ("H",), rc=6.0, eta=0.1, rs=0.0)
    assert io.sort_symmetry_functions([a, b, c]) == [c, a, b]  # rs before e1
    narrow = SymmetryFunction(3, "O", ("H", "O"), rc=6.0, eta=0.1, zeta=1.0, lam=1.0)
    radial = SymmetryFunction(2, "O", ("H",), rc=9.0, eta=0.1)
    assert io.sort_symmetry_functions([narrow, radial]) == [radial, narrow]  # type first
    lam = [SymmetryFunction(9, "O", ("H", "H"), rc=6.0, eta=0.1, zeta=z, lam=la)
           for z, la in ((2.0, -1.0), (1.0, 1.0), (1.0, -1.0))]  # fmt: skip
    assert io.sort_symmetry_functions(lam) == [lam[2], lam[1], lam[0]]  # zeta, then lambda
    p2a = SymmetryFunction(20, "C", ("C",), rc=5.0, rl=0.0, subtype="p2a")
    p2 = SymmetryFunction(20, "C", ("H",), rc=9.0, rl=0.0, subtype="p2")
    assert io.sort_symmetry_functions([p2a, p2]) == [p2, p2a]  # subtype before e1, rc
    w = [SymmetryFunction(24, "C", (), rc=5.0, rl=r, angle_left=0.0, angle_right=180.0,
                          subtype="p2") for r in (1.0, 0.5)]  # fmt: skip
    assert io.sort_symmetry_functions(w) == [w[1], w[0]]


def test_parse_symfunction_parameter_orders():
    el = ("H", "C", "O")
    p = io.parse_symfunction
    assert p("O 13 0.1 0.2 1.0 8.0 16.0", el, 1, 0.0) == SymmetryFunction(
        13, "O", (), rc=16.0, eta=0.1, rs=0.2, lam=1.0, zeta=8.0
    )
    assert p("H 12 0.01 0.5 12.0", el, 1, 0.0) == SymmetryFunction(
        12, "H", (), rc=12.0, eta=0.01, rs=0.5
    )
    sf = p("O 9 O H 0.1 -1.0 8.0 16.0 0.5", el, 6, 0.1)
    assert sf.neighbours == ("H", "O") and (sf.lam, sf.zeta, sf.rc, sf.rs) == (-1, 8, 16, 0.5)
    assert (sf.cutoff_type, sf.alpha) == (6, 0.1)
    sf = p("C 21 O C 1.0 5.0 0.0 120.0 p3a", el, 1, 0.0)
    assert (sf.neighbours, sf.rl, sf.rc, sf.angle_right, sf.subtype) == (
        ("C", "O"), 1.0, 5.0, 120.0, "p3a"
    )  # fmt: skip
    sf = p("C 25 0.5 6.0 -30.0 30.0 p1", el, 1, 0.0)
    assert (sf.type, sf.neighbours, sf.angle_left) == (25, (), -30.0)
    assert p("C 23 0.0 6.0 e", el, 1, 0.0).subtype == "e"
    for text in ("C 2 H 0.1 0.0 6.0", "C 3 H O 0.1 1.0 2.0 6.0 0.3", "C 24 0.5 6.0 0.0 90.0 p4",
                 "C 20 H 0.5 6.0 p2a", "C 22 C H 0.5 6.0 60.0 180.0 p2"):  # fmt: skip
        sf = p(text, el, 1, 0.0)
        assert p(io.format_symfunction(sf).split(maxsplit=1)[1], el, 1, 0.0) == sf


def test_convert_length():
    sf = SymmetryFunction(3, "O", ("H", "H"), rc=12.0, eta=0.5, rs=1.0, rl=2.0)
    out = io.convert_length(sf, 0.5)
    assert (out.rc, out.rs, out.rl, out.eta) == (6.0, 0.5, 1.0, 2.0)
    assert (out.zeta, out.lam, out.type, out.neighbours) == (sf.zeta, sf.lam, 3, ("H", "H"))
    assert sf.rc == 12.0  # a copy


def test_scaling_mode_precedence():
    assert io.scaling_mode(True, True, True) == "scalecenter"
    assert io.scaling_mode(True, False, True) == "scale"
    assert io.scaling_mode(False, True, True) == "center"
    assert io.scaling_mode(False, False, True) == "scalesigma"
    assert io.scaling_mode(False, False, False) == "none"


def fields(settings):
    """Settings without bookkeeping fields that legitimately change on rewrite."""
    d = vars(settings).copy()
    for key in ("keywords", "unknown_keywords", "path", "symmetry_function_lines"):
        d.pop(key)
    return d


@pytest.mark.parametrize("name", [*POTENTIALS, "H2O_RPBE-D3_train"])
def test_input_nn_round_trip(n2p2_dir, tmp_path, name):
    s = io.read_input_nn(n2p2_dir / name / "input.nn")
    io.write_input_nn(s, tmp_path / "input.nn")
    again = io.read_input_nn(tmp_path / "input.nn")
    assert fields(again) == fields(s)
    training = {k: [v for _, v in e] for k, e in s.keywords.items() if k in io.TRAINING_KEYWORDS}
    assert {k: [v for _, v in again.keywords[k]] for k in training} == training


def test_input_nn_comments_and_per_element_keywords(tmp_path):
    path = tmp_path / "input.nn"
    path.write_text(
        "! header comment\n"
        "number_of_elements 2   # two\n"
        "elements O H\n"
        "atom_energy O -75.0 ! comment\n"
        "cutoff_type 1 0.2\n"
        "  scale_symmetry_functions_sigma   \n"
        "\n"
        "global_hidden_layers_short 2\n"
        "global_nodes_short 10 10\n"
        "global_activation_short t t l\n"
        "element_nodes_short H 5 10\n"
        "element_activation_short O s t l\n"
        "normalize_nodes\n"
        "nnp_generation 2G-HDNNP\n"
        "symfunction H 2 O 0.1 0.0 6.0\n"
        "symfunction O 2 H 0.1 0.0 6.0  # alias of symfunction_short\n"
    )
    s = io.read_input_nn(path)
    assert s.elements == ("H", "O") and s.atom_energy == {"H": 0.0, "O": -75.0}
    assert (s.cutoff_type, s.cutoff_alpha, s.scaling_mode) == (1, 0.2, "scalesigma")
    assert s.hidden_nodes == {"H": (5, 10), "O": (10, 10)}
    assert s.activations == {"H": ("t", "t", "l"), "O": ("s", "t", "l")}
    assert s.normalize_nodes and s.nnp_type == 2 and not s.normalize
    assert s.layer_sizes("H") == (1, 5, 10, 1)
    assert s.energy_offset("O") == -75.0


def test_n2p2_ignores_last_element_node_value(tmp_path):
    """n2p2 (Mode::setupNeuralNetwork) applies element_nodes_short to all but the last layer."""
    path = tmp_path / "input.nn"
    path.write_text(
        "number_of_elements 1\nelements H\ncutoff_type 1\nglobal_hidden_layers_short 2\n"
        "global_nodes_short 10 10\nglobal_activation_short t t l\n"
        "element_nodes_short H 5 7\nsymfunction_short H 2 H 0.1 0.0 6.0\n"
    )
    with pytest.warns(io.N2p2Warning, match=r"input.nn:7: n2p2 ignores the last value"):
        s = io.read_input_nn(path)
    assert s.hidden_nodes["H"] == (5, 10) and s.element_nodes_short["H"] == (5, 7)


def test_n2p2_keyword_rules(tmp_path):
    """Repeats n2p2 refuses, and the extra charge input neuron of 4G-HDNNPs."""
    path = tmp_path / "input.nn"
    two = "element_activation_short H t t l\nelement_activation_short O t t l\n"
    path.write_text(MINIMAL_INPUT_NN + two)
    with pytest.raises(io.N2p2FormatError, match=r"input.nn:10: keyword 'element_activation"):
        io.read_input_nn(path)  # only symfunction_short, atom_energy, element_nodes_short...
    path.write_text(MINIMAL_INPUT_NN + "nnp_type 4G-HDNNP\n")
    s = io.read_input_nn(path)
    assert s.nnp_type == 4 and s.layer_sizes("H") == (2, 5, 5, 1)


def test_unknown_keyword_warns(tmp_path):
    path = tmp_path / "input.nn"
    path.write_text(
        "number_of_elements 1\nelements H\ncutoff_type 1\nglobal_hidden_layers_short 1\n"
        "global_nodes_short 3\nglobal_activation_short t l\nrunner_mode 3\n"
        "symfunction_short H 2 H 0.1 0.0 6.0\nepochs 10\nkalman_q0 0.01\n"
    )
    with pytest.warns(io.N2p2Warning, match=r"input.nn:7: unknown keyword 'runner_mode'"):
        s = io.read_input_nn(path)
    assert s.unknown_keywords == [(7, "runner_mode")]
    assert s.keywords["runner_mode"] == [(7, "3")]


# ---------------------------------------------------------------------------
# scaling.data and weights
# ---------------------------------------------------------------------------


def test_write_weights_reproduces_n2p2_file(n2p2_dir, tmp_path):
    folder = n2p2_dir / "H2O_RPBE-D3"
    s = io.read_input_nn(folder / "input.nn")
    for e in s.elements:
        name = io.weights_filename(e)
        flat = io.read_weights(folder / name, s.n_parameters(e))
        io.write_weights(tmp_path / name, flat, s.layer_sizes(e))
        assert (tmp_path / name).read_text() == (folder / name).read_text()
        assert np.array_equal(io.read_weights(tmp_path / name), flat)


def test_write_scaling_reproduces_n2p2_file(n2p2_dir, tmp_path):
    for name in POTENTIALS:
        original = n2p2_dir / name / "scaling.data"
        stats = io.read_scaling(original, n_elements=2)
        io.write_scaling(tmp_path / "scaling.data", stats)
        assert (tmp_path / "scaling.data").read_text() == original.read_text()


def test_scaling_and_weights_round_trip(tmp_path):
    rng = np.random.default_rng(1)
    stats = {}
    for e, n in ((1, 4), (2, 7)):  # consistent rows: min <= mean <= max, 0 <= sigma <= range
        scale = 10.0 ** rng.integers(-300, 300, size=n)
        lo, hi = np.sort(rng.normal(size=(2, n)), axis=0) * scale
        u, v = rng.uniform(size=(2, n))
        stats[e] = (lo, hi, lo + u * (hi - lo), v * (hi - lo))
    io.write_scaling(tmp_path / "scaling.data", stats)
    back = io.read_scaling(tmp_path / "scaling.data", 2, [4, 7])
    for e in stats:
        for a, b in zip(stats[e], back[e]):
            assert np.array_equal(a, b)
    sizes = (3, 4, 2, 1)
    flat = rng.normal(size=io.n_parameters(sizes)) * 10.0 ** rng.integers(-200, 200)
    io.write_weights(tmp_path / "w.data", flat, sizes)
    assert np.array_equal(io.read_weights(tmp_path / "w.data", 29), flat)
    (tmp_path / "plain.data").write_text(
        "\n".join(repr(float(v)) for v in flat) + "\n"
    )  # first column only
    assert np.array_equal(io.read_weights(tmp_path / "plain.data"), flat)


# ---------------------------------------------------------------------------
# input.data
# ---------------------------------------------------------------------------


def test_read_data_units(n2p2_dir):
    path = n2p2_dir / "H2O_RPBE-D3_dataset" / "input.data"
    raw = io.read_data(path)
    conv = io.read_data(path, length_unit=Bohr, energy_unit=Hartree)
    assert len(raw) == len(conv) == 20
    assert {len(a) for a in raw} == {48, 96, 192}
    a, b = raw[0], conv[0]
    assert a.get_chemical_symbols() == b.get_chemical_symbols()
    assert all(a.pbc) and a.info["comment"] == "written by RuNNerDecom"
    np.testing.assert_allclose(b.positions, a.positions * Bohr, rtol=1e-15)
    np.testing.assert_allclose(b.cell.array, a.cell.array * Bohr, rtol=1e-15)
    assert b.get_potential_energy() == pytest.approx(-4900.37328433 * Hartree, rel=1e-15)
    np.testing.assert_allclose(b.get_forces(), a.get_forces() * Hartree / Bohr, rtol=1e-15)
    first_atom = path.read_text().splitlines()[5].split()  # after begin, comment, 3 lattice
    assert first_atom[0] == "atom"
    np.testing.assert_array_equal(a.positions[0], np.array(first_atom[1:4], dtype=float))
    np.testing.assert_array_equal(a.get_forces()[0], np.array(first_atom[7:10], dtype=float))
    assert a.get_initial_charges()[0] == float(first_atom[5]) != 0.0


def test_write_data_reproduces_n2p2_output(n2p2_dir, tmp_path):
    """n2p2's output.data, read and written again, is byte-identical."""
    for folder in ("H2O_RPBE-D3", "H2O_RPBE-D3_dataset"):
        original = n2p2_dir / folder / "output.data"
        io.write_data(io.read_data(original), tmp_path / "out.data")
        assert (tmp_path / "out.data").read_text() == original.read_text()


def test_data_round_trip_with_units(n2p2_dir, tmp_path):
    path = n2p2_dir / "H2O_RPBE-D3_dataset" / "input.data"
    first = io.read_data(path, Bohr, Hartree)
    io.write_data(first, tmp_path / "rt.data", Bohr, Hartree)
    second = io.read_data(tmp_path / "rt.data", Bohr, Hartree)
    for a, b in zip(first, second, strict=True):
        assert a.get_chemical_symbols() == b.get_chemical_symbols() and a.info == b.info
        np.testing.assert_allclose(b.positions, a.positions, rtol=1e-15, atol=1e-300)
        np.testing.assert_allclose(b.cell.array, a.cell.array, rtol=1e-15)
        np.testing.assert_allclose(b.get_forces(), a.get_forces(), rtol=1e-15, atol=1e-300)
        assert b.get_potential_energy() == pytest.approx(a.get_potential_energy(), rel=1e-15)
    # Other shared data sets parse too.
    for name in ("Cu2S_PBE_dataset", "Ethylbenzene_SCAN", "H2O_RPBE-D3_train"):
        for file in sorted((n2p2_dir / name).glob("*.data")):
            if not file.name.startswith(("scaling", "weights")):
                assert len(io.read_data(file)) >= 1


def test_data_non_periodic_indented_and_charges(tmp_path):
    path = tmp_path / "input.data"
    path.write_text(
        "begin\n  comment  two atoms\n"
        "  atom 0.0 0.0 0.0 H 0.25 0.0 1.0 2.0 3.0\n"
        "\tatom 0.0 0.0 0.74 H -0.25 0.0 -1.0 -2.0 -3.0\n"
        "  energy -1.5\n  charge 0.0\nend\n\n"
    )
    (atoms,) = io.read_data(path, length_unit=2.0, energy_unit=10.0)
    assert not atoms.pbc.any() and atoms.info == {"comment": " two atoms", "charge": 0.0}
    assert atoms.positions[1, 2] == 1.48 and atoms.get_potential_energy() == -15.0
    assert atoms.get_forces()[0].tolist() == [5.0, 10.0, 15.0]
    assert atoms.get_initial_charges().tolist() == [0.25, -0.25]
    io.write_data(atoms, tmp_path / "out.data", length_unit=2.0, energy_unit=10.0)
    (again,) = io.read_data(tmp_path / "out.data", 2.0, 10.0)
    assert "lattice" not in (tmp_path / "out.data").read_text()
    assert again.info == atoms.info and np.array_equal(again.positions, atoms.positions)


def test_write_data_from_plain_atoms(tmp_path):
    atoms = Atoms(
        "OH2", positions=[[0, 0, 0], [0.96, 0, 0], [0, 0.96, 0]], cell=[5, 6, 7], pbc=True
    )
    io.write_data([atoms], tmp_path / "a.data")  # no calculator: energy and forces 0
    (back,) = io.read_data(tmp_path / "a.data")
    assert back.get_potential_energy() == 0.0 and np.array_equal(back.cell.array, atoms.cell.array)
    atoms.calc = SinglePointCalculator(atoms, energy=-3.0, forces=np.ones((3, 3)))
    atoms.pbc = [True, True, False]
    with pytest.raises(ValueError, match="periodic in all directions or none"):
        io.write_data(atoms, tmp_path / "b.data")


# ---------------------------------------------------------------------------
# Damaged files: every error names the file and the line
# ---------------------------------------------------------------------------

GOOD_BLOCK = (
    "begin\ncomment ok\nlattice 5.0 0.0 0.0\nlattice 0.0 5.0 0.0\nlattice 0.0 0.0 5.0\n"
    "atom 0.0 0.0 0.0 O 0.0 0.0 0.1 0.2 0.3\natom 1.0 0.0 0.0 H 0.0 0.0 0.1 0.2 0.3\n"
    "energy -1.0\ncharge 0.0\nend\n"
)


@pytest.mark.parametrize(
    "text, line, message",
    [
        (GOOD_BLOCK + "begin\natom 0 0 0 H 0 0 0 0 0\n", 11, "has no 'end'"),
        (GOOD_BLOCK + "end\n", 11, "'end' without 'begin'"),
        (GOOD_BLOCK.replace("energy -1.0\n", ""), 9, "no 'energy' line"),
        (GOOD_BLOCK.replace("O 0.0 0.0 0.1", "O 0.0 0.1"), 6, "expected 10 columns"),
        (GOOD_BLOCK.replace(" H 0.0", " Xx 0.0"), 7, "chemical element symbol, got 'Xx'"),
        (GOOD_BLOCK.replace("1.0 0.0 0.0 H", "1.0 abc 0.0 H"), 7, "column y, got 'abc'"),
        (GOOD_BLOCK.replace("energy -1.0", "energy -1.0eV"), 8, "for energy, got '-1.0eV'"),
        (GOOD_BLOCK.replace("lattice 0.0 0.0 5.0\n", ""), 9, "2 lattice lines"),
        (GOOD_BLOCK.replace("lattice 0.0 5.0 0.0", "lattice 0.0 5.0"), 4, "4 columns"),
        (GOOD_BLOCK.replace("charge 0.0\n", "velocity 1\n"), 9, "unknown keyword 'velocity'"),
        (GOOD_BLOCK.replace("end\n", "begin\n"), 10, "'begin' before the structure"),
    ],
)
def test_damaged_data(tmp_path, text, line, message):
    path = tmp_path / "input.data"
    path.write_text(text)
    with pytest.raises(io.N2p2FormatError, match=re.escape(message)) as info:
        io.read_data(path)
    assert str(info.value).startswith(f"{path}:{line}: ")
    assert info.value.line == line


def test_data_element_filter(tmp_path):
    path = tmp_path / "input.data"
    path.write_text(GOOD_BLOCK)
    with pytest.raises(io.N2p2FormatError, match=r"input.data:6: element 'O' is not one of"):
        io.read_data(path, elements=("H", "C"))


def test_damaged_weights(n2p2_dir, tmp_path):
    original = (n2p2_dir / "H2O_RPBE-D3" / "weights.001.data").read_text().splitlines()
    path = tmp_path / "weights.001.data"
    path.write_text("\n".join(original[:-1]) + "\n")  # one weight missing
    with pytest.raises(io.N2p2FormatError, match=r"expected 1376 weights, found 1375") as info:
        io.read_weights(path, 1376)
    assert info.value.line == len(original) - 1 and f":{len(original) - 1}:" in str(info.value)
    with pytest.raises(io.N2p2FormatError, match=r":1392: expected 1375 weights, found more"):
        io.read_weights(n2p2_dir / "H2O_RPBE-D3" / "weights.001.data", 1375)
    with pytest.raises(io.N2p2FormatError, match="expected 10 weights, found 3"):
        io.check_weight_count(np.zeros(3), 10, "w.data")
    damaged = original.copy()
    damaged[20] = damaged[20].replace("E+00", "E+0x", 1)
    path.write_text("\n".join(damaged) + "\n")
    with pytest.raises(io.N2p2FormatError, match=r"weights.001.data:21: expected a number"):
        io.read_weights(path)
    damaged = original.copy()
    del damaged[30]
    path.write_text("\n".join(damaged) + "\n")
    with pytest.raises(io.N2p2FormatError, match=r":31: expected weight index 15, got 16"):
        io.read_weights(path)


@pytest.mark.parametrize(
    "old, new, line, message",
    [
        ("         1          3   ", "         1          3 x ", 18, "expected 6 columns"),
        ("7.6010783783215696E-01", "7.60107837832156q6E-01", 18, "for sf_min, got"),
        ("         1          3   ", "         1          4   ", 18, "expected element and"),
    ],
)
def test_damaged_scaling(n2p2_dir, tmp_path, old, new, line, message):
    text = (n2p2_dir / "H2O_RPBE-D3" / "scaling.data").read_text()
    assert text.count(old) == 1
    path = tmp_path / "scaling.data"
    path.write_text(text.replace(old, new))
    with pytest.raises(io.N2p2FormatError, match=re.escape(message)) as info:
        io.read_scaling(path, 2, [27, 30])
    assert info.value.line == line and f"scaling.data:{line}:" in str(info.value)


def test_scaling_count_mismatch(n2p2_dir):
    with pytest.raises(io.N2p2FormatError, match="element 1: expected 26 scaling lines, found 27"):
        io.read_scaling(n2p2_dir / "H2O_RPBE-D3" / "scaling.data", 2, [26, 30])


MINIMAL_INPUT_NN = """\
number_of_elements 2
elements H O
cutoff_type 2
global_hidden_layers_short 2
global_nodes_short 5 5
global_activation_short t t l
symfunction_short H 2 O 0.1 0.0 6.0
symfunction_short O 2 H 0.1 0.0 6.0
"""


@pytest.mark.parametrize(
    "old, new, line, message",
    [
        ("H 2 O 0.1 0.0 6.0", "H 2 O 0.1 6.0", 7, "takes 4 parameters after the type"),
        ("O 2 H 0.1 0.0 6.0", "O 2 H 0.1 0.0 6.0 7.0", 8, "got 5"),
        ("H 2 O 0.1", "H 2 C 0.1", 7, "element 'C' is not one of the elements H O"),
        ("H 2 O 0.1", "H 2 Qq 0.1", 7, "chemical element symbol, got 'Qq'"),
        ("H 2 O 0.1", "H 2 O 0.1x", 7, "expected a number for parameter eta"),
        ("H 2 O", "H 7 O", 7, "unknown symmetry function type 7"),
        ("O 2 H 0.1 0.0 6.0", "O 2 H 0.1 0.0 -6.0", 8, "invalid symmetry function"),
        ("t t l", "t x l", 6, "unknown activation code 'x'"),
        ("t t l", "t l", 6, "needs 3 codes"),
        ("5 5", "5 5 5", 5, "lists 3 layers"),
        ("cutoff_type 2", "cutoff_type 9", 3, "unknown cutoff_type 9"),
        ("cutoff_type 2", "cutoff_type 2 1.0", 3, "0 <= alpha < 1"),
        ("cutoff_type 2", "cutoff_type two", 3, "expected an integer for cutoff_type"),
        ("elements H O", "elements H O C", 2, "number_of_elements is 2 but 3"),
        ("elements H O", "elements H Oo", 2, "got 'Oo'"),
        ("cutoff_type 2", "cutoff_type 2\nmean_energy 1.0", 4, "use all or none"),
        ("cutoff_type 2", "cutoff_type 2\ncutoff_type 1", 4, "given more than once (lines 3, 4)"),
        ("cutoff_type 2", "cutoff_type 2\nnnp_type 3G", 4, "expected an integer for nnp_type"),
    ],
)
def test_damaged_input_nn(tmp_path, old, new, line, message):
    assert MINIMAL_INPUT_NN.count(old) == 1
    path = tmp_path / "input.nn"
    path.write_text(MINIMAL_INPUT_NN.replace(old, new))
    with pytest.raises(io.N2p2FormatError, match=re.escape(message)) as info:
        io.read_input_nn(path)
    assert info.value.line == line and f"input.nn:{line}: " in str(info.value)


@pytest.mark.parametrize(
    "drop, message",
    [
        ("elements H O\n", "missing mandatory keyword 'elements'"),
        ("cutoff_type 2\n", "missing mandatory keyword 'cutoff_type'"),
        ("global_hidden_layers_short 2\n", "missing mandatory keyword global_hidden_layers"),
        ("global_activation_short t t l\n", "activation function of layer 1 unset"),
        ("symfunction_short O 2 H 0.1 0.0 6.0\n", "no symfunction_short lines for element 'O'"),
    ],
)
def test_missing_keywords(tmp_path, drop, message):
    path = tmp_path / "input.nn"
    path.write_text(MINIMAL_INPUT_NN.replace(drop, ""))
    with pytest.raises(io.N2p2FormatError, match=re.escape(message)):
        io.read_input_nn(path)


def test_minimal_input_nn_reads_without_warnings(tmp_path):
    path = tmp_path / "input.nn"
    path.write_text(MINIMAL_INPUT_NN)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = io.read_input_nn(path)
    assert s.layer_sizes("O") == (1, 5, 5, 1) and s.scaling_mode == "none"
    assert (s.scale_min_short, s.scale_max_short) == (0.0, 1.0)


def test_n2p2_energy_bookkeeping(n2p2_dir):
    """n2p2's atomic energies (no mean_energy) + N mean_energy = total energy (README)."""
    folder = n2p2_dir / "H2O_RPBE-D3"
    s = io.read_input_nn(folder / "input.nn")
    atomic = np.loadtxt(folder / "nnatoms.out", comments="#", usecols=6)
    total = float(np.loadtxt(folder / "energy.out", comments="#", usecols=3))
    n = len(atomic)
    offsets = sum(s.atom_energy[e] for e in ("H", "O"))  # 0 here: commented out
    assert atomic.sum() + n * s.mean_energy + offsets == pytest.approx(total, rel=1e-13)


def test_begin_tags_set_train(tmp_path):
    """'begin set=train' tags (used for n2p2-style splits) land in atoms.info."""
    from nnp_ref.io.n2p2 import N2p2FormatError, read_data

    block = "atom 0 0 0 H 0 0 0 0 0\natom 0 0 0.8 H 0 0 0 0 0\nenergy -1.0\nend\n"
    path = tmp_path / "tagged.data"
    path.write_text("begin set=train\n" + block + "begin set=test\n" + block + "begin\n" + block)
    structures = read_data(path)
    assert [a.info.get("set") for a in structures] == ["train", "test", None]
    path.write_text("begin oops\n" + block)
    with pytest.raises(N2p2FormatError, match=r":1:.*begin key=value"):
        read_data(path)
