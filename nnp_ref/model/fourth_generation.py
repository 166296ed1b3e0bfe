r"""Fourth-generation HDNNP (4G-HDNNP): charge equilibration + long-range electrostatics.

T. W. Ko, J. A. Finkler, S. Goedecker and J. Behler, Nat. Commun. 12, 398
(2021); J. Behler, Chem. Rev. 121, 10037 (2021). n2p2's 4G implementation is
the authority for every convention (``Mode::calculateAtomicNeuralNetworks``,
``Mode::chargeEquilibration``, ``Mode::calculateForces``). The chain is

    1. chi_i = c_chi NN^chi_{Z_i}(a G_i + b)              electronegativity networks
    2. Q     = argmin E_Qeq(Q)  s.t. sum Q = Q_tot        charge equilibration (``qeq``)
    3. E_i   = c NN^sr_{Z_i}([a G_i + b, Q_i]) + E0_{Z_i}  short range, the charge as last input
    4. E     = sum_i E_i + E_elec(Q),  E_elec = 1/2 Q^T (C + S) Q   (``electrostatics.energy``)

(the charge enters the short-range network unscaled, as in n2p2). Forces
include the response of the charges to the positions, through chi and
through the Coulomb matrix C, by the adjoint trick (``electrostatics.adjoint``):

    g_i   = dE/dQ_i = c dNN^sr_i/dQ_i + ((C + S) Q)_i
    mu    : H mu + nu 1 = -g,  sum mu = 0                 (one extra solve)
    -F_k  = sum_i (dE_i/dG_i + mu_i dchi_i/dG_i) dG_i/dR_k  (descriptor chain rule)
            + dE_elec/dR_k|_Q + d/dR_k (mu^T C Q).

Units: eV, Å and e inside (``k_e`` = 1/(4 pi eps0) in eV Å); n2p2 files are
converted on reading (``nnp_ref.io.n2p2.fourth_generation``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from nnp_ref.descriptors.symmetry_functions import (
    Descriptors,
    SymmetryFunction,
    SymmetryFunctionSet,
)
from nnp_ref.electrostatics import energy as elec
from nnp_ref.electrostatics import qeq
from nnp_ref.electrostatics.adjoint import adjoint_charges
from nnp_ref.electrostatics.ewald import EwaldSettings
from nnp_ref.model import network as nn
from nnp_ref.model.atomic_energy import atomic_energies
from nnp_ref.model.forces import assemble_forces
from nnp_ref.model.scaling import Scaling


@dataclass
class FourthGenerationPotential:
    """Parameters of a 4G-HDNNP (plain data; evaluation is :func:`evaluate`).

    Per element e: ``symmetry_functions[e]``, ``scalings[e]``,
    ``electronegativity_networks[e]`` (n_s inputs), ``short_networks[e]``
    (n_s + 1 inputs, the charge last), ``hardness[e]`` J (eV/e^2),
    ``sigma[e]`` Gaussian width (Å), ``energy_offsets[e]`` (eV).
    ``energy_scale`` eV per short-network output unit, ``chi_scale`` eV/e per
    electronegativity-network output unit, ``k_e`` 1/(4 pi eps0) (eV Å),
    ``screening`` (r_in, r_out) in Å, ``ewald`` the Ewald settings (periodic
    structures), ``metadata`` free-form (source, units, n2p2 keywords).
    """

    elements: tuple[str, ...]
    symmetry_functions: dict[str, list[SymmetryFunction]]
    scalings: dict[str, Scaling]
    electronegativity_networks: dict[str, nn.Network]
    short_networks: dict[str, nn.Network]
    hardness: dict[str, float]
    sigma: dict[str, float]
    energy_offsets: dict[str, float]
    screening: tuple[float, float]
    ewald: EwaldSettings | None = None
    energy_scale: float = 1.0
    chi_scale: float = 1.0
    k_e: float = 1.0
    metadata: dict = field(default_factory=dict)

    def __post_init__(self):
        self.elements = tuple(self.elements)
        self.descriptor = SymmetryFunctionSet(self.symmetry_functions, self.elements)
        for e in self.elements:
            n_s = len(self.symmetry_functions[e])
            for what, table in (
                ("electronegativity network", self.electronegativity_networks),
                ("short-range network", self.short_networks),
                ("hardness", self.hardness),
                ("Gaussian width", self.sigma),
                ("scaling", self.scalings),
                ("energy offset", self.energy_offsets),
            ):
                if e not in table:
                    raise ValueError(f"4G potential: no {what} for element {e!r}")
            nn.check_network(
                self.electronegativity_networks[e], n_s, f"electronegativity network of {e}"
            )
            nn.check_network(
                self.short_networks[e], n_s + 1, f"short-range network of {e} (+1 charge input)"
            )
            if not self.hardness[e] > 0.0:
                raise ValueError(
                    f"4G potential: hardness of {e} must be positive, got {self.hardness[e]} "
                    "(the charge equilibration would have no minimum)"
                )
            if not self.sigma[e] > 0.0:
                raise ValueError(
                    f"4G potential: Gaussian width of {e} must be positive, got {self.sigma[e]}"
                )
        r_in, r_out = self.screening
        if not 0.0 <= r_in < r_out:
            raise ValueError(
                f"4G potential: screening needs 0 <= inner < outer, got {self.screening}"
            )

    @property
    def cutoff(self) -> float:
        return self.descriptor.cutoff

    def per_element(self, table) -> np.ndarray:
        """A per-element dict as an array in element order."""
        return np.array([table[e] for e in self.elements], dtype=np.float64)


@dataclass
class FourthGenerationResult:
    """Output of :func:`evaluate` (eV, Å, e).

    ``energy`` total; ``energy_short`` sum of the short-range atomic energies
    incl. offsets; ``energy_elec`` E_elec; ``energies_n`` short-range atomic
    energies incl. offsets; ``charges_n`` equilibrated Q; ``chi_n``
    electronegativities; ``lagrange`` lambda of the Qeq; ``forces_nc`` or None;
    ``dEdQ_n`` total dE/dQ; ``adjoint_n`` mu (None without forces);
    intermediate arrays for training: ``descriptors``, ``geometry``,
    ``system`` (Qeq factor), ``C_nn``, ``S_nn``, ``dchidG_ns``, ``dEdG_ns``.
    """

    energy: float
    energy_short: float
    energy_elec: float
    energies_n: np.ndarray
    charges_n: np.ndarray
    chi_n: np.ndarray
    lagrange: float
    forces_nc: np.ndarray | None
    dEdQ_n: np.ndarray
    adjoint_n: np.ndarray | None
    descriptors: Descriptors
    geometry: elec.Geometry
    system: qeq.QeqSystem
    C_nn: np.ndarray
    S_nn: np.ndarray
    dchidG_ns: np.ndarray
    dEdG_ns: np.ndarray


def periodicity(cell_cc, pbc_c) -> bool:
    """True for a fully periodic cell, False for a finite structure; mixed is an error."""
    pbc_c = np.asarray(pbc_c, dtype=bool).reshape(3)
    if pbc_c.all():
        if cell_cc is None or abs(np.linalg.det(np.asarray(cell_cc, dtype=float))) < 1e-12:
            raise ValueError("4G potential: a periodic structure needs a cell of nonzero volume")
        return True
    if pbc_c.any():
        raise ValueError(
            f"4G potential: pbc {pbc_c.tolist()} is not supported; the Ewald sum needs "
            "periodicity in all three directions or none"
        )
    return False


def electronegativities(pot: FourthGenerationPotential, desc: Descriptors, gradient=True):
    """chi_i = c_chi NN^chi(a G_i + b) and dchi_i/dG_i (raw G), per atom."""
    n = len(desc.elem_n)
    chi_n = np.zeros(n)
    dchidG_ns = np.zeros_like(desc.G_ns)
    for e, symbol in enumerate(pot.elements):
        idx = np.flatnonzero(desc.elem_n == e)
        if idx.size == 0:
            continue
        n_s = desc.n_s_e[e]
        step = atomic_energies(pot.electronegativity_networks[symbol], pot.scalings[symbol],
                               desc.G_ns[idx, :n_s], pot.chi_scale, 0.0, gradient)  # fmt: skip
        chi_n[idx] = step.E_a
        if gradient:
            dchidG_ns[idx, :n_s] = step.dEdG_as
    return chi_n, dchidG_ns


@dataclass
class ShortRange:
    """Short-range energies of one structure: ``E_n`` (incl. offsets), ``dEdG_ns`` (raw G),
    ``dEdQ_n``, and per element ``blocks`` (e, symbol, atom indices, the element's
    :class:`~nnp_ref.model.atomic_energy.AtomicEnergies`) for the weight derivatives of training."""

    E_n: np.ndarray
    dEdG_ns: np.ndarray
    dEdQ_n: np.ndarray
    blocks: list


def short_range_energies(pot: FourthGenerationPotential, desc: Descriptors, Q_n, gradient=True):
    """E_i = c NN^sr([a G_i + b, Q_i]) + E0, with dE_i/dG_i (raw G) and dE_i/dQ_i."""
    n = len(desc.elem_n)
    out = ShortRange(np.zeros(n), np.zeros_like(desc.G_ns), np.zeros(n), [])
    for e, symbol in enumerate(pot.elements):
        idx = np.flatnonzero(desc.elem_n == e)
        if idx.size == 0:
            continue
        n_s = desc.n_s_e[e]
        step = atomic_energies(pot.short_networks[symbol], pot.scalings[symbol],
                               desc.G_ns[idx, :n_s], pot.energy_scale, pot.energy_offsets[symbol],
                               gradient, extra_ax=Q_n[idx, None])  # fmt: skip
        out.E_n[idx] = step.E_a
        out.blocks.append((e, symbol, idx, step))
        if gradient:
            out.dEdG_ns[idx, :n_s] = step.dEdG_as
            out.dEdQ_n[idx] = step.dEdX_ax[:, n_s]  # the charge input is unscaled
    return out


def make_geometry(pot: FourthGenerationPotential, R_nc, elem_n, cell_cc, periodic):
    """The electrostatics' view of a structure (``electrostatics.energy.make_geometry``)."""
    if periodic and pot.ewald is None:
        raise ValueError("4G potential: periodic structure but no Ewald settings (ewald_prec)")
    return elec.make_geometry(R_nc, elem_n, pot.per_element(pot.sigma), pot.k_e, pot.screening,
                              cell_cc if periodic else None, pot.ewald)  # fmt: skip


def evaluate(
    pot: FourthGenerationPotential,
    symbols,
    R_nc,
    cell_cc=None,
    pbc_c=(False, False, False),
    total_charge: float = 0.0,
    forces: bool = True,
    where: str = "structure",
) -> FourthGenerationResult:
    """Energy, charges and forces of one structure (module docstring, steps 1-4)."""
    R_nc = np.ascontiguousarray(R_nc, dtype=np.float64)
    periodic = periodicity(cell_cc, pbc_c)
    cell = np.asarray(cell_cc, dtype=np.float64) if periodic else np.zeros((3, 3))
    pbc = np.array([periodic] * 3)
    if not np.isfinite(total_charge):
        raise ValueError(f"{where}: total charge must be finite, got {total_charge}")
    desc = pot.descriptor.compute(symbols, R_nc, cell, pbc, with_derivatives=forces)
    if len(desc.elem_n) > 1 and np.any(np.diff(desc.nl.offsets_n1) == 0):
        warnings.warn(f"{where}: atom(s) without neighbours within the cutoff", stacklevel=2)
    chi_n, dchidG_ns = electronegativities(pot, desc, forces)
    geo = make_geometry(pot, R_nc, desc.elem_n, cell, periodic)
    C_nn = elec.coulomb_matrix(geo)
    S_nn = elec.screening_matrix(geo)
    J_n = pot.per_element(pot.hardness)[desc.elem_n]
    system = qeq.factorize(qeq.qeq_matrix(C_nn, J_n), where)
    Q_n, lagrange = qeq.equilibrate(system, chi_n, total_charge)
    short = short_range_energies(pot, desc, Q_n, forces)
    E_n, dEdG_ns = short.E_n, short.dEdG_ns
    E_elec = elec.electrostatic_energy(Q_n, C_nn, S_nn)
    dEdQ_n = short.dEdQ_n + elec.energy_charge_gradient(Q_n, C_nn, S_nn)
    F_nc = mu_n = None
    if forces:
        mu_n = adjoint_charges(system, dEdQ_n)
        dEdG_total_ns = dEdG_ns + mu_n[:, None] * dchidG_ns  # short range + pseudo-energy mu.chi
        nl = desc.nl
        F_nc = assemble_forces(dEdG_total_ns, desc.dGdR_psc, desc.dGself_nsc, nl.i_p, nl.j_p)
        # dE_elec/dR|_Q + d(mu^T C Q)/dR = d[(Q/2 + mu)^T C Q]/dR + d[Q^T S Q / 2]/dR
        F_nc -= elec.coulomb_bilinear_gradient(geo, 0.5 * Q_n + mu_n, Q_n)
        F_nc -= elec.screening_bilinear_gradient(geo, 0.5 * Q_n, Q_n)
    return FourthGenerationResult(
        energy=float(E_n.sum() + E_elec),
        energy_short=float(E_n.sum()),
        energy_elec=E_elec,
        energies_n=E_n,
        charges_n=Q_n,
        chi_n=chi_n,
        lagrange=float(lagrange),
        forces_nc=F_nc,
        dEdQ_n=dEdQ_n,
        adjoint_n=mu_n,
        descriptors=desc,
        geometry=geo,
        system=system,
        C_nn=C_nn,
        S_nn=S_nn,
        dchidG_ns=dchidG_ns,
        dEdG_ns=dEdG_ns,
    )


def total_charge_of(atoms) -> float:
    """Total charge of an ``ase.Atoms``: ``atoms.info["charge"]`` (n2p2's ``charge`` line)."""
    if "charge" not in atoms.info:
        raise ValueError(
            "4G potential: the structure has no total charge (set atoms.info['charge'], "
            "n2p2's 'charge' line)"
        )
    return float(atoms.info["charge"])


def evaluate_atoms(pot: FourthGenerationPotential, atoms, **kwargs) -> FourthGenerationResult:
    """:func:`evaluate` for an ``ase.Atoms``; total charge from ``atoms.info["charge"]``."""
    return evaluate(
        pot,
        atoms.get_chemical_symbols(),
        atoms.get_positions(),
        atoms.get_cell().array,
        atoms.get_pbc(),
        total_charge=total_charge_of(atoms),
        **kwargs,
    )
