r"""Optimisers for HDNNP training: Adam, L-BFGS (scipy) and the extended Kalman filter.

All act on one flat parameter vector w (every element's network, n2p2's
``update_strategy 0``, "combined").

Adam (D. P. Kingma and J. Ba, arXiv:1412.6980, Algorithm 1), per step t
with gradient g of a mini-batch loss:

    m_t = beta1 m_{t-1} + (1 - beta1) g            first moment
    v_t = beta2 v_{t-1} + (1 - beta2) g^2          second moment (element-wise)
    m^_t = m_t / (1 - beta1^t),  v^_t = v_t / (1 - beta2^t)   bias correction
    w_t = w_{t-1} - alpha m^_t / (sqrt(v^_t) + eps)

L-BFGS: ``scipy.optimize.minimize(method="L-BFGS-B")`` over the full batch
(:func:`lbfgs`), one iteration per "epoch" through its callback.

Extended Kalman filter (EKF), the classic HDNNP trainer of RuNNer and n2p2
(T. B. Blank and S. D. Brown, J. Chemom. 8, 391 (1994); J. Behler, Int. J.
Quantum Chem. 115, 1032 (2015); A. Singraber et al., J. Chem. Theory Comput.
15, 3075 (2019), doi:10.1021/acs.jctc.8b01092, and n2p2's ``KalmanFilter``).
The weights are the state of a filter that observes, one update at a time,
m reference values y (an energy, or some force components) through the
network, y ~ f(w). With the error xi = y - f(w) (m,) and the Jacobian
H = df/dw (N_w, m), one update reads

    X = P H                                   (N_w, m)
    A = H^T X + R                             (m, m);  R = I/eta (standard)
                                                        R = lambda I (fading memory)
    K = X A^{-1}                              Kalman gain (N_w, m)
    P <- P - K X^T                            error covariance (N_w, N_w)
    P <- P / lambda                           (fading memory only)
    P <- P + q I                              process noise
    w <- w + K xi

with P_0 = I/epsilon and the schedules of n2p2, applied at every update:

    standard:      eta <- min(eta e^{eta_tau}, eta_max)   (before it is used)
                   q   <- q e^{-q_tau}  while q > q_min    (after the update)
    fading memory: lambda_k = nu lambda_{k-1} + 1 - nu    (after the update)

n2p2 divides ``kalman_qtau`` and ``kalman_etatau`` by the number of updates
per epoch (so 2.302 means "a factor 10 per epoch"); the trainer does the
same. ``P - K X^T = P - X A^{-1} X^T`` is symmetric, so P is stored as one
triangle and updated with BLAS ``dsyrk`` (Y = X L^{-T}, A = L L^T Cholesky)
and multiplied with ``dsymm``: half the work, exactly symmetric.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import blas, cho_factor, solve_triangular

# ---------------------------------------------------------------------------
# Adam
# ---------------------------------------------------------------------------


class Adam:
    """Adam with bias correction; ``step(w, g)`` returns the new parameters.

    ``lr`` may be changed between steps (learning-rate schedules).
    """

    def __init__(self, n_params: int, lr: float = 1e-3, beta1: float = 0.9,
                 beta2: float = 0.999, eps: float = 1e-8):  # fmt: skip
        self.lr, self.beta1, self.beta2, self.eps = float(lr), beta1, beta2, eps
        self.m = np.zeros(n_params)
        self.v = np.zeros(n_params)
        self.t = 0

    def step(self, w: np.ndarray, g: np.ndarray) -> np.ndarray:
        self.t += 1
        self.m = self.beta1 * self.m + (1.0 - self.beta1) * g  # first moment
        self.v = self.beta2 * self.v + (1.0 - self.beta2) * g * g  # second moment
        m_hat = self.m / (1.0 - self.beta1**self.t)  # bias corrections
        v_hat = self.v / (1.0 - self.beta2**self.t)
        return w - self.lr * m_hat / (np.sqrt(v_hat) + self.eps)

    def state_dict(self) -> dict:
        return {"kind": "adam", "lr": self.lr, "t": self.t, "m": self.m, "v": self.v}

    def load_state_dict(self, state: dict) -> None:
        self.lr, self.t = float(state["lr"]), int(state["t"])
        self.m, self.v = np.array(state["m"], dtype=float), np.array(state["v"], dtype=float)


# ---------------------------------------------------------------------------
# L-BFGS (scipy)
# ---------------------------------------------------------------------------


def lbfgs(fun_and_grad, w0, max_iter: int, callback=None, memory: int = 20):
    """Minimise ``fun_and_grad(w) -> (f, g)`` with scipy's L-BFGS-B.

    ``callback(w, f)`` runs after every iteration; it may raise
    ``StopIteration`` to stop early. No tolerance stops the run before
    ``max_iter`` iterations except a failed line search (converged or
    stalled). Returns scipy's ``OptimizeResult``.
    """
    from scipy.optimize import minimize

    def cb(intermediate_result):
        if callback is not None:
            callback(intermediate_result.x, intermediate_result.fun)

    return minimize(
        fun_and_grad,
        np.asarray(w0, dtype=float),
        jac=True,
        method="L-BFGS-B",
        callback=cb,
        options={"maxiter": int(max_iter), "maxcor": int(memory), "ftol": 0.0, "gtol": 0.0,
                 "maxfun": 20 * int(max_iter) + 20},
    )  # fmt: skip


# ---------------------------------------------------------------------------
# Extended Kalman filter
# ---------------------------------------------------------------------------


@dataclass
class KalmanSettings:
    """Kalman-filter parameters with n2p2's keywords and defaults (``input.nn``).

    ``kind``: "standard" (n2p2 ``kalman_type 0``) or "fading_memory" (1).
    ``epsilon`` (P_0 = I/epsilon), ``q0``, ``qtau``, ``qmin`` (process
    noise), ``eta0``, ``etatau``, ``etamax`` (standard: learning rate),
    ``lambda0``, ``nu`` (fading memory: forgetting factor). ``qtau`` and
    ``etatau`` are per epoch (the trainer divides them by the updates per
    epoch, as n2p2 does).

    Training schedule (n2p2 names in brackets):
    ``energy_fraction`` [short_energy_fraction]: energy updates per epoch as
    a fraction of the training structures; ``force_fraction``
    [short_force_fraction]: force components used per epoch as a fraction of
    all training force components; ``forces_per_update``: force components
    of one structure per force update (the observation size m; n2p2 with
    ``task_batch_size_force 1`` uses 1); ``force_update_weight``
    [force_weight]: factor on force errors and Jacobians;
    ``energy_threshold``/``force_threshold``
    [short_energy/force_error_threshold], ``threshold_trials``
    [rmse_threshold_trials]: candidates are taken only if their error
    exceeds threshold x current training RMSE (n2p2 ``selection_mode 2``).
    ``force_selection``: "structure" (the m components of a force update
    come from one structure) or "components" (as n2p2: each of the m
    components is drawn from one shuffled list of all training force
    components, so one update mixes structures; n2p2's update candidates
    with ``jacobian_mode 2``, one row per component).
    """

    kind: str = "standard"
    epsilon: float = 1e-2
    q0: float = 1e-2
    qtau: float = 2.302
    qmin: float = 1e-6
    eta0: float = 1e-2
    etatau: float = 2.302
    etamax: float = 1.0
    lambda0: float = 0.96
    nu: float = 0.9995
    energy_fraction: float = 1.0
    force_fraction: float = 0.0041
    forces_per_update: int = 1
    force_update_weight: float = 10.0
    energy_threshold: float = 0.0
    force_threshold: float = 1.0
    threshold_trials: int = 3
    force_selection: str = "structure"

    def __post_init__(self):
        if self.force_selection not in ("structure", "components"):
            raise ValueError(
                "kalman force_selection must be 'structure' or 'components', "
                f"got {self.force_selection!r}"
            )


class KalmanFilter:
    """Extended Kalman filter on a flat weight vector (equations in the module docstring).

    ``qtau`` and ``etatau`` here are per *update*. ``update(w, xi, H)``
    changes ``w`` in place and returns it; ``xi`` (m,), ``H`` (N_w, m).
    P is stored in its upper triangle (Fortran order, for BLAS).
    """

    def __init__(self, n_params: int, kind: str = "standard", epsilon: float = 1e-2,
                 q0: float = 1e-2, qtau: float = 0.0, qmin: float = 1e-6, eta0: float = 1e-2,
                 etatau: float = 0.0, etamax: float = 1.0, lambda0: float = 0.96,
                 nu: float = 0.9995):  # fmt: skip
        if kind not in ("standard", "fading_memory"):
            raise ValueError(
                f"Kalman filter kind must be 'standard' or 'fading_memory', got {kind!r}"
            )
        if epsilon <= 0:
            raise ValueError(f"epsilon must be > 0, got {epsilon}")
        self.kind = kind
        self.epsilon, self.q0, self.qtau, self.qmin = epsilon, q0, qtau, qmin
        self.eta0, self.etatau, self.etamax = eta0, etatau, etamax
        self.nu = nu
        self.P = np.asfortranarray(np.eye(n_params) / epsilon)  # P_0 = I / epsilon
        self.q = q0
        self.eta = eta0
        self.lam = lambda0
        self.n_updates = 0

    @property
    def P_full(self) -> np.ndarray:
        """P as a full symmetric matrix (a copy)."""
        return np.triu(self.P) + np.triu(self.P, 1).T

    def update(self, w: np.ndarray, xi, H) -> np.ndarray:
        xi = np.atleast_1d(np.asarray(xi, dtype=np.float64))  # (m,)
        H = np.asarray(H, dtype=np.float64).reshape(len(w), xi.size)  # (N_w, m)
        X = blas.dsymm(1.0, self.P, H, lower=0)  # X = P H          (N_w, m)
        A = H.T @ X  # A = H^T P H                                    (m, m)
        if self.kind == "standard":
            if self.eta < self.etamax:
                self.eta *= np.exp(self.etatau)  # eta(n) = eta(0) e^{n tau}
            A += np.eye(xi.size) / self.eta  # R = I / eta
        else:
            A += self.lam * np.eye(xi.size)  # R = lambda I
        L, _ = cho_factor(A, lower=True)  # A = L L^T
        Y = solve_triangular(L, X.T, lower=True).T  # Y = X L^{-T}, K X^T = Y Y^T
        K = solve_triangular(L, Y.T, lower=True, trans="T").T  # K = X A^{-1} = Y L^{-1}
        self.P = blas.dsyrk(-1.0, Y, beta=1.0, c=self.P, lower=0, overwrite_c=1)  # P -= K X^T
        if self.kind == "fading_memory":
            self.P /= self.lam  # P <- P / lambda
        self.P[np.diag_indices_from(self.P)] += self.q  # P <- P + q I
        w += K @ xi  # w <- w + K xi
        if self.q > self.qmin:
            self.q *= np.exp(-self.qtau)  # q(n) = q(0) e^{-n tau}
        if self.kind == "fading_memory":
            self.lam = self.nu * self.lam + 1.0 - self.nu  # lambda_k = nu lambda_{k-1} + 1 - nu
        self.n_updates += 1
        return w

    def state_dict(self) -> dict:
        return {"kind": "kalman", "filter_kind": self.kind, "P": self.P, "q": self.q,
                "eta": self.eta, "lam": self.lam, "n_updates": self.n_updates}  # fmt: skip

    def load_state_dict(self, state: dict) -> None:
        self.P = np.asfortranarray(np.array(state["P"], dtype=float))
        self.q, self.eta, self.lam = float(state["q"]), float(state["eta"]), float(state["lam"])
        self.n_updates = int(state["n_updates"])


__all__ = ["Adam", "KalmanFilter", "KalmanSettings", "lbfgs"]
