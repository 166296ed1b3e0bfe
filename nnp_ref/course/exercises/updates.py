r"""Exercises 8-9: a velocity-Verlet step and one Kalman-filter update.

Here the trusted answers are nnp_ref's own, tested implementations
(``nnp_ref.dynamics.md.verlet_step``, checked against ASE's
VelocityVerlet; ``nnp_ref.training.optimizers.KalmanFilter``, checked
against n2p2), and the grader also checks what makes Verlet Verlet: the
step run backwards (momenta reversed) returns to the start.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from ase import units

from nnp_ref.course.grading import Exercise

# ---------------------------------------------------------------------------
# 8. Velocity Verlet
# ---------------------------------------------------------------------------

DT = 5.0 * units.fs  # ASE time units


@lru_cache(maxsize=1)
def argon_cluster():
    """A 7-atom Lennard-Jones argon cluster (ASE's LennardJones), rattled, with momenta at 60 K."""
    from ase.calculators.lj import LennardJones
    from ase.cluster import Icosahedron

    from nnp_ref.dynamics.md import maxwell_boltzmann_momenta

    atoms = Icosahedron("Ar", 2, latticeconstant=5.26)[:7]
    atoms.rattle(0.05, seed=8)
    atoms.calc = LennardJones(sigma=3.4, epsilon=0.0104, rc=10.0, smooth=True)
    m_n = atoms.get_masses()
    P_nc = maxwell_boltzmann_momenta(m_n, 60.0, rng=8)
    return atoms, m_n, P_nc


def lj_forces(R_nc):
    """(E_pot, F_nc) of the argon cluster at positions R_nc (leaves the cluster unchanged)."""
    atoms = argon_cluster()[0].copy()
    atoms.calc = argon_cluster()[0].calc
    atoms.positions = R_nc
    return float(atoms.get_potential_energy()), np.array(atoms.get_forces())


def verlet_step(R_nc, P_nc, F_nc, m_n, dt, forces):
    r"""One velocity-Verlet step; returns (R(t+dt), P(t+dt), F(t+dt)).

    P(t + dt/2) = P(t) + dt/2 F(t)                 half kick
    R(t + dt)   = R(t) + dt P(t + dt/2) / m        drift
    F(t + dt)   = forces(R(t + dt))                new forces (E is not needed)
    P(t + dt)   = P(t + dt/2) + dt/2 F(t + dt)     half kick
    """
    m_n1 = m_n[:, None]  # (n, 1): broadcasts over x, y, z
    P_half = P_nc + 0.5 * dt * F_nc
    R_new = R_nc + dt * P_half / m_n1
    _, F_new = forces(R_new)
    P_new = P_half + 0.5 * dt * F_new
    return R_new, P_new, F_new


def _start():
    atoms, m_n, P_nc = argon_cluster()
    R_nc = atoms.positions.copy()
    _, F_nc = lj_forces(R_nc)
    return R_nc, P_nc.copy(), F_nc, m_n.copy()


def _run_verlet(fn):
    R_nc, P_nc, F_nc, m_n = _start()
    R_new, P_new, F_new = fn(R_nc, P_nc, F_nc, m_n, DT, lj_forces)
    # time reversal: reverse the momenta, step again, reverse again -> the start
    R_back, P_back, _ = fn(
        np.asarray(R_new, dtype=float), -np.asarray(P_new, dtype=float), F_new, m_n, DT, lj_forces
    )
    return R_new, P_new, F_new, np.asarray(R_back) - R_nc


def _expected_verlet():
    from nnp_ref.dynamics.md import MDState
    from nnp_ref.dynamics.md import verlet_step as reference

    R_nc, P_nc, F_nc, m_n = _start()
    E_pot, _ = lj_forces(R_nc)
    new = reference(MDState(R_nc, P_nc, m_n, F_nc, E_pot), DT / units.fs, lj_forces)
    return new.R_nc, new.P_nc, new.F_nc, np.zeros_like(R_nc)


def _verlet_variant(R_nc, P_nc, F_nc, m_n, dt, forces, *, kind):
    """verlet_step with one rule changed (for the mistakes)."""
    m_n1 = m_n[:, None]
    if kind == "euler":
        R_new = R_nc + dt * P_nc / m_n1
        _, F_new = forces(R_new)
        return R_new, P_nc + dt * F_nc, F_new
    kick = 1.0 if kind == "full kick" else 0.5
    P_half = P_nc + kick * dt * F_nc
    R_new = R_nc + dt * (P_half if kind == "no mass" else P_half / m_n1)
    _, F_new = forces(R_new)
    if kind == "old forces":
        return R_new, P_half + 0.5 * dt * F_nc, F_new
    if kind == "stale F":
        return R_new, P_half + 0.5 * dt * F_new, F_nc
    return R_new, P_half + kick * dt * F_new, F_new


def _vv(kind):
    def wrong(R_nc, P_nc, F_nc, m_n, dt, forces):
        return _verlet_variant(R_nc, P_nc, F_nc, m_n, dt, forces, kind=kind)

    return wrong


VERLET_EXERCISE = Exercise(
    name="verlet",
    title="one velocity-Verlet step",
    parts=("R(t+dt)", "P(t+dt)", "F(t+dt)", "R after a step back - R(t)"),
    run=_run_verlet,
    expected=_expected_verlet,
    solution=verlet_step,
    mistakes={
        "this is Euler (R += dt P/m, P += dt F(t)): not time reversible, its energy drifts": (
            _vv("euler")
        ),
        "the drift needs the velocity P/m, not the momentum P": _vv("no mass"),
        "each kick is HALF a step: P(t + dt/2) = P(t) + dt/2 F(t)": _vv("full kick"),
        "the second half kick uses the NEW forces F(t + dt)": _vv("old forces"),
        "return the new forces F(t + dt) (the next step starts with them)": _vv("stale F"),
    },
    rtol=1e-10,
    notebook="e8_velocity_verlet.ipynb",
)

# ---------------------------------------------------------------------------
# 9. One Kalman-filter update
# ---------------------------------------------------------------------------


def _kalman_problem():
    rng = np.random.default_rng(9)
    n_w, m = 6, 2
    B = rng.normal(size=(n_w, n_w))
    return {
        "w": rng.normal(size=n_w),
        "P": B @ B.T / n_w + 0.5 * np.eye(n_w),  # symmetric positive definite
        "xi": rng.normal(size=m),  # y_ref - y(w): the error of m observations
        "H": rng.normal(size=(n_w, m)),  # dy/dw
        "eta": 0.5,
    }


KALMAN = _kalman_problem()


def kalman_update(w, P, xi, H, eta):
    r"""One extended-Kalman-filter update (standard EKF, R = I/eta, no process noise).

        A = H^T P H + I/eta          (m, m)    innovation covariance
        K = P H A^{-1}               (N_w, m)  Kalman gain
        w <- w + K xi                          xi = y_ref - y(w)
        P <- P - K H^T P                       the observation shrinks the uncertainty
    Returns (w_new, P_new); solve with A instead of inverting it.
    """
    A = H.T @ P @ H + np.eye(len(xi)) / eta
    K = np.linalg.solve(A, (P @ H).T).T  # K = P H A^{-1} (A is symmetric)
    w_new = w + K @ xi
    P_new = P - K @ H.T @ P
    return w_new, P_new


def _run_kalman(fn):
    k = {key: (v.copy() if isinstance(v, np.ndarray) else v) for key, v in KALMAN.items()}
    return tuple(fn(k["w"], k["P"], k["xi"], k["H"], k["eta"]))


def _expected_kalman():
    from nnp_ref.training.optimizers import KalmanFilter

    k = KALMAN
    kf = KalmanFilter(len(k["w"]), "standard", q0=0.0, qtau=0.0, eta0=k["eta"], etatau=0.0)
    kf.P = np.asfortranarray(k["P"].copy())
    w_new = kf.update(k["w"].copy(), k["xi"], k["H"])
    return w_new, kf.P_full


def _kalman_variant(w, P, xi, H, eta, *, R="right", sign=1.0, update_P=True, P_sign=-1.0):
    """kalman_update with one rule changed (for the mistakes)."""
    noise = {"right": 1.0 / eta, "none": 0.0, "eta": eta}[R]
    A = H.T @ P @ H + noise * np.eye(len(xi))
    K = np.linalg.solve(A, (P @ H).T).T
    return w + sign * K @ xi, (P + P_sign * K @ H.T @ P) if update_P else P.copy()


def _kv(**flags):
    def wrong(w, P, xi, H, eta):
        return _kalman_variant(w, P, xi, H, eta, **flags)

    return wrong


KALMAN_EXERCISE = Exercise(
    name="kalman",
    title="one Kalman-filter update",
    parts=("w_new", "P_new"),
    run=_run_kalman,
    expected=_expected_kalman,
    solution=kalman_update,
    mistakes={
        "the weights move the wrong way: xi = y_ref - y(w), so w <- w + K xi": _kv(sign=-1.0),
        "the measurement noise R = I/eta is missing from A = H^T P H + R": _kv(R="none"),
        "R is I/eta, not eta I": _kv(R="eta"),
        "P is not updated: P <- P - K H^T P": _kv(update_P=False),
        "P grows instead of shrinking: P <- P MINUS K H^T P": _kv(P_sign=1.0),
    },
    rtol=1e-10,
    notebook="e9_kalman_update.ipynb",
)

__all__ = [
    "KALMAN_EXERCISE",
    "VERLET_EXERCISE",
    "argon_cluster",
    "kalman_update",
    "lj_forces",
    "verlet_step",
]
