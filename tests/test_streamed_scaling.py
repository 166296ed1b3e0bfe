"""Scaling statistics streamed from the descriptor store (nnp_ref.training.streamed_scaling)."""

import numpy as np
import pytest

from nnp_ref.data.datasets import generate_reference_data
from nnp_ref.model.scaling import Scaling
from nnp_ref.training.build import build_potential
from nnp_ref.training.store import StoredStructures
from nnp_ref.training.streamed_scaling import (
    block_moments,
    combine_moments,
    scaling_from_store,
    streamed_moments,
)

SF = dict(rc=4.2, n_radial=4, n_angular=1, zetas=(1.0, 4.0), r_lower=2.0)
FIELDS = ("G_min", "G_max", "G_mean", "G_sigma")


@pytest.fixture(scope="module")
def cuau():
    """Two elements, so every chunk splits into element blocks."""
    return generate_reference_data(
        kind="emt-cuau", n_structures=8, seed=5, repeats=((2, 2, 2),), md_snapshots=2,
        md_equilibrate=5, md_every=3, progress=False,
    )  # fmt: skip


def test_combined_moments_equal_numpy_on_shifted_data():
    """Chan-Golub-LeVeque over uneven blocks of data far from 0 (cancellation-prone)."""
    rng = np.random.default_rng(0)
    G_as = 1e3 + rng.normal(size=(1000, 4)) * np.array([1e-3, 1.0, 10.0, 0.0])
    total = None
    for a, b in ((0, 1), (1, 7), (7, 300), (300, 301), (301, 1000)):
        block = block_moments(G_as[a:b])
        total = block if total is None else combine_moments(total, block)
    n, G_min, G_max, mean, M2 = total
    assert n == 1000
    np.testing.assert_array_equal(G_min, G_as.min(axis=0))
    np.testing.assert_array_equal(G_max, G_as.max(axis=0))
    np.testing.assert_allclose(mean, G_as.mean(axis=0), rtol=1e-14, atol=0)
    sigma = np.sqrt(M2 / n)
    np.testing.assert_allclose(sigma[:3], G_as.std(axis=0)[:3], rtol=1e-9, atol=0)
    assert sigma[3] == 0.0  # a constant column: exactly zero spread


@pytest.mark.parametrize("mode", ["scalecenter", "scalesigma"])
def test_build_potential_from_a_store_scales_as_in_memory(cuau, tmp_path, mode):
    memory, descriptors = build_potential(cuau, hidden=(4,), seed=1, progress=False,
                                          scaling_mode=mode, **SF)  # fmt: skip
    streamed, items = build_potential(cuau, hidden=(4,), seed=1, progress=False,
                                      scaling_mode=mode, store_dir=tmp_path, **SF)  # fmt: skip
    assert isinstance(items, StoredStructures) and len(items) == len(descriptors)
    for e in ("Cu", "Au"):
        a, b = memory.scalings[e], streamed.scalings[e]
        assert a.mode == b.mode == mode
        for name in FIELDS:  # one chunk holds every atom: the same numpy calls, bit for bit
            np.testing.assert_array_equal(getattr(b, name), getattr(a, name), err_msg=name)
        np.testing.assert_array_equal(
            streamed.networks[e].weights[0], memory.networks[e].weights[0]
        )
    # chunks of 37 atoms: min/max bit for bit, mean and sigma to 1e-12
    n_s_e = memory.descriptor.n_s_e
    chunked = scaling_from_store(items, ("Cu", "Au"), n_s_e, mode, chunk_atoms=37)
    for e in ("Cu", "Au"):
        a, b = memory.scalings[e], chunked[e]
        np.testing.assert_array_equal(b.G_min, a.G_min)
        np.testing.assert_array_equal(b.G_max, a.G_max)
        atol = 1e-12 * np.abs(a.G_max).max()
        for name in ("G_mean", "G_sigma"):
            np.testing.assert_allclose(getattr(b, name), getattr(a, name), rtol=1e-12, atol=atol,
                                       err_msg=name)  # fmt: skip


def test_pass_reads_chunk_by_chunk_and_names_a_missing_element():
    elem_n = np.array([0, 0, 0, 0, 0])
    G_ns = np.arange(10.0).reshape(5, 2)
    released = []
    moments = streamed_moments(elem_n, G_ns, [2, 2], chunk_atoms=2,
                               release=lambda: released.append(1))  # fmt: skip
    assert len(released) == 3 and set(moments) == {0}
    n, G_min, G_max, mean, M2 = moments[0]
    assert n == 5 and list(G_min) == [0, 1] and list(G_max) == [8, 9]
    np.testing.assert_allclose(mean, [4.0, 5.0], rtol=1e-15)
    np.testing.assert_allclose(M2, [40.0, 40.0], rtol=1e-15)

    class Items:
        arrays = {"elem_n": elem_n, "G_ns": G_ns}

    with pytest.raises(ValueError, match=r"no atoms of element\(s\) \['Au'\]"):
        scaling_from_store(Items(), ("Cu", "Au"), [2, 2])
    scaling = scaling_from_store(Items(), ("Cu",), [2])["Cu"]
    assert isinstance(scaling, Scaling)
    np.testing.assert_allclose(scaling.G_sigma, np.sqrt(8.0), rtol=1e-15)
