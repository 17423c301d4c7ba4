"""The ``overlay`` command: a thin shell over the documented Python API.

Each subcommand lives in ``overlay/commands/<name>.py`` and exposes two functions:

``register(subparsers)``
    adds its ``argparse`` parser (and sets ``func=run`` on it);
``run(args) -> int``
    does the job and returns the exit status.

Command modules import only the standard library at module level, so that ``overlay --help``
and a small ``overlay simulate`` start fast; numpy, pandas and matplotlib are imported inside
``run`` where they are used.

Exit status: 0 success, 1 the job ran and failed, 2 bad input. Bad input (an
:class:`~overlay.errors.InputError`) prints one line on stderr and no traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

from overlay.errors import InputError, JobFailed

#: Subcommands in the order ``--help`` lists them.
COMMANDS = ("plan", "cost", "simulate", "study", "backtest", "gateway", "paper")


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors in one line with status 2."""

    def error(self, message: str) -> None:  # pragma: no cover - exercised through main
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="overlay", description="Derivatives overlay execution engine.")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output on stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"overlay.commands.{name}")
        except ModuleNotFoundError as exc:  # a command not built yet
            if exc.name != f"overlay.commands.{name}":
                raise
            continue
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING - 10 * min(args.verbose, 2),
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except InputError as exc:
        print(f"overlay {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except JobFailed as exc:
        print(f"overlay {args.command}: failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"overlay {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (``overlay plan ... | head``): stop quietly, as other tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
