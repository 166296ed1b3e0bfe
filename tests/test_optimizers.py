"""Adam, L-BFGS and the Kalman filter against hand computations and exact solutions."""

import numpy as np
import pytest

from nnp_ref.training.optimizers import Adam, KalmanFilter, lbfgs


def test_adam_two_steps_by_hand():
    opt = Adam(2, lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8)
    w = np.array([1.0, -2.0])
    g1, g2 = np.array([0.5, -1.0]), np.array([0.1, 2.0])
    w1 = opt.step(w, g1)
    # t = 1: m^ = g, v^ = g^2, step = lr * g/|g| = lr * sign(g)
    np.testing.assert_allclose(w1, w - 0.1 * np.sign(g1), rtol=1e-7)
    w2 = opt.step(w1, g2)
    m = 0.9 * 0.1 * g1 + 0.1 * g2
    v = 0.999 * 0.001 * g1**2 + 0.001 * g2**2
    expected = w1 - 0.1 * (m / (1 - 0.81)) / (np.sqrt(v / (1 - 0.999**2)) + 1e-8)
    np.testing.assert_allclose(w2, expected, rtol=1e-12)
    state = opt.state_dict()
    other = Adam(2)
    other.load_state_dict(state)
    np.testing.assert_array_equal(other.step(w2, g1), opt.step(w2, g1))


def test_adam_and_lbfgs_minimise_a_quadratic():
    rng = np.random.default_rng(0)
    Q = rng.normal(size=(6, 6))
    A = Q @ Q.T + 0.5 * np.eye(6)
    b = rng.normal(size=6)
    w_star = np.linalg.solve(A, b)

    def fg(w):
        return 0.5 * w @ A @ w - b @ w, A @ w - b

    opt = Adam(6, lr=0.05)
    w = np.zeros(6)
    for _ in range(3000):
        w = opt.step(w, fg(w)[1])
    np.testing.assert_allclose(w, w_star, atol=1e-3)
    result = lbfgs(fg, np.zeros(6), max_iter=100)
    np.testing.assert_allclose(result.x, w_star, atol=1e-6)
    calls = []

    def stop_after_three(w, f):
        calls.append(f)
        if len(calls) == 3:
            raise StopIteration

    result = lbfgs(fg, np.zeros(6), max_iter=100, callback=stop_after_three)
    assert len(calls) == 3 and result.nit == 3


def naive_kalman(P, w, xi, H, eta=None, lam=None, q=0.0):
    """One textbook update with full matrices (standard if eta given, else fading memory)."""
    X = P @ H
    A = H.T @ X + (np.eye(len(xi)) / eta if eta is not None else lam * np.eye(len(xi)))
    K = X @ np.linalg.inv(A)
    P = P - K @ X.T
    if lam is not None:
        P = P / lam
    return P + q * np.eye(len(w)), w + K @ xi


@pytest.mark.parametrize("kind", ["standard", "fading_memory"])
def test_kalman_matches_textbook_update_and_schedules(kind):
    rng = np.random.default_rng(1)
    n = 12
    kf = KalmanFilter(n, kind=kind, epsilon=0.1, q0=0.02, qtau=0.3, qmin=1e-3, eta0=0.05,
                      etatau=0.4, etamax=0.5, lambda0=0.9, nu=0.99)  # fmt: skip
    w = rng.normal(size=n)
    w_ref, P = w.copy(), np.eye(n) / 0.1
    q, eta, lam = 0.02, 0.05, 0.9
    for step in range(15):
        m = 1 + step % 3
        H, xi = rng.normal(size=(n, m)), rng.normal(size=m)
        kf.update(w, xi, H)
        if kind == "standard":
            eta = eta * np.exp(0.4) if eta < 0.5 else eta
            P, w_ref = naive_kalman(P, w_ref, xi, H, eta=eta, q=q)
        else:
            P, w_ref = naive_kalman(P, w_ref, xi, H, lam=lam, q=q)
            lam = 0.99 * lam + 0.01
        q = q * np.exp(-0.3) if q > 1e-3 else q
    np.testing.assert_allclose(w, w_ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(kf.P_full, P, rtol=1e-10, atol=1e-12)
    assert kf.q == pytest.approx(q) and kf.n_updates == 15
    if kind == "standard":
        assert kf.eta == pytest.approx(eta) and eta > 0.5
    else:
        assert kf.lam == pytest.approx(lam)
    state = kf.state_dict()
    other = KalmanFilter(n, kind=kind)
    other.load_state_dict(state)
    H, xi = rng.normal(size=(n, 2)), rng.normal(size=2)
    np.testing.assert_array_equal(other.update(w.copy(), xi, H), kf.update(w.copy(), xi, H))


def test_kalman_is_exact_recursive_least_squares_for_a_linear_model():
    """q = 0, constant eta: the filter's w is the posterior mean of Bayesian linear regression.

    Prior w ~ N(0, I/epsilon), observations y = H^T w + noise of variance 1/eta:
    w = (epsilon I + eta H H^T)^{-1} eta H y, whatever the batching of observations.
    """
    rng = np.random.default_rng(2)
    n, n_obs = 5, 40
    H_all = rng.normal(size=(n, n_obs))
    y_all = H_all.T @ rng.normal(size=n) + 0.1 * rng.normal(size=n_obs)
    eps, eta = 0.3, 2.0
    kf = KalmanFilter(n, epsilon=eps, q0=0.0, qtau=0.0, eta0=eta, etatau=0.0, etamax=eta)
    w = np.zeros(n)
    for cols in np.array_split(np.arange(n_obs), 13):  # observation sizes 3 and 4
        H = H_all[:, cols]
        kf.update(w, y_all[cols] - H.T @ w, H)  # xi = y - f(w)
    exact = np.linalg.solve(eps * np.eye(n) + eta * H_all @ H_all.T, eta * H_all @ y_all)
    np.testing.assert_allclose(w, exact, rtol=1e-10)


def test_kalman_rejects_bad_settings():
    with pytest.raises(ValueError, match="standard"):
        KalmanFilter(3, kind="extended")
    with pytest.raises(ValueError, match="epsilon"):
        KalmanFilter(3, epsilon=0.0)
