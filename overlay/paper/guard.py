"""The paper run's guards: who the run trades as, and whether the journal can be trusted.

Pure functions over the options, the journal's :class:`~execution.journal.records.Identity`
and the broker's list of the account's orders (:class:`~execution.ib.adapter.BrokerOrder`);
:mod:`overlay.paper.session` calls them before anything is sent.

- :func:`check_host`: a non-loopback ``--host`` needs ``--allow-remote``.
- :func:`resume_options`: a resume takes client id, host and port from the journal; a flag
  that says otherwise is refused (one line, exit 2).
- :func:`parse_ref`: an ``orderRef`` ``ovl-<config hash, 8>-<run id>-<order id>`` as its parts.
- :func:`fresh_run_problem`: an empty journal while the broker shows orders of a run of the
  same config means the journal lost its content (or another journal runs the same config):
  refused unless ``--new-run``, and always while such an order is still working.
- :func:`resume_problem`: after the previous session's orders are settled, every order of
  the run at the broker must be in the journal, with the executions the journal holds.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from overlay.errors import InputError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7497
DEFAULT_CLIENT_ID = 1

_REF = re.compile(r"^ovl-([0-9a-f]{8})-([0-9a-f]+)-(\d+)$")


@dataclass(frozen=True, slots=True)
class RunRef:
    config: str  # the first 8 hex digits of the config hash
    run_id: str
    order_id: int


def parse_ref(ref: str) -> RunRef | None:
    m = _REF.match(ref or "")
    return RunRef(m.group(1), m.group(2), int(m.group(3))) if m else None


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_host(host: str, allow_remote: bool) -> None:
    if not is_loopback(host) and not allow_remote:
        raise InputError(None, "--host", f"{host} is not a loopback address; refusing a remote gateway without --allow-remote")


def resume_options(options: Any, identity: Any, journal: str) -> Any:
    """``options`` with the journal's client id, host and port; a flag given with another
    value is refused (:class:`InputError`)."""
    for flag, given, recorded in (("--client-id", options.client_id, identity.client_id),
                                  ("--host", options.host, identity.host),
                                  ("--port", options.port, identity.port)):
        if given is not None and given != recorded:
            raise InputError(journal, flag, f"{given} differs from the journal's {recorded}; a resume trades as the run "
                             f"began (omit {flag}, or use a new journal for a new run)")
    return replace(options, client_id=identity.client_id, host=identity.host, port=identity.port)


def fresh_options(options: Any) -> Any:
    """``options`` with the defaults for the flags not given."""
    return replace(options, client_id=DEFAULT_CLIENT_ID if options.client_id is None else options.client_id,
                   host=options.host or DEFAULT_HOST, port=DEFAULT_PORT if options.port is None else options.port)


def fresh_run_problem(orders: Iterable[Any], config_prefix: str, new_run: bool, journal: str) -> str | None:
    """Why a fresh run must not start, or None (see the module docstring)."""
    mine = [(o, r) for o in orders if (r := parse_ref(o.order_ref)) is not None and r.config == config_prefix]
    if not mine:
        return None
    runs = ", ".join(sorted({r.run_id for _, r in mine}))
    working = sum(o.working for o, _ in mine)
    if working:
        return (f"{journal}: {working} order(s) of run {runs} of this config are still working at the broker; "
                "nothing was sent (let them end or cancel them, and resume with that run's journal)")
    if not new_run:
        return (f"{journal}: the journal is empty but the broker shows {len(mine)} order(s) of run {runs} of this "
                "config today; restore that run's journal, or pass --new-run to plan afresh over the positions "
                "they opened")
    return None


def resume_problem(orders: Iterable[Any], prefix: str, config_prefix: str, filled: Mapping[int, int],
                   journal: str) -> str | None:
    """Why a resumed run must not send anything, or None: orders of the run the journal
    does not hold, executions it lacks, or another run of the config still working.
    ``filled``: journaled order id -> signed quantity of its journaled executions."""
    unknown, short, others = [], [], 0
    run_id = prefix.rstrip("-").rsplit("-", 1)[-1]
    for o in orders:
        r = parse_ref(o.order_ref)
        if r is None or r.config != config_prefix:
            continue
        if r.run_id != run_id:
            others += o.working
        elif r.order_id not in filled:
            unknown.append(r.order_id)
        elif o.executed != filled[r.order_id]:
            short.append(f"{r.order_id} ({o.executed} at the broker, {filled[r.order_id]} journaled)")
    if unknown:
        return (f"{journal}: the broker shows order(s) {sorted(unknown)[:5]} of this run that the journal does not "
                "hold: the journal lost records (a deleted or truncated -wal?); stopped before sending anything")
    if short:
        return (f"{journal}: executions at the broker differ from the journal for order(s) {', '.join(short[:3])}; "
                "stopped before sending anything")
    if others:
        return f"{journal}: {others} order(s) of another run of this config are working at the broker; nothing was sent"
    return None
