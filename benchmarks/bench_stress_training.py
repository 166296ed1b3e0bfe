"""Stress training on EMT copper: stress RMSE and the equation of state with and without w_S.

Data: 2x2x1 conventional fcc Cu cells (16 atoms), each with a random
symmetric strain (|eps_ab| <= 3 %), a random isotropic lattice scale
(a = 3.42-3.78 Å, around EMT's 3.59 Å) and a 0.05 Å rattle, labelled by ASE's
EMT (energy, forces, stress); seed 0 for training, seed 1 for the test set.
The same potential (same seed, symmetry functions, 2x10 tanh networks) is
trained with L-BFGS for the same number of epochs for each ``stress_weight``
(default 0, 1, 10; 0 = energies and forces only; the stress error is
normalised by the RMS reference stress). Prints

- test RMSEs of energies (meV/atom), forces (meV/Å) and stress (meV/Å^3, GPa);
- the energy-volume curve of perfect fcc Cu (4-atom cell, a = 3.40-3.85 Å)
  against EMT's: RMSE of E/atom over the curve, equilibrium volume and bulk
  modulus from ASE's Birch-Murnaghan fit, and the RMSE of the pressure
  P = -tr(sigma)/3 along the curve.

    python benchmarks/bench_stress_training.py [--n-train 80] [--epochs 300]
                                               [--stress-weights 0,1,10]
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from ase.build import bulk  # noqa: E402
from ase.calculators.emt import EMT  # noqa: E402
from ase.calculators.singlepoint import SinglePointCalculator  # noqa: E402
from ase.eos import EquationOfState  # noqa: E402
from ase.units import GPa  # noqa: E402

from nnp_ref.model.potential import evaluate_atoms  # noqa: E402
from nnp_ref.training.trainer import Trainer, TrainingConfig, build_potential  # noqa: E402


def strained_copper(n, seed, strain=0.03, a_range=(3.42, 3.78)):
    """n labelled 16-atom Cu cells with random strain, lattice scale and rattle."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        atoms = bulk("Cu", "fcc", a=rng.uniform(*a_range), cubic=True) * (2, 2, 1)
        eps = rng.uniform(-strain, strain, (3, 3))
        atoms.set_cell(atoms.cell.array @ (np.eye(3) + 0.5 * (eps + eps.T)), scale_atoms=True)
        atoms.rattle(0.05, seed=int(rng.integers(2**31)))
        atoms.calc = EMT()
        labelled = atoms.copy()
        labelled.calc = SinglePointCalculator(
            labelled,
            energy=atoms.get_potential_energy(),
            forces=atoms.get_forces(),
            stress=atoms.get_stress(),
        )
        out.append(labelled)
    return out


def test_errors(potential, structures):
    """RMSEs of E/atom (eV), force components (eV/Å), stress components (eV/Å^3)."""
    dE, dF, dS = [], [], []
    for atoms in structures:
        r = evaluate_atoms(potential, atoms, extrapolation="ignore")
        dE.append((r.energy - atoms.get_potential_energy()) / len(atoms))
        dF.append((r.forces_nc - atoms.get_forces()).ravel())
        dS.append((r.stress_cc - atoms.get_stress(voigt=False)).ravel())
    rmse = [float(np.sqrt(np.mean(np.concatenate([np.atleast_1d(x) for x in d]) ** 2)))
            for d in (dE, dF, dS)]  # fmt: skip
    return rmse


def eos(energies_of_cell, a_grid):
    """(V/atom, E/atom, P) along the fcc lattice constants ``a_grid``."""
    V, E, P = [], [], []
    for a in a_grid:
        atoms = bulk("Cu", "fcc", a=a, cubic=True)
        energy, stress_cc = energies_of_cell(atoms)
        V.append(atoms.get_volume() / len(atoms))
        E.append(energy / len(atoms))
        P.append(-np.trace(stress_cc) / 3.0)
    return np.array(V), np.array(E), np.array(P)


def emt_cell(atoms):
    atoms.calc = EMT()
    return atoms.get_potential_energy(), atoms.get_stress(voigt=False)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-train", type=int, default=80)
    parser.add_argument("--n-test", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--stress-weights", default="0,1,10", help="comma-separated w_S")
    args = parser.parse_args()

    train = strained_copper(args.n_train, seed=0)
    test = strained_copper(args.n_test, seed=1)
    sf = dict(rc=5.0, n_radial=6, n_angular=2, zetas=(1.0, 4.0))
    potential, descriptors = build_potential(train, hidden=(10, 10), seed=0, progress=False, **sf)
    a_grid = np.linspace(3.40, 3.85, 19)
    V_ref, E_ref, P_ref = eos(emt_cell, a_grid)
    fit_ref = EquationOfState(V_ref, E_ref, eos="birchmurnaghan").fit()
    print(f"{args.n_train} training / {args.n_test} test structures of 16 Cu atoms, "
          f"L-BFGS {args.epochs} epochs, 2x10 tanh, {len(potential.symmetry_functions['Cu'])} "
          "symmetry functions")  # fmt: skip
    print(f"EMT: V0 = {fit_ref[0]:.4f} Å^3/atom, B = {fit_ref[2] / GPa:.1f} GPa")
    header = (f"{'stress_weight':>13} {'E meV/at':>9} {'F meV/Å':>8} {'S meV/Å3':>9} "
              f"{'S GPa':>7} {'EOS E meV/at':>12} {'P GPa':>7} {'V0 Å3':>8} {'B GPa':>7} "
              f"{'time s':>7}")  # fmt: skip
    rows = []
    for w_S in (float(x) for x in args.stress_weights.split(",")):
        config = TrainingConfig(optimizer="lbfgs", epochs=args.epochs, stress_weight=w_S,
                                progress=False, seed=0)  # fmt: skip
        t0 = time.perf_counter()
        result = Trainer(potential, train, None, config, train_descriptors=descriptors).fit()
        seconds = time.perf_counter() - t0
        model = result.final_potential
        rmse_E, rmse_F, rmse_S = test_errors(model, test)

        def nnp_cell(atoms, model=model):
            r = evaluate_atoms(model, atoms, extrapolation="ignore")
            return r.energy, r.stress_cc

        V, E, P = eos(nnp_cell, a_grid)
        fit = EquationOfState(V, E, eos="birchmurnaghan").fit()
        shift = np.mean(E - E_ref)  # the curve's shape, not its offset
        rows.append(
            f"{w_S:13g} {1e3 * rmse_E:9.2f} {1e3 * rmse_F:8.1f} {1e3 * rmse_S:9.3f} "
            f"{rmse_S / GPa:7.3f} {1e3 * np.sqrt(np.mean((E - E_ref - shift) ** 2)):12.2f} "
            f"{np.sqrt(np.mean((P - P_ref) ** 2)) / GPa:7.3f} {fit[0]:8.4f} "
            f"{fit[2] / GPa:7.1f} {seconds:7.1f}"
        )  # fmt: skip
    print(header)
    for row in rows:
        print(row)
    print("EOS E: RMSE of E/atom along the curve after removing the mean offset; "
          "P: RMSE of the pressure -tr(sigma)/3 along the curve.")  # fmt: skip


if __name__ == "__main__":
    main()
