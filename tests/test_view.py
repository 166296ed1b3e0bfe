"""Structure views for the notebooks: a static picture headless, weas-widget interactively."""

import numpy as np
import pytest
from ase.build import fcc111
from matplotlib.figure import Figure

from nnp_ref.course.view import interactive_available, static_view, view_structure


@pytest.fixture
def slab():
    return fcc111("Cu", size=(2, 2, 3), vacuum=5.0)


def test_static_view_colours_atoms(slab):
    fig = static_view(slab, slab.positions[:, 2], name="height (Å)")
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 2  # the picture and its colour bar
    assert fig.axes[1].get_ylabel() == "height (Å)"


def test_headless_gives_a_picture(slab, monkeypatch):
    monkeypatch.setenv("NNP_REF_STATIC_VIEW", "1")
    assert not interactive_available()
    assert isinstance(view_structure(slab, np.arange(len(slab))), Figure)


def test_wrong_number_of_values_is_one_line(slab):
    with pytest.raises(ValueError, match=r"view: \(3,\) values for 12 atoms"):
        static_view(slab, [1.0, 2.0, 3.0])


def test_interactive_viewer(slab):
    weas_widget = pytest.importorskip("weas_widget", reason="weas-widget not installed")
    viewer = view_structure(slab, slab.positions[:, 2], name="height", interactive=True)
    assert isinstance(viewer, weas_widget.WeasWidget)
    assert viewer.avr.color_by == "height"
