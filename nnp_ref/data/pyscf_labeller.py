r"""PySCF as a labeller: Hartree-Fock and Kohn-Sham DFT energies and forces.

A method is one string ``"functional/basis"``: ``"hf/sto-3g"``,
``"pbe/def2-svp"``, ``"b3lyp/6-31g*"``; ``hf`` selects Hartree-Fock, any
other name is a libxc/XCFun functional that PySCF knows. Closed shells
(``spin == 0``) run restricted (RHF/RKS), open shells unrestricted
(UHF/UKS); ``restricted=False`` forces UHF/UKS. ``spin`` is PySCF's
2S = N_alpha - N_beta.

Forces are minus the nuclear gradient of the SCF energy (Hellmann-Feynman
plus Pulay terms, computed analytically by PySCF's ``nuc_grad_method``):

    E [eV]    = E [Hartree] * Hartree
    F_ic [eV/Å] = -dE/dR_ic [Hartree/Bohr] * Hartree / Bohr

with ASE's CODATA constants (``ase.units.Hartree``, ``ase.units.Bohr``), so
the conversion happens exactly once, here.

Optional: ``density_fit=True`` (RI-J/K with PySCF's default auxiliary
basis: 3-5x faster for double-zeta bases at errors of ~1e-5 Hartree),
``dispersion="d3bj"`` / ``"d4"`` (through ``pyscf.dispersion``, DFT-D3/D4
added to energy and gradient).

Periodic cells (``atoms.pbc`` all True) go to ``pyscf.pbc`` at the Gamma
point with GTH pseudopotentials and the GTH basis named in the method
(``"pbe/gth-dzvp"``) and the multigrid integrator (PySCF's periodic GGA
gradients need it). This path is teaching-grade: small boxes, no k-points,
plane-wave cutoff ``pbc_ke_cutoff`` (Hartree) and no convergence study.

References
- Q. Sun et al., "Recent developments in the PySCF program package",
  J. Chem. Phys. 153, 024109 (2020), doi:10.1063/5.0006074.
- P. Pulay, Mol. Phys. 17, 197 (1969) (analytic SCF gradients).
"""

from __future__ import annotations

import time
import warnings

import numpy as np
from ase import Atoms, units

from nnp_ref.data.labellers import Label, LabelError, check_geometry

HARTREE_EV = units.Hartree  # eV per Hartree
HARTREE_PER_BOHR_EV_PER_A = units.Hartree / units.Bohr  # (eV/Å) per (Hartree/Bohr)


def parse_method(method: str) -> tuple[str, str]:
    """``"pbe/def2-svp"`` -> ``("pbe", "def2-svp")`` (lower case, stripped)."""
    parts = [p.strip() for p in str(method).split("/")]
    if len(parts) != 2 or not all(parts):
        raise ValueError(
            f"method {method!r} is not 'functional/basis' (e.g. 'pbe/def2-svp', 'hf/sto-3g')"
        )
    return parts[0].lower(), parts[1].lower()


def check_functional(xc: str) -> None:
    """Raise ``ValueError`` if PySCF does not know the functional ``xc``."""
    if xc == "hf":
        return
    from pyscf.dft import libxc

    try:
        libxc.parse_xc(xc)
    except (KeyError, ValueError, NotImplementedError) as err:
        raise ValueError(f"unknown functional {xc!r} ({err})") from None


def basis_has_element(basis: str, symbol: str) -> bool:
    """Whether PySCF's basis ``basis`` defines element ``symbol`` (``ValueError`` if unknown)."""
    from pyscf import gto
    from pyscf.lib.exceptions import BasisNotFoundError

    with warnings.catch_warnings():  # PySCF warns before raising for unknown names
        warnings.simplefilter("ignore")
        try:
            return bool(gto.basis.load(basis, symbol))
        except BasisNotFoundError as err:
            if "Unknown basis" in str(err):
                raise ValueError(f"unknown basis {basis!r}") from None
            return False
        except (KeyError, RuntimeError):
            return False


def electron_count(atoms: Atoms, charge: int) -> int:
    """Number of electrons N = sum(Z) - charge (all-electron)."""
    return int(atoms.numbers.sum()) - int(charge)


def check_charge_spin(n_electrons: int, spin: int) -> str | None:
    """Why (charge, spin) is impossible, or None: need N >= 0, |2S| <= N, N - 2S even."""
    if n_electrons < 0:
        return f"{n_electrons} electrons"
    if abs(spin) > n_electrons:
        return f"spin 2S={spin} exceeds the {n_electrons} electrons"
    if (n_electrons - spin) % 2:
        return f"{n_electrons} electrons cannot have 2S={spin} (parity)"
    return None


class PySCFLabeller:
    """Energies and forces from PySCF (HF or KS-DFT), molecules or Gamma-point cells.

    Parameters
    ----------
    method: ``"functional/basis"``, e.g. ``"pbe/def2-svp"``, ``"hf/sto-3g"``.
    charge, spin: total charge and 2S (PySCF convention); the same for every
        structure unless a structure sets ``atoms.info["charge"]`` / ``["spin"]``.
    restricted: None (restricted for spin 0, else unrestricted) or a bool.
    conv_tol, max_cycle: SCF energy convergence (Hartree) and iteration limit.
    grid_level: DFT integration grid level (PySCF's 0-9).
    density_fit: use RI for the Coulomb/exchange integrals.
    dispersion: None, ``"d3bj"``, ``"d3zero"``, ``"d4"`` ... (``pyscf.dispersion``).
    threads: OpenMP threads PySCF may use in each call (None: PySCF's default).
    pbc_ke_cutoff: kinetic-energy cutoff (Hartree) of the periodic path.
    """

    code = "pyscf"

    def __init__(
        self,
        method: str,
        charge: int = 0,
        spin: int = 0,
        restricted: bool | None = None,
        conv_tol: float = 1e-9,
        max_cycle: int = 100,
        grid_level: int = 3,
        density_fit: bool = False,
        dispersion: str | None = None,
        threads: int | None = None,
        pbc_ke_cutoff: float = 200.0,
    ):
        self.method = method
        self.xc, self.basis = parse_method(method)
        check_functional(self.xc)
        basis_has_element(self.basis, "H")  # raises for an unknown basis name
        self.charge, self.spin, self.restricted = int(charge), int(spin), restricted
        self.conv_tol, self.max_cycle, self.grid_level = conv_tol, max_cycle, grid_level
        self.density_fit, self.dispersion = bool(density_fit), dispersion
        self.threads, self.pbc_ke_cutoff = threads, pbc_ke_cutoff

    @property
    def identity(self) -> str:
        """Every setting that changes the numbers (part of the database key)."""
        parts = [f"pyscf:{self.xc}/{self.basis}", f"charge={self.charge}", f"spin={self.spin}"]
        if self.restricted is not None:
            parts.append(f"restricted={self.restricted}")
        if self.xc != "hf":
            parts.append(f"grid={self.grid_level}")
        if self.density_fit:
            parts.append("df")
        if self.dispersion:
            parts.append(f"disp={self.dispersion}")
        parts.append(f"conv_tol={self.conv_tol:g}")
        return ":".join(parts)

    def _charge_spin(self, atoms: Atoms) -> tuple[int, int]:
        return int(atoms.info.get("charge", self.charge)), int(atoms.info.get("spin", self.spin))

    def check(self, atoms: Atoms, name: str) -> None:
        """Cheap checks before any SCF: geometry, basis coverage, charge/spin."""
        check_geometry(atoms, name)
        periodic = np.any(atoms.pbc)
        if periodic and not np.all(atoms.pbc):
            raise ValueError(f"{name}: PySCF needs pbc all True or all False, got {atoms.pbc}")
        if periodic and not self.basis.startswith("gth"):
            raise ValueError(f"{name} is periodic: use a GTH basis (e.g. 'pbe/gth-dzvp')")
        for symbol in sorted(set(atoms.get_chemical_symbols())):
            if not basis_has_element(self.basis, symbol):
                raise ValueError(f"{name}: basis {self.basis!r} has no functions for {symbol}")
        charge, spin = self._charge_spin(atoms)
        if not periodic:  # GTH pseudopotentials change the electron count; PySCF checks those
            why = check_charge_spin(electron_count(atoms, charge), spin)
            if why:
                raise ValueError(f"{name}: impossible charge={charge}, spin={spin}: {why}")

    def __call__(self, atoms: Atoms) -> Label:
        """Run the SCF and the gradient; raise ``LabelError`` if the SCF fails."""
        from pyscf import lib

        if self.threads is not None:
            lib.num_threads(self.threads)
        start = time.perf_counter()
        mf = self._scf(atoms)
        try:
            e_hartree = float(mf.kernel())
        except Exception as err:  # PySCF raises many types from deep inside
            raise LabelError(f"SCF raised {type(err).__name__}: {err}") from None
        cycles = int(getattr(mf, "cycles", -1))
        if not mf.converged:
            raise LabelError(f"SCF not converged in {self.max_cycle} cycles")
        try:
            grad_ha_bohr = np.asarray(mf.nuc_grad_method().kernel(), dtype=float)
        except Exception as err:
            raise LabelError(f"gradient raised {type(err).__name__}: {err}") from None
        wall = time.perf_counter() - start
        energy = e_hartree * HARTREE_EV
        forces = -grad_ha_bohr * HARTREE_PER_BOHR_EV_PER_A
        if not (np.isfinite(energy) and np.all(np.isfinite(forces))):
            raise LabelError("PySCF returned NaN/inf")
        return Label(energy, forces, self._provenance(mf, cycles, wall))

    def _provenance(self, mf, cycles: int, wall: float) -> dict:
        import pyscf

        return {
            "method": self.method,
            "identity": self.identity,
            "code": self.code,
            "code_version": pyscf.__version__,
            "scf_type": type(mf).__name__,
            "xc": self.xc,
            "basis": self.basis,
            "scf_cycles": cycles,
            "converged": bool(mf.converged),
            "wall_time_s": wall,
        }

    def _scf(self, atoms: Atoms):
        """The PySCF mean-field object for ``atoms`` (not yet run)."""
        charge, spin = self._charge_spin(atoms)
        periodic = bool(np.all(atoms.pbc))
        atom = list(zip(atoms.get_chemical_symbols(), atoms.positions.tolist()))
        restricted = (spin == 0) if self.restricted is None else self.restricted
        if periodic:
            mf = self._pbc_scf(atoms, atom, charge, spin, restricted)
        else:
            from pyscf import dft, gto, scf

            mol = gto.M(
                atom=atom, basis=self.basis, unit="Angstrom", charge=charge, spin=spin, verbose=0
            )
            if self.xc == "hf":
                mf = scf.RHF(mol) if restricted else scf.UHF(mol)
            else:
                mf = dft.RKS(mol) if restricted else dft.UKS(mol)
            if self.density_fit:
                mf = mf.density_fit()
        if self.xc != "hf":
            mf.xc = self.xc
            if not periodic:
                mf.grids.level = self.grid_level
        if self.dispersion:
            mf.disp = self.dispersion
        mf.conv_tol, mf.max_cycle, mf.verbose = self.conv_tol, self.max_cycle, 0
        return mf

    def _pbc_scf(self, atoms, atom, charge, spin, restricted):
        """Gamma-point periodic SCF: GTH pseudopotential, multigrid integrator (for DFT)."""
        from pyscf.pbc import dft as pbcdft
        from pyscf.pbc import gto as pbcgto
        from pyscf.pbc import scf as pbcscf

        cell = pbcgto.M(
            atom=atom,
            a=np.asarray(atoms.cell),
            unit="Angstrom",
            basis=self.basis,
            pseudo=f"gth-{self.xc if self.xc != 'hf' else 'hf'}",
            charge=charge,
            spin=spin,
            ke_cutoff=self.pbc_ke_cutoff,
            verbose=0,
        )
        if self.xc == "hf":
            return pbcscf.RHF(cell) if restricted else pbcscf.UHF(cell)
        mf = pbcdft.RKS(cell) if restricted else pbcdft.UKS(cell)
        return mf.multigrid_numint()
