"""The ``overlay`` command: a thin shell over the documented Python API.

Each subcommand lives in ``overlay/commands/<name>.py`` and exposes two functions:

``register(subparsers)``
    adds its ``argparse`` parser (and sets ``func=run`` on it);
``run(args) -> int``
    does the job and returns the exit status.

Command modules import only the standard library at module level, so that ``overlay --help``
and a small ``overlay simulate`` start fast; numpy, pandas and matplotlib are imported inside
``run`` where they are used; a command line that names its subcommand builds that
subcommand's parser alone. ``--version`` (importlib.metadata) and ``--print-completion``
(shtab) import what they need only when given. The console script is :func:`entry`
(:func:`main`, then a heap frozen before the interpreter's shutdown).

Exit status: 0 success, 1 the job ran and failed, 2 bad input. Bad input (an
:class:`~overlay.errors.InputError`) prints one line on stderr and no traceback; so does a
missing optional package (the extra to install, exit 2) and a network failure (a refused
connection, a port in use: exit 1). Every ``--help`` lists its exit statuses; ``-v``/``-vv``
work before or after the subcommand; ``--version``; ``--print-completion bash|zsh|tcsh``
prints a shell completion script (shtab).
"""

from __future__ import annotations

import argparse
import enum
import gc
import importlib
import logging
import os
import sys

from overlay.errors import InputError, JobFailed

#: Subcommands in the order ``--help`` lists them.
COMMANDS = ("plan", "cost", "simulate", "study", "backtest", "gateway", "paper", "journal")

#: What exit status 1 means for each command (``--help`` lists it beside 0 and 2).
FAILED_MEANS = {
    "plan": None,
    "cost": None,
    "simulate": "an order was left unfilled",
    "study": "a study cell failed",
    "gateway": "the gateway could not serve (the port is in use)",
    "paper": "final positions differ from the plan (mismatch), an order was left unfilled, the kill switch stopped the run, the journal is damaged, or the broker was unreachable",
    "backtest": "the backtest ran and failed",
    "journal": "the journal check found a problem",
}

#: Optional modules and the extra that installs them: a missing one is one line, not a traceback.
EXTRAS = {"ib_async": "ib", "ib_insync": "ib", "distributed": "cluster", "dask": "cluster", "pyarrow": "study",
          "arch": "data"}
#: ... and where a command's own extra carries the package.
EXTRAS_BY_COMMAND = {"backtest": {"pyarrow": "data"}}


def exit_status_help(command: str | None) -> str:
    """The ``exit status`` paragraph of a command's ``--help``."""
    failed = FAILED_MEANS.get(command or "", "the job ran and failed")
    lines = ["exit status:", "  0  success"]
    if failed:
        lines.append(f"  1  {failed}")
    lines.append("  2  bad input (usage, config, missing file or extra): one line on stderr, nothing sent")
    return "\n".join(lines)


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors in one line with status 2."""

    def error(self, message: str) -> None:  # pragma: no cover - exercised through main
        self.exit(2, f"{self.prog}: error: {message}\n")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("overlay-engine")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


def _verbosity() -> argparse.ArgumentParser:
    """``-v``/``-vv`` accepted after the subcommand too (``overlay plan x.toml -v``)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS,
                        help="log progress on stderr (-v info, -vv debug)")
    return common


class _SubParser(_Parser):
    """A subcommand's parser: ``-v`` and the exit statuses in its ``--help``."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("parents", [_verbosity()])
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        command = str(kwargs.get("prog", "")).split()[-1] if kwargs.get("prog") else None
        kwargs.setdefault("epilog", exit_status_help(command))
        super().__init__(**kwargs)


class _Completion(enum.Enum):
    """How ``--print-completion`` is wired: lazily (the usual run) or through shtab itself."""

    LAZY = "lazy"
    SHTAB = "shtab"


def build_parser(completion: _Completion = _Completion.LAZY, commands: tuple[str, ...] = COMMANDS) -> argparse.ArgumentParser:
    """The ``overlay`` parser with the subcommands ``commands`` (all of them by default)."""
    parser = _Parser(
        prog="overlay",
        description="Derivatives overlay execution engine.",
        epilog=exit_status_help(None),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="log progress on stderr (-v info, -vv debug)")
    parser.add_argument("--version", action=_VersionAction, version="overlay")
    if completion is _Completion.SHTAB:
        import shtab

        shtab.add_argument_to(parser, ["--print-completion"], help="print a shell completion script and exit")
    else:
        parser.add_argument("--print-completion", choices=_SHELLS, action=_CompletionAction,
                            help="print a shell completion script and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_SubParser)
    for name in commands:
        try:
            module = importlib.import_module(f"overlay.commands.{name}")
        except ModuleNotFoundError as exc:  # a command not built yet
            if exc.name != f"overlay.commands.{name}":
                raise
            continue
        module.register(sub)
    if completion is _Completion.SHTAB:
        _complete_files(sub, shtab)
    return parser


_SHELLS = ("bash", "zsh", "tcsh", "fish", "powershell")  # the shells shtab writes for


class _VersionAction(argparse._VersionAction):
    """``--version``: the installed version, read only when asked (importlib.metadata is slow
    to import), and which build of the engine runs (compiled or pure, :mod:`execution.buildinfo`)."""

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        from execution.buildinfo import describe

        self.version = f"overlay {_version()} (engine: {describe()})"
        super().__call__(parser, namespace, values, option_string)


class _CompletionAction(argparse.Action):
    """``overlay --print-completion SHELL`` prints a completion script (shtab).

    shtab is imported only when a script is asked for: the action builds the parser again
    with shtab's own option and path completions, and prints that parser's script.
    """

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        try:
            import shtab
        except ImportError:  # pragma: no cover - shtab is a dependency
            parser.exit(2, f"{parser.prog}: error: shell completion needs shtab\n")
        print(shtab.complete(build_parser(_Completion.SHTAB), shell=values))
        parser.exit(0)


def _complete_files(sub: argparse._SubParsersAction, shtab) -> None:
    """Positional files (CONFIG, SPEC, STUDY) and ``--out``-style options complete as paths."""
    for parser in sub.choices.values():
        for action in parser._actions:
            if action.metavar in ("CONFIG", "SPEC", "STUDY", "FILE", "TABLE", "FILE.png"):
                action.complete = shtab.FILE
            elif action.metavar in ("DIR",):
                action.complete = shtab.DIRECTORY


def _named_command(argv: list[str]) -> str | None:
    """The subcommand ``argv`` names when only ``-v``/``--verbose`` come before it, else None."""
    for token in argv:
        if token in COMMANDS:
            return token
        if token != "--verbose" and not (len(token) > 1 and token[0] == "-" and set(token[1:]) == {"v"}):
            return None
    return None


def main(argv: list[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    # A command line that names its subcommand is parsed by the parser of that one alone: the
    # same usage, help and errors, without building the other seven (argparse looks up
    # translations for every help string: ~5 ms). Anything else (--help, a typo, no
    # subcommand) gets the whole parser.
    named = _named_command(argv)
    parser = build_parser(commands=(named,) if named else COMMANDS)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING - 10 * min(getattr(args, "verbose", 0), 2),
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
    except ImportError as exc:
        message = _missing_extra(exc, args.command)
        if message is None:
            raise
        print(f"overlay {args.command}: error: {message}", file=sys.stderr)
        return 2
    except (OSError, BaseExceptionGroup) as exc:
        # the network: a refused or timed-out connection (possibly inside an asyncio
        # TaskGroup's ExceptionGroup), a port in use. One line, the job failed.
        leaf = _network_error(exc)
        if leaf is None:
            raise
        print(f"overlay {args.command}: failed: {_describe(leaf)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"overlay {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (``overlay plan ... | head``): stop quietly, as other tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _missing_extra(exc: ImportError, command: str | None = None) -> str | None:
    """The one-line message for an optional package that is not installed, else None."""
    extra = EXTRAS_BY_COMMAND.get(command or "", {}).get((exc.name or "").split(".")[0])
    extra = extra or EXTRAS.get((exc.name or "").split(".")[0])
    if extra is not None:
        return f"needs the optional package {exc.name!r}: pip install 'overlay-engine[{extra}]'"
    text = (str(exc).strip().splitlines() or [""])[0]
    return text if "overlay-engine[" in text else None


def _network_error(exc: BaseException) -> OSError | None:
    """The first ``OSError`` of ``exc`` when it is one, or a group made only of them."""
    if isinstance(exc, BaseExceptionGroup):
        leaves = []
        stack: list[BaseException] = [exc]
        while stack:
            e = stack.pop()
            if isinstance(e, BaseExceptionGroup):
                stack.extend(reversed(e.exceptions))
            else:
                leaves.append(e)
        if leaves and all(isinstance(e, OSError) for e in leaves):
            return leaves[0]  # type: ignore[return-value]
        return None
    return exc if isinstance(exc, OSError) else None


def _describe(exc: OSError) -> str:
    text = (str(exc).strip().splitlines() or [""])[0]
    return text or exc.strerror or type(exc).__name__


#: Thread-count settings OpenBLAS (numpy's linear algebra) reads when it loads, first to last.
BLAS_THREAD_SETTINGS = ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")


def single_threaded_blas() -> None:
    """Have numpy's OpenBLAS start no worker threads, unless the user chose a thread count.

    When numpy loads OpenBLAS, it starts a worker thread for each core but one, and each
    busy-waits for work before it sleeps: some 0.1 s of CPU time per command on a 2-core
    machine (a third of a ``plan``'s), taken from whatever else runs there. No command has
    matrices large enough to gain from threads, and a threaded dot product of over 10,000
    terms adds them in an order that depends on the thread count (its last bits with it).
    Only before numpy is imported: a loaded library keeps its threads.
    """
    if "numpy" not in sys.modules and not any(name in os.environ for name in BLAS_THREAD_SETTINGS):
        os.environ["OPENBLAS_NUM_THREADS"] = "1"


def entry() -> None:
    """The ``overlay`` console script and ``python -m overlay``: :func:`main`, then exit with its status.

    Before the interpreter shuts down, every object left is moved out of the cyclic garbage
    collector's reach (``gc.freeze``): otherwise the collections of the shutdown traverse the
    whole heap again (modules, classes, the run's records), about 50 ms after a one-parent
    ``simulate`` day, only to free memory the process gives back when it exits. Files,
    journals and connections are closed by the commands themselves (``with`` blocks), not by
    the collector; :func:`main`, called from Python, leaves the collector as it is.

    pydantic looks for plugins (the ``pydantic`` entry-point group of every installed
    distribution, ~3 ms with 150 installed) when it builds the config's validator; the
    script turns that off with pydantic's own switch, ``PYDANTIC_DISABLE_PLUGINS``, unless
    the variable is set (set it empty to have plugins load). OpenBLAS runs on one thread
    unless a thread count is set (:func:`single_threaded_blas`).
    """
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    single_threaded_blas()
    status = main()
    gc.freeze()
    sys.exit(status)


if __name__ == "__main__":  # pragma: no cover
    entry()
