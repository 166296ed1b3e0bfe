"""The ``nnp-ref`` command: the whole HDNNP workflow from a shell.

    nnp-ref demo                      reference data -> training -> test -> MD -> report
    nnp-ref generate -o data.extxyz   label structures with a reference potential (EMT, LJ)
    nnp-ref train config.toml         train a potential from a TOML config
    nnp-ref evaluate MODEL DATA       RMSEs and a parity plot (--json for scripts)
    nnp-ref md MODEL STRUCTURE        molecular dynamics: trajectory and energy plot
    nnp-ref convert SRC DST           nnp_ref <-> n2p2 (potentials and data sets)
    nnp-ref lecture NAME              one lecture figure (``nnp-ref lecture`` lists them)

``nnp-ref COMMAND --help`` explains every option. A MODEL is an nnp_ref
model (``model.json``, or a folder holding one) or an n2p2 potential folder
(``input.nn``, ``scaling.data``, ``weights.*.data``); data sets are any
file ASE reads (extxyz, traj, ...) or n2p2's ``input.data`` (``*.data``).
n2p2 files in other units than Å/eV need ``--length-unit``/``--energy-unit``
(e.g. ``bohr`` and ``hartree`` for the RPBE-D3 water potential).

Errors are reported as one line, ``nnp-ref: error: ...``, with exit code 2
(``NNP_REF_DEBUG=1`` shows the traceback instead).

Adding a command: write ``nnp_ref/cli/<module>.py`` with ``NAME`` (the
subcommand), ``HELP`` (one line for the command list), ``DESCRIPTION``
(its ``--help`` text), ``add_arguments(parser)`` and ``run(args) -> int``,
and add the module name to :data:`COMMANDS`. Command modules import only
the standard library at the top (and ``nnp_ref.cli.common``); numerical
modules are imported inside ``run``, so every ``--help`` answers at once.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import warnings

from nnp_ref import __version__
from nnp_ref.cli.common import PROG, Formatter, Parser, add_quiet

#: Command modules of ``nnp_ref.cli``, in the order of ``nnp-ref --help``.
COMMANDS = (
    "demo",
    "generate",
    "label",
    "train",
    "active_learn",
    "evaluate",
    "md",
    "convert",
    "lecture",
)

#: Exceptions that are a user's problem (bad input, missing file): one line, exit 2.
USER_ERRORS = (ValueError, OSError, KeyError, ImportError, RuntimeError, IndexError)


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command in :data:`COMMANDS` (imports no numerical module)."""
    parser = Parser(
        prog=PROG,
        description="nnp_ref: Behler-Parrinello neural network potentials in NumPy + Numba.",
        epilog="Run 'nnp-ref COMMAND --help' for the options of a command. "
        "Start with 'nnp-ref demo'.",
        formatter_class=Formatter,
    )
    parser.add_argument("--version", action="version", version=f"nnp_ref {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        module = importlib.import_module(f"nnp_ref.cli.{name}")
        p = sub.add_parser(
            module.NAME,
            help=module.HELP,
            description=module.DESCRIPTION,
            formatter_class=Formatter,
        )
        add_quiet(p)
        module.add_arguments(p)
        p.set_defaults(run=module.run)
    return parser


def _show_warning(message, category, filename, lineno, file=None, line=None):
    print(f"{PROG}: warning: {message}", file=sys.stderr if file is None else file)


def _one_line(err: BaseException) -> str:
    text = str(err).strip()
    if isinstance(err, KeyError):
        return f"missing key {err}"
    return text.splitlines()[0] if text else type(err).__name__


def _is_user_error(err: BaseException) -> bool:
    # ASE's UnknownFileTypeError (checked by name: ASE is not imported for --help)
    return isinstance(err, USER_ERRORS) or type(err).__name__ == "UnknownFileTypeError"


def main(argv=None) -> int:
    """Entry point of ``nnp-ref``; returns the exit code (2 for errors, as argparse)."""
    args = build_parser().parse_args(argv)
    os.environ.setdefault("MPLBACKEND", "Agg")  # files only: no window, no display needed
    with warnings.catch_warnings():
        # nnp_ref's own warnings (e.g. extrapolation) are messages to the user: one line each
        warnings.filterwarnings("default", module=r"nnp_ref(\.|$)")
        warnings.showwarning = _show_warning
        try:
            return args.run(args)
        except KeyboardInterrupt:
            print(f"{PROG}: interrupted", file=sys.stderr)
            return 130
        except Exception as err:
            if os.environ.get("NNP_REF_DEBUG"):
                raise
            if _is_user_error(err):
                print(f"{PROG}: error: {_one_line(err)}", file=sys.stderr)
                return 2
            print(
                f"{PROG}: error: unexpected {type(err).__name__}: {_one_line(err)} "
                "(NNP_REF_DEBUG=1 shows the traceback; please report it)",
                file=sys.stderr,
            )
            return 1
