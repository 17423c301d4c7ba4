"""Operator tools over a paper-trading journal: inspect, check, export, copy.

>>> report = journal_report("run.sqlite")          # identity, orders, executions, integrity
>>> export_journal("run.sqlite", "out/")            # out/orders.parquet, out/executions.parquet
>>> backup_journal("run.sqlite", "copy.sqlite")     # a consistent single-file copy

The journal is opened read-only and without its lock, so every tool works beside a live
run. :func:`backup_journal` uses SQLite's online backup API: while a run is live (and
after a ``kill -9``) part of the journal lives in ``<journal>-wal``, so copying the
``.sqlite`` file alone can copy an empty or stale journal.

``journal_report`` keys: ``identity`` (run id, config hash, client id, account, host, port;
null before first use), ``run`` (status, sessions, start positions), ``orders`` (one per
child order), ``executions`` (``exec_id``, ``perm_id``, ``order_id``, ``local_symbol``,
``quantity`` signed, ``price``, ``fee``, ``time`` the broker's time stamp) and
``integrity`` (``"ok"`` or the reason it cannot be trusted).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from overlay.errors import InputError

ORDER_COLUMNS = ("order_id", "parent_id", "local_symbol", "quantity", "order_type", "limit_price", "state",
                 "filled", "broker_filled", "reason")
EXECUTION_COLUMNS = ("exec_id", "perm_id", "order_id", "local_symbol", "quantity", "price", "fee", "time")


def _open(path: str | Path) -> Any:
    from execution.journal.store import Journal, JournalUnusable

    try:
        return Journal.open_readonly(path)
    except JournalUnusable as exc:
        raise InputError(None, "FILE", str(exc)) from None


def journal_report(path: str | Path) -> dict[str, Any]:
    """Identity, run, orders, executions and integrity of the journal at ``path``."""
    from execution.journal.store import JournalError

    with _open(path) as j:
        integrity = j.integrity()
        try:
            identity = j.identity()
        except JournalError as exc:
            identity, integrity = None, str(exc) if integrity == "ok" else integrity
        run = j.run()
        children = j.children()
        symbol = {c.order_id: c.instrument for c in children}
        orders = [{"order_id": c.order_id, "parent_id": c.parent_id, "local_symbol": c.instrument,
                   "quantity": c.quantity, "order_type": c.order_type, "limit_price": c.limit_price,
                   "state": c.state.value, "filled": c.filled, "broker_filled": c.broker_filled, "reason": c.reason}
                  for c in children]
        executions = [{"exec_id": e.exec_id, "perm_id": e.perm_id, "order_id": e.order_id,
                       "local_symbol": symbol.get(e.order_id, ""), "quantity": e.quantity, "price": e.price,
                       "fee": e.fee, "time": e.exec_time} for e in j.executions()]
    return {
        "journal": str(path),
        "identity": asdict(identity) if identity else None,
        "run": None if run is None else {"status": run.status.value, "sessions": run.sessions,
                                         "config_hash": run.config_hash,
                                         "start_positions": run.info.get("start_positions", {})},
        "orders": orders,
        "executions": executions,
        "integrity": integrity,
    }


def export_journal(path: str | Path, out_dir: str | Path) -> list[Path]:
    """Write ``orders.parquet`` and ``executions.parquet`` into ``out_dir`` (created)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    report = journal_report(path)
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(str(out), "--export", f"cannot create the folder: {exc.strerror or exc}") from None
    schemas = {
        "orders": pa.schema([("order_id", pa.int64()), ("parent_id", pa.string()), ("local_symbol", pa.string()),
                             ("quantity", pa.int64()), ("order_type", pa.string()), ("limit_price", pa.float64()),
                             ("state", pa.string()), ("filled", pa.int64()), ("broker_filled", pa.int64()),
                             ("reason", pa.string())]),
        "executions": pa.schema([("exec_id", pa.string()), ("perm_id", pa.int64()), ("order_id", pa.int64()),
                                 ("local_symbol", pa.string()), ("quantity", pa.int64()), ("price", pa.float64()),
                                 ("fee", pa.float64()), ("time", pa.string())]),
    }
    written = []
    for name, schema in schemas.items():
        target = out / f"{name}.parquet"
        pq.write_table(pa.Table.from_pylist(report[name], schema=schema), target)
        written.append(target)
    return written


def backup_journal(path: str | Path, dest: str | Path) -> Path:
    """A consistent single-file copy of the journal at ``dest`` (which must not exist)."""
    from execution.journal.store import JournalUnusable

    with _open(path) as j:
        try:
            j.backup(dest)
        except JournalUnusable as exc:
            raise InputError(None, "--backup", str(exc)) from None
    return Path(dest)


def render_journal(report: dict[str, Any]) -> str:
    """The report as readable text."""
    ident = report["identity"]
    run = report["run"]
    lines = [f"journal {report['journal']}: integrity {report['integrity']}"]
    if ident:
        lines.append(f"run {ident['run_id']}  account {ident['account']}  client id {ident['client_id']}  "
                     f"{ident['host']}:{ident['port']}  config {ident['config_hash'][:12]}")
    if run:
        lines.append(f"status {run['status']}, {run['sessions']} session(s); start positions "
                     f"{json.dumps(run['start_positions'], sort_keys=True)}")
    if not ident and not run:
        lines.append("empty: no run recorded")
    lines.append(f"{len(report['orders'])} order(s), {len(report['executions'])} execution(s)")
    for o in report["orders"]:
        lines.append(f"  order {o['order_id']:>6} {o['local_symbol']:<8} {o['quantity']:>7} filled {o['filled']:>7}  "
                     f"{o['state']}{' (' + o['reason'] + ')' if o['reason'] else ''}")
    for e in report["executions"]:
        lines.append(f"  exec {e['exec_id']:<10} perm {e['perm_id']:<9} order {e['order_id']:>6} {e['local_symbol']:<8} "
                     f"{e['quantity']:>6} @ {e['price']:g}  fee {e['fee']:.2f}  {e['time']}")
    return "\n".join(lines)
