"""Electrostatics of Gaussian charges: closed forms, Madelung constants, Qeq, derivatives.

Independent of n2p2 (the n2p2 comparisons are in test_fourth_generation.py):
point-charge Ewald energies of NaCl and CsCl against their Madelung
constants, Gaussian-charge Ewald sums converging to the direct sum as the box
grows, the charge-equilibration solve against the bordered system, and every
position derivative against central differences.
"""

import math

import numpy as np
import pytest

from nnp_ref.checks import central_difference, compare
from nnp_ref.electrostatics import energy as elec
from nnp_ref.electrostatics import ewald, qeq
from nnp_ref.electrostatics.adjoint import adjoint_charges
from nnp_ref.electrostatics.gaussian import erf_over_r, ewald_real, screening

MADELUNG_NACL = 1.747564594633182  # per ion pair, nearest-neighbour distance
MADELUNG_CSCL = 1.762674773070988
POINT = 1e-3  # Å: Gaussian width small enough that the charges act as points
PRECISE = ewald.EwaldSettings(method=0, precision=1e-16)


def point_charge_energy(R_nc, Q_n, cell_cc):
    """Ewald energy of point charges: E_elec with tiny widths and no screening."""
    elem_n = np.zeros(len(R_nc), dtype=np.int64)
    geo = elec.make_geometry(R_nc, elem_n, [POINT], 1.0, (0.0, 1e-6), cell_cc, PRECISE)
    return elec.electrostatic_energy(Q_n, elec.coulomb_matrix(geo), elec.screening_matrix(geo))


def test_nacl_madelung_constant():
    a = 5.64
    frac = [(0, 0, 0), (0, 0.5, 0.5), (0.5, 0, 0.5), (0.5, 0.5, 0)]
    frac += [(0.5, 0, 0), (0, 0.5, 0), (0, 0, 0.5), (0.5, 0.5, 0.5)]
    R_nc = np.array(frac) * a
    Q_n = np.array([1.0] * 4 + [-1.0] * 4)
    E = point_charge_energy(R_nc, Q_n, np.eye(3) * a)
    M = -E / 4 * (a / 2)  # E = -4 M k_e q^2 / r_0, 4 ion pairs
    assert abs(M - MADELUNG_NACL) < 1e-10


def test_cscl_madelung_constant_triclinic_cell():
    """The same crystal in a cubic and in a sheared (triclinic) cell of the lattice."""
    a = 4.12
    for cell in (np.eye(3) * a, np.array([[a, 0, 0], [a, a, 0], [0, a, a]])):
        R_nc = np.array([[0.0, 0, 0], [0.5 * a, 0.5 * a, 0.5 * a]])
        E = point_charge_energy(R_nc, np.array([1.0, -1.0]), cell)
        M = -E * (a * math.sqrt(3) / 2)
        assert abs(M - MADELUNG_CSCL) < 1e-10


def dimer_energy(L=None, settings=PRECISE):
    """Two Gaussian charges +-0.5 (widths 0.8, 1.1 Å), screened between 0.5 and 2 Å."""
    R_nc = np.array([[0.1, 0.2, 0.3], [1.0, 0.9, 0.8]])
    elem_n = np.array([0, 1])
    cell = None if L is None else np.eye(3) * L
    geo = elec.make_geometry(R_nc, elem_n, [0.8, 1.1], 14.4, (0.5, 2.0), cell, settings)
    return elec.electrostatic_energy(np.array([0.5, -0.5]), elec.coulomb_matrix(geo),
                                     elec.screening_matrix(geo))  # fmt: skip


def test_gaussian_ewald_converges_to_direct_sum_as_box_grows():
    """E(L) - E_direct is the interaction with the images, ~ p^2 / L^3 (dipole)."""
    direct = dimer_energy()
    d = [abs(dimer_energy(L) - direct) for L in (15.0, 30.0, 60.0)]
    assert 7.0 < d[0] / d[1] < 9.0 and 7.0 < d[1] / d[2] < 9.0
    assert d[2] < 1e-4 * abs(direct)


def test_finite_energy_is_screened_pair_sum():
    """Finite structure: E_elec = 1/2 sum_{i != j} k_e Q_i Q_j erf(r/a) f_s(r) / r."""
    rng = np.random.default_rng(0)
    R_nc = rng.uniform(0, 4, (6, 3))
    elem_n = np.array([0, 1, 0, 1, 1, 0])
    Q_n = rng.normal(size=6)
    sigma_e = np.array([0.7, 1.2])
    geo = elec.make_geometry(R_nc, elem_n, sigma_e, 14.4, (1.0, 3.0))
    E = elec.electrostatic_energy(Q_n, elec.coulomb_matrix(geo), elec.screening_matrix(geo))
    ref = 0.0
    for i in range(6):
        for j in range(6):
            if i != j:
                r = np.linalg.norm(R_nc[i] - R_nc[j])
                a = math.sqrt(2 * (sigma_e[elem_n[i]] ** 2 + sigma_e[elem_n[j]] ** 2))
                ref += (
                    0.5 * 14.4 * Q_n[i] * Q_n[j] * math.erf(r / a) * screening(r, 1.0, 3.0)[0] / r
                )
    assert E == pytest.approx(ref, rel=1e-13, abs=1e-13)


@pytest.mark.parametrize("kernel", ["erf", "ewald", "screen"])
def test_pair_kernel_derivatives(kernel):
    f = {
        "erf": lambda r: erf_over_r(r, 1.3),
        "ewald": lambda r: ewald_real(r, 1.3, 2.9),
        "screen": lambda r: screening(r, 1.0, 4.0),
    }[kernel]
    r = np.array([0.3, 1.1, 2.5, 3.9, 5.0])
    value = lambda x: np.array([f(ri)[0] for ri in x])  # noqa: E731
    analytic = np.array([f(ri)[1] for ri in r])
    numeric = np.diag(central_difference(value, r, h=1e-6))
    assert compare(kernel, analytic, numeric) < 1e-8


def small_geometry(R_nc, periodic):
    elem_n = np.array([0, 1, 1, 0, 1])
    cell = np.array([[7.0, 0.0, 0.0], [1.0, 6.5, 0.0], [0.5, -0.7, 7.5]]) if periodic else None
    settings = ewald.EwaldSettings(method=1, precision=1e-9, max_charge=1.0, k_e=14.4)
    return elec.make_geometry(R_nc, elem_n, [0.9, 0.6], 14.4, (1.0, 3.5), cell, settings)


SMALL_R = np.array(
    [[0.1, 0.2, 0.3], [1.4, 0.1, 0.5], [0.3, 1.6, 0.2], [2.5, 2.2, 1.9], [3.4, 1.1, 3.0]]
)


@pytest.mark.parametrize("periodic", [False, True], ids=["finite", "periodic"])
def test_bilinear_gradients_match_central_differences(periodic):
    """d/dR (U^T C V) and d/dR (U^T S V), and dE_elec/dR at fixed charges."""
    rng = np.random.default_rng(1)
    U_n, V_n = rng.normal(size=5), rng.normal(size=5)
    geo = small_geometry(SMALL_R, periodic)

    def forms(R_flat):
        g = small_geometry(R_flat, periodic)
        g.ewald_params, g.k_kc, g.w_k = geo.ewald_params, geo.k_kc, geo.w_k  # same cell: same k
        return np.array([U_n @ elec.coulomb_matrix(g) @ V_n, U_n @ elec.screening_matrix(g) @ V_n])

    numeric = central_difference(forms, SMALL_R, h=1e-5)
    assert compare("U C V", elec.coulomb_bilinear_gradient(geo, U_n, V_n), numeric[0]) < 1e-8
    assert compare("U S V", elec.screening_bilinear_gradient(geo, U_n, V_n), numeric[1]) < 1e-8
    Q_n = U_n
    numeric_E = central_difference(
        lambda R: 0.5 * Q_n @ (elec.coulomb_matrix(small_geometry(R, periodic))
                               + elec.screening_matrix(small_geometry(R, periodic))) @ Q_n,
        SMALL_R, h=1e-5,
    )  # fmt: skip
    assert compare("dE/dR|Q", elec.energy_position_gradient(geo, Q_n), numeric_E) < 1e-8


@pytest.mark.parametrize("total", [0.0, 1.0, -2.5])
def test_qeq_charges_sum_to_total_and_solve_bordered_system(total):
    rng = np.random.default_rng(2)
    geo = small_geometry(SMALL_R, periodic=True)
    C_nn = elec.coulomb_matrix(geo)
    J_n = np.array([5.0, 8.0, 8.0, 5.0, 8.0])
    chi_n = rng.normal(size=5)
    system = qeq.factorize(qeq.qeq_matrix(C_nn, J_n))
    Q_n, lagrange = qeq.equilibrate(system, chi_n, total)
    assert abs(Q_n.sum() - total) < 1e-14 * max(1.0, abs(total)) * 5
    bordered = np.block(
        [[C_nn + np.diag(J_n), np.ones((5, 1))], [np.ones((1, 5)), np.zeros((1, 1))]]
    )
    x = np.linalg.solve(bordered, np.append(-chi_n, total))
    np.testing.assert_allclose(Q_n, x[:5], rtol=0, atol=1e-12)
    assert lagrange == pytest.approx(x[5], abs=1e-12)
    # a minimum: moving charge between atoms at fixed total raises E_Qeq
    E0 = qeq.qeq_energy(Q_n, chi_n, J_n, C_nn)
    for _ in range(5):
        d = rng.normal(size=5)
        d -= d.mean()
        assert qeq.qeq_energy(Q_n + 1e-3 * d, chi_n, J_n, C_nn) > E0


def test_adjoint_gives_charge_response():
    """g . dQ/dR (3n solves) equals mu^T dC/dR Q for dchi/dR = 0 (one solve)."""
    rng = np.random.default_rng(3)
    J_n = np.array([5.0, 8.0, 8.0, 5.0, 8.0])
    chi_n = rng.normal(size=5)
    g_n = rng.normal(size=5)

    def charges(R):
        C = elec.coulomb_matrix(small_geometry(R, periodic=False))
        return qeq.equilibrate(qeq.factorize(qeq.qeq_matrix(C, J_n)), chi_n, 1.0)[0]

    geo = small_geometry(SMALL_R, periodic=False)
    system = qeq.factorize(qeq.qeq_matrix(elec.coulomb_matrix(geo), J_n))
    Q_n = qeq.equilibrate(system, chi_n, 1.0)[0]
    mu_n = adjoint_charges(system, g_n)
    analytic = elec.coulomb_bilinear_gradient(geo, mu_n, Q_n)
    numeric = np.einsum("i,ikc->kc", g_n, central_difference(charges, SMALL_R, h=1e-5))
    assert abs(mu_n.sum()) < 1e-14
    assert compare("g dQ/dR", analytic, numeric) < 1e-8


def test_non_positive_hardness_is_an_error():
    C_nn = elec.coulomb_matrix(small_geometry(SMALL_R, periodic=False))
    with pytest.raises(qeq.QeqError, match="structure 7: .*not positive definite"):
        qeq.factorize(qeq.qeq_matrix(C_nn, np.full(5, -50.0)), "structure 7")


def test_absurd_ewald_precision_is_an_error():
    settings = ewald.EwaldSettings(method=1, precision=1e-5, max_charge=1.0, r_cut=1.0)
    with pytest.raises(ValueError, match="k vectors .* ewald_prec is too strict"):
        elec.make_geometry(SMALL_R, np.zeros(5, dtype=np.int64), [1.0], 1.0, (1.0, 2.0),
                           np.eye(3) * 200.0, settings)  # fmt: skip
    with pytest.raises(ValueError, match="precision must be positive"):
        ewald.EwaldSettings(method=1, precision=0.0, max_charge=1.0)
    with pytest.raises(ValueError, match="maximum charge"):
        ewald.EwaldSettings(method=1, precision=1e-5)


def test_kolafa_parameters_match_n2p2_log():
    """H2O_RPBE-D3_4G/nnp-predict.log: eta, r_cut, k_cut for its 384-atom box (Bohr)."""
    settings = ewald.EwaldSettings(method=1, precision=1e-5, max_charge=0.36)
    volume = 3.3956488880283203e01 * 2.9407162188180479e01 * 2.7725343724511134e01
    p = ewald.ewald_parameters(settings, volume, 384, 1.2491023848218)
    assert p.r_cut == pytest.approx(3.56826886e01, rel=1e-8)
    assert p.k_cut == pytest.approx(3.68974416e-01, rel=1e-8)
    assert p.eta == pytest.approx(9.83401028e00, rel=1e-8)


@pytest.mark.parametrize("periodic", [False, True], ids=["finite", "periodic"])
def test_coulomb_directional_derivative(periodic):
    """d/de (C(R + e D) V) against central differences in e."""
    rng = np.random.default_rng(4)
    V_n, D_nc = rng.normal(size=5), rng.normal(size=(5, 3))
    geo = small_geometry(SMALL_R, periodic)
    analytic = elec.coulomb_directional(geo, V_n, D_nc)

    def CV(e):
        return elec.coulomb_matrix(small_geometry(SMALL_R + e[0] * D_nc, periodic)) @ V_n

    numeric = central_difference(CV, np.zeros(1), h=1e-5)[:, 0]
    assert compare("dC/de V", analytic, numeric) < 1e-8


def test_ill_conditioned_qeq_is_an_error():
    """Two atoms 1e-9 Å apart with a vanishing hardness: H has two equal rows."""
    R_nc = np.array([[0.0, 0.0, 0.0], [1e-9, 0.0, 0.0], [2.0, 0.0, 0.0]])
    geo = elec.make_geometry(R_nc, np.zeros(3, dtype=np.int64), [1.0], 14.4, (1.0, 2.0))
    with pytest.raises(
        qeq.QeqError, match="structure 3: .*(ill-conditioned|not positive definite)"
    ):
        qeq.factorize(qeq.qeq_matrix(elec.coulomb_matrix(geo), np.full(3, 1e-12)), "structure 3")
