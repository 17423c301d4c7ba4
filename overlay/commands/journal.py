"""``overlay journal FILE [--json] [--export DIR] [--backup DEST]``.

Inspect a paper-trading journal: its identity (run id, account, client id, host and port,
config hash), orders, executions and integrity. ``--export DIR`` writes ``orders.parquet``
and ``executions.parquet``; ``--backup DEST`` makes a consistent single-file copy with
SQLite's backup API (safe beside a live run; copying the ``.sqlite`` file alone is not,
since part of a live journal lives in ``<journal>-wal``). Never takes the journal's lock
and never writes to it. A thin shell over :mod:`overlay.paper.journal_tools`.

Exit status: 0 the journal passes its integrity check, 1 it does not, 2 bad input (no such
file, not a journal).
"""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "journal",
        help="inspect, check, export or copy a paper-trading journal",
        description="Inspect, check, export (Parquet) or copy (SQLite backup) a paper-trading journal.",
    )
    p.add_argument("file", metavar="FILE", help="the journal (SQLite)")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.add_argument("--export", metavar="DIR", help="write orders.parquet and executions.parquet into DIR")
    p.add_argument("--backup", metavar="DEST", help="write a consistent single-file copy to DEST (must not exist)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import json
    import sys

    from overlay.paper.journal_tools import backup_journal, export_journal, journal_report, render_journal

    report = journal_report(args.file)
    if args.backup:
        dest = backup_journal(args.file, args.backup)
        print(f"overlay journal: copied to {dest}", file=sys.stderr)
    if args.export:
        for path in export_journal(args.file, args.export):
            print(f"overlay journal: wrote {path}", file=sys.stderr)
    if args.json:
        print(json.dumps(report, sort_keys=True, allow_nan=False))
    else:
        print(render_journal(report))
    return 0 if report["integrity"] == "ok" else 1
