"""The shipped water clusters can never drift from their recipe: re-label two live with PySCF."""

import numpy as np
import pytest

pytest.importorskip("pyscf")

from nnp_ref.data import make_water_clusters as recipe  # noqa: E402


@pytest.fixture(scope="module")
def shipped():
    if not recipe.SHIPPED.is_file():
        pytest.skip(
            f"{recipe.SHIPPED} not generated yet (python -m nnp_ref.data.make_water_clusters)"
        )
    return recipe.load()


def test_file_holds_labelled_clusters_with_provenance(shipped):
    assert len(shipped) >= 20
    sizes = {a.info["n_molecules"] for a in shipped}
    assert {1, 2, 3} <= sizes
    assert {a.info["set"] for a in shipped} == {"train", "test"}
    for atoms in shipped:
        assert atoms.get_chemical_formula() == f"H{2 * atoms.info['n_molecules']}O" + (
            str(atoms.info["n_molecules"]) if atoms.info["n_molecules"] > 1 else ""
        )
        assert atoms.info["method"] == recipe.METHOD and atoms.info["converged"]
        assert np.all(np.isfinite(atoms.get_forces()))
        # E per molecule near the PBE/def2-SVP monomer minimum (-76.27 Hartree = -2075.5 eV):
        # at most ~0.3 eV of hydrogen bonding below, a few eV of distortion above
        e_per_molecule = atoms.get_potential_energy() / atoms.info["n_molecules"]
        assert -2076.0 < e_per_molecule < -2072.5


def test_first_structures_are_the_recipe_geometries(shipped):
    """The first geometries of the recipe's sampling equal the stored ones (same seeds)."""
    from nnp_ref.data.clusters import sample_water_clusters

    n1 = [a for a in shipped if a.info["n_molecules"] == 1]
    fresh = sample_water_clusters(1, recipe.COUNTS[1], seed=recipe.SEED + 1)
    for atoms in n1[:3]:
        np.testing.assert_allclose(
            atoms.positions, fresh[atoms.info["index_in_size"]].positions, atol=1e-8
        )


def test_relabel_two_smallest_structures_live(shipped):
    labeller = recipe.make_labeller(threads=None)
    smallest = sorted(shipped, key=len)[:2]
    for atoms in smallest:
        work = atoms.copy()
        work.calc = None
        label = labeller(work)
        assert label.energy == pytest.approx(atoms.get_potential_energy(), abs=1e-5)  # eV
        np.testing.assert_allclose(label.forces_nc, atoms.get_forces(), atol=1e-4)  # eV/Å
