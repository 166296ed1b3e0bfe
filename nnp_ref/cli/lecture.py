"""``nnp-ref lecture``: one lecture figure drawn with nnp_ref's own code."""

from __future__ import annotations

from nnp_ref.cli.common import save_figure, say

NAME = "lecture"
HELP = "draw a lecture figure"
DESCRIPTION = """\
Draw one lecture figure with nnp_ref's own code.
Without NAME (or with --list): list the figures."""


def add_arguments(p) -> None:
    p.add_argument("name", nargs="?", help="figure name (see --list)")
    p.add_argument(
        "--out", default=None, metavar="FILE", help="output file (default lecture_NAME.png)"
    )
    p.add_argument("--list", action="store_true", help="list the lecture figures")


def run(args) -> int:
    import time

    from nnp_ref.course.lectures import LECTURES, make_figure

    if args.list or args.name is None:
        width = max(len(name) for name in LECTURES)
        print("lecture figures (nnp-ref lecture NAME [--out FILE]):")
        for lecture in LECTURES.values():
            print(f"  {lecture.name:{width}s}  {lecture.description}")
        return 0
    start = time.perf_counter()
    fig = make_figure(args.name)
    out = args.out or f"lecture_{args.name}.png"
    save_figure(fig, out)
    say(args, f"{args.name}: {out} ({time.perf_counter() - start:.1f} s)")
    return 0
