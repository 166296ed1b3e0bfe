"""The cost of AIMD: power-law fit, MD wall times, and a real (tiny) AIMD run."""

import numpy as np
import pytest
from ase.calculators.emt import EMT

from nnp_ref.course import aimd_cost
from nnp_ref.data.labellers import ASELabeller


def test_power_law_fit_recovers_exponent_and_prefactor():
    n = np.array([1.0, 2.0, 3.0, 4.0])
    a, p = aimd_cost.fit_power_law(n, 0.7 * n**2.6)
    assert a == pytest.approx(0.7, rel=1e-10) and p == pytest.approx(2.6, rel=1e-10)
    with pytest.raises(ValueError, match="at least two sizes"):
        aimd_cost.fit_power_law([1.0], [2.0])


def test_md_wall_time_counts_steps():
    # 1 ps at 0.5 fs is 2000 steps; 1 ns is 2 million
    assert aimd_cost.md_wall_time_s(1.0, aimd_cost.PS_FS) == pytest.approx(2000.0)
    assert aimd_cost.md_wall_time_s(185.0, aimd_cost.NS_FS) / aimd_cost.YEAR == pytest.approx(
        11.72, abs=0.01
    )  # the 185 s per (H2O)_8 step: 11.7 years per ns
    assert aimd_cost.format_duration(185.0 * 2000) == "4.28 days"
    assert aimd_cost.format_duration(6e-3) == "6 ms"
    assert aimd_cost.format_duration(5e-6) == "5 µs"


def test_measure_costs_marks_extrapolated_sizes():
    table = aimd_cost.measure_costs(ASELabeller(EMT()), EMT(), n_max=3, max_live_n=2,
                                    progress=False)  # fmt: skip
    assert table.live_k.tolist() == [True, True, False]
    a, p = table.fit
    assert table.t_dft_k[2] == pytest.approx(a * 3**p)
    rows = table.rows()
    assert [r["dft_measured"] for r in rows] == [True, True, False]
    assert rows[0]["dft_1ns_s"] == pytest.approx(1e6 * rows[0]["dft_1ps_s"] / 1e3)
    fig = aimd_cost.plot_costs(table)
    assert len(fig.axes) == 2


def test_aimd_with_pyscf_forces_conserves_energy():
    """PySCF forces drive velocity Verlet: E_pot + E_kin is conserved (forces = -dE/dR)."""
    pytest.importorskip("pyscf")
    from nnp_ref.data.pyscf_labeller import PySCFLabeller

    water = aimd_cost.water_cluster(1)
    run = aimd_cost.aimd_vs_nnp(
        water, PySCFLabeller("hf/sto-3g", conv_tol=1e-10), EMT(), steps=6, dt_fs=0.5,
        temperature_K=300.0,
    )  # fmt: skip
    aimd = run["aimd"]
    total = aimd["E_pot"] + aimd["E_kin"]
    swing = np.ptp(aimd["E_pot"])
    assert swing > 0.02  # eV: the molecule vibrates, energy flows between the terms
    # velocity Verlet at dt = 0.5 fs (O-H period ~9 fs) keeps E_tot to a few % of the swing;
    # a wrong sign or unit of the forces would not conserve it at all
    assert np.ptp(total) < 0.1 * swing
    assert run["nnp"]["E_pot"].shape == (7,) and run["nnp_on_aimd_path"].shape == (7,)
    # the "NNP on the AIMD path" is the other model evaluated on the same geometries
    ref = water.copy()
    ref.positions = aimd["R_tnc"][3]
    ref.calc = EMT()
    assert run["nnp_on_aimd_path"][3] == pytest.approx(ref.get_potential_energy(), abs=1e-10)
    assert run["s_per_step"]["dft"] > 0 and run["s_per_step"]["nnp"] > 0
    assert len(aimd_cost.plot_aimd_vs_nnp(run).axes) == 2
