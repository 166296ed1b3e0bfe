"""nnp_ref.checks: the compare printout and central differences against closed forms."""

import numpy as np
import pytest
from ase.build import bulk

from nnp_ref import checks
from nnp_ref.descriptors.symmetry_functions import SymmetryFunction
from nnp_ref.model import network as nn
from nnp_ref.model.potential import Potential


def test_compare_helper(capsys):
    rel = checks.compare("demo", np.array([1.0, 2.0]), np.array([1.0, 2.0 + 2e-6]))
    assert rel == pytest.approx(1e-6, rel=1e-5)
    out = capsys.readouterr().out
    assert "demo" in out and "exact: False" in out and "relative: 1.000e-06" in out
    assert checks.compare("same", np.ones(3), np.ones(3), verbose=False) == 0.0
    with pytest.raises(ValueError, match="shapes"):
        checks.compare("bad", np.ones(3), np.ones(4))
    assert nn.compare is checks.compare  # notebooks call nn.compare


def test_central_difference_of_a_polynomial_is_exact_to_rounding():
    """d/dx (x0^2 x1, x1^3) = [[2 x0 x1, x0^2], [0, 3 x1^2]]: O(h^2) error, here ~1e-10."""
    x = np.array([1.3, -0.7])

    def f(y):
        return np.array([y[0] ** 2 * y[1], y[1] ** 3])

    exact = np.array([[2 * x[0] * x[1], x[0] ** 2], [0.0, 3 * x[1] ** 2]])
    numeric = checks.central_difference(f, x, h=1e-5)
    assert numeric.shape == (2, 2)
    np.testing.assert_allclose(numeric, exact, rtol=0, atol=1e-9)


def test_position_and_strain_derivative_of_closed_forms():
    """sum_k |R_k|^2 / 2 has gradient R; the volume has dV/d eps = V * identity."""
    atoms = bulk("Cu", "fcc", a=3.6, cubic=True)
    atoms.rattle(0.05, seed=1)
    dR = checks.position_derivative(lambda a: 0.5 * np.sum(a.positions**2), atoms, h=1e-4)
    np.testing.assert_allclose(dR, atoms.positions, rtol=0, atol=1e-8)
    dV = checks.strain_derivative(lambda a: a.get_volume(), atoms, h=1e-6)
    np.testing.assert_allclose(dV, atoms.get_volume() * np.eye(3), rtol=0, atol=1e-6)


def test_parameter_derivative_restores_the_weights():
    """d/dw sum_a E_a of a linear network: the summed inputs (and the count for the bias)."""
    sf = [SymmetryFunction(2, "Cu", ("Cu",), 4.0, eta=0.5)]
    net = nn.make_network(1, (), ("l",), seed=0)
    potential = Potential(("Cu",), {"Cu": sf}, {"Cu": net})
    w0 = nn.to_flat(net).copy()
    X_a = np.array([0.3, -1.2, 2.0])
    numeric = checks.parameter_derivative(
        lambda: nn.energy(potential.networks["Cu"], X_a[:, None]).sum(), potential, h=1e-6
    )
    np.testing.assert_allclose(numeric, [X_a.sum(), 3.0], rtol=1e-8)
    np.testing.assert_array_equal(nn.to_flat(potential.networks["Cu"]), w0)


def test_parameter_derivative_restores_the_weights_when_f_raises():
    sf = [SymmetryFunction(2, "Cu", ("Cu",), 4.0, eta=0.5)]
    potential = Potential(("Cu",), {"Cu": sf}, {"Cu": nn.make_network(1, (2,), ("t", "l"), seed=1)})
    w0 = nn.to_flat(potential.networks["Cu"]).copy()

    def broken():
        raise RuntimeError("f failed")

    with pytest.raises(RuntimeError, match="f failed"):
        checks.parameter_derivative(broken, potential)
    np.testing.assert_array_equal(nn.to_flat(potential.networks["Cu"]), w0)
