"""n2p2 files that n2p2 reads into wrong numbers: nnp_ref refuses them (issue 16).

Each test damages a good file the way the damaged-file campaign did and
asserts a one-line :class:`N2p2FormatError` naming the file and the line.
"""

import re
import shutil

import numpy as np
import pytest

from nnp_ref.io import n2p2 as io
from tests.test_io_n2p2 import GOOD_BLOCK, MINIMAL_INPUT_NN

WATER = "H2O_RPBE-D3"


def expect_error(path, line, fragment, read, target=None):
    """``read(target or path)`` raises a one-line error at ``path:line`` with ``fragment``."""
    with pytest.raises(io.N2p2FormatError, match=re.escape(fragment)) as info:
        read(path if target is None else target)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{path}:{line}: ")
    assert info.value.line == line
    return message


@pytest.fixture
def water(n2p2_dir, tmp_path):
    """A copy of the water potential directory, to damage."""
    folder = tmp_path / WATER
    shutil.copytree(n2p2_dir / WATER, folder)
    return folder


def data_lines(path):
    """(index in the file's lines, tokens) of the non-comment lines."""
    lines = path.read_text().splitlines()
    return lines, [k for k, t in enumerate(lines) if t.split() and not t.startswith("#")]


def edit_scaling_row(folder, row, edit):
    path = folder / "scaling.data"
    lines, data = data_lines(path)
    k = data[row]
    words = lines[k].split()
    lines[k] = " ".join(edit(words))
    path.write_text("\n".join(lines) + "\n")
    return k + 1  # 1-based line number


def test_scaling_row_missing_a_column_is_an_error(water):
    """Read as a 5-column (no sigma) row it would shift mean into max: 1.06 eV/atom on water."""
    line = edit_scaling_row(water, 4, lambda w: w[:2] + w[3:])  # sf_min deleted
    expect_error(water / "scaling.data", line, "a column is missing", io.read_scaling)
    expect_error(water / "scaling.data", line, "a column is missing", io.read_n2p2_files, water)


@pytest.mark.parametrize(
    "edit, fragment",
    [
        (lambda w: [*w[:5], "-" + w[5]], "sf_sigma"),  # negative sigma
        (lambda w: [w[0], w[1], w[3], w[2], w[4], w[5]], "sf_min"),  # min > max
        (lambda w: [*w[:4], "1e3", w[5]], "sf_mean"),  # mean outside [min, max]
        (lambda w: [*w[:5], "1e3"], "sf_sigma"),  # sigma larger than the range
    ],
)
def test_inconsistent_scaling_row_is_an_error(water, edit, fragment):
    line = edit_scaling_row(water, 7, edit)
    expect_error(water / "scaling.data", line, fragment, io.read_n2p2_files, water)


def test_five_column_files_are_read_but_not_for_scalesigma(tmp_path):
    """Old files without sigma (n2p2: sigma = 0) are fine unless the mode divides by sigma."""
    path = tmp_path / "scaling.data"
    path.write_text("1 1 0.0 2.0 1.0\n1 2 0.5 1.5 1.0\n")
    stats = io.read_scaling(path, 1, [2])
    assert np.array_equal(stats[1].G_sigma, [0.0, 0.0])
    expect_error(path, 1, "scalesigma needs sigma", lambda p: io.read_scaling(p, need_sigma=True))


def test_runner_closing_energy_line(tmp_path):
    """RuNNer's 'E_min E_max' last line is ignored, as by n2p2; elsewhere it is an error."""
    path = tmp_path / "scaling.data"
    path.write_text("1 1 0.0 2.0 1.0 0.5\n -3.5 2.5\n")
    assert io.read_scaling(path, 1, [1])[1].G_max[0] == 2.0
    path.write_text("1 1 0.0 2.0 1.0 0.5\n -3.5 2.5\n1 2 0.0 2.0 1.0 0.5\n")
    expect_error(path, 2, "expected 6 columns", io.read_scaling)


@pytest.mark.parametrize(
    "keyword, value, fragment",
    [
        ("conv_length", "-1", "conv_length must be positive, got -1.0"),
        ("conv_energy", "0.0", "conv_energy must be positive, got 0.0"),
    ],
)
def test_normalisation_factors_must_be_positive(water, keyword, value, fragment):
    path = water / "input.nn"
    lines = path.read_text().splitlines()
    k = next(k for k, t in enumerate(lines) if t.split()[:1] == [keyword])
    lines[k] = f"{keyword} {value}"
    path.write_text("\n".join(lines) + "\n")
    expect_error(path, k + 1, fragment, io.read_input_nn)
    expect_error(path, k + 1, fragment, io.read_potential, water)


@pytest.mark.parametrize(
    "extra, line, fragment",
    [
        ("scale_min_short 1.0\nscale_max_short 1.0\n", 9, "must be smaller than scale_max_short"),
        ("fixed_gausswidth H -1.0\n", 9, "fixed_gausswidth must be positive"),
        ("screen_electrostatics 8.0 4.0\n", 9, "0 <= inner < outer"),
        ("ewald_prec 0.0\n", 9, "ewald_prec must be positive"),
        ("four_pi_epsilon nan\n", 9, "expected a number for four_pi_epsilon"),
    ],
)
def test_keyword_values_are_checked(tmp_path, extra, line, fragment):
    path = tmp_path / "input.nn"
    path.write_text(MINIMAL_INPUT_NN + extra)
    expect_error(path, line, fragment, io.read_input_nn)


@pytest.mark.parametrize(
    "old, new, fragment",
    [
        ("global_nodes_short 5 5", "global_nodes_short 5 -5", "layer sizes must be positive"),
        ("global_nodes_short 5 5", "global_nodes_short 5 0", "layer sizes must be positive"),
    ],
)
def test_layer_sizes_are_checked(tmp_path, old, new, fragment):
    path = tmp_path / "input.nn"
    path.write_text(MINIMAL_INPUT_NN.replace(old, new))
    expect_error(path, 5, fragment, io.read_input_nn)


def test_4g_settings_are_parsed(n2p2_dir):
    """The electrostatics keywords and charge networks, for the 4G reader."""
    s = io.read_input_nn(n2p2_dir / "H2O_RPBE-D3_4G" / "input.nn")
    assert s.nnp_type == 4
    assert s.fixed_gausswidth == {"H": 0.5858120110359424, "O": 1.2491023848218}
    assert s.screen_electrostatics == (4.8, 12.0)
    assert s.ewald_truncation_error_method == 1 and s.ewald_prec == (1e-5, 0.36)
    assert s.four_pi_epsilon == 1.0
    assert s.hidden_nodes_electrostatic == {"H": (25, 25), "O": (25, 25)}
    assert s.activations_electrostatic["O"] == ("t", "t", "l")
    assert s.layer_sizes("H", "electrostatic") == (27, 25, 25, 1)
    assert s.layer_sizes("H") == (28, 25, 25, 1)  # + the charge input


# ---------------------------------------------------------------------------
# input.data: errors name the structure (index and line of its 'begin')
# ---------------------------------------------------------------------------


def test_unknown_element_names_the_structure(tmp_path):
    path = tmp_path / "input.data"
    path.write_text(GOOD_BLOCK + GOOD_BLOCK.replace(" H 0.0", " C 0.0"))
    message = expect_error(path, 17, "element 'C' is not one of",
                           lambda p: io.read_data(p, elements=("H", "O")))  # fmt: skip
    assert message.endswith("in structure 1 (begun at line 11)")


@pytest.mark.parametrize(
    "position, fragment",
    [
        ("0.0 0.0 0.0", "atoms 0 and 1 overlap (0 Å apart"),
        ("1e-6 0.0 0.0", "atoms 0 and 1 overlap (1e-06 Å apart"),
        ("4.99 0.0 0.0", "atoms 0 and 1 overlap (0.01 Å apart"),  # through the periodic cell
    ],
)
def test_overlapping_atoms_name_the_structure(tmp_path, position, fragment):
    path = tmp_path / "input.data"
    path.write_text(GOOD_BLOCK + GOOD_BLOCK.replace("atom 1.0 0.0 0.0", f"atom {position}"))
    message = expect_error(path, 20, fragment, io.read_data)
    assert message.endswith("in structure 1 (begun at line 11)")


def test_structure_errors_name_the_structure(tmp_path):
    path = tmp_path / "input.data"
    path.write_text(GOOD_BLOCK * 2 + GOOD_BLOCK.replace("energy -1.0\n", ""))
    message = expect_error(path, 29, "no 'energy' line", io.read_data)
    assert message.endswith("in structure 2 (begun at line 21)")


def test_closest_pair_matches_ase_neighbour_list():
    """The k-d tree overlap check against ASE's neighbour list (triclinic, periodic or not)."""
    from ase import Atoms
    from ase.neighborlist import neighbor_list

    from nnp_ref.io.n2p2.input_data import closest_pair

    rng = np.random.default_rng(3)
    n_found = 0
    for trial in range(24):
        n = int(rng.integers(1, 25))
        cell = np.diag(rng.uniform(1.0, 3.0, 3)) + rng.uniform(-0.7, 0.7, (3, 3))
        periodic = trial % 3 != 0
        R = rng.uniform(-1.0, 2.0, (n, 3)) @ cell
        atoms = Atoms(f"H{n}", positions=R, cell=cell, pbc=periodic)
        d_ref = neighbor_list("d", atoms, 0.4)
        got = closest_pair(R, cell if periodic else None, 0.4)
        assert (got is None) == (len(d_ref) == 0)
        if got is not None:
            n_found += 1
            assert abs(got[2] - d_ref.min()) < 1e-12
    assert n_found > 4
