"""2G against 4G on n2p2's carbon-chain example (C10H2 and C10H3+): RMSEs after training.

Both potentials share the symmetry functions, scaling, energy offsets and
network sizes of Carbon_chain_4G's input.nn and the same 90/10 split; both
are trained with L-BFGS for the same number of iterations (4G: per stage).
Prints RMSEs of energies (meV/atom), forces (meV/Å) and charges (me) on the
training and the test set, and the time per stage.

    python benchmarks/bench_4g_carbon_chain.py [iterations] [force_weight]
"""

import sys
import time

from nnp_ref.course.four_generations import carbon_chain_experiment


def main():
    iterations = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    force_weight = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
    t0 = time.perf_counter()
    out = carbon_chain_experiment(iterations, force_weight, seed=0, progress=False)
    wall = time.perf_counter() - t0
    print(f"carbon chain 2G vs 4G, {iterations} L-BFGS iterations, force weight {force_weight}")
    print(f"{'model':6s} {'set':14s} {'E (meV/atom)':>13s} {'F (meV/Å)':>10s} {'Q (me)':>8s}")
    for model in ("2G", "4G"):
        for part in ("train", "test", "test neutral", "test charged"):
            e = out[model][part]
            E, F, Q = (1e3 * e[k] for k in ("rmse_energy", "rmse_force", "rmse_charge"))
            print(f"{model:6s} {part:14s} {E:13.2f} {F:10.1f} {Q:8.2f}")
    for part in ("train", "test"):
        ratio_E = out["2G"][part]["rmse_energy"] / out["4G"][part]["rmse_energy"]
        ratio_F = out["2G"][part]["rmse_force"] / out["4G"][part]["rmse_force"]
        print(f"{part}: RMSE 2G / 4G  energies {ratio_E:.2f}, forces {ratio_F:.2f}")
    print(f"wall time {wall:.0f} s (both potentials, incl. Numba compilation)")


if __name__ == "__main__":
    main()
