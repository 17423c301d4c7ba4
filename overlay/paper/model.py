"""Paper trading at Interactive Brokers (or our gateway), journaled and resumable.

>>> result = paper("examples/pension_multi_asset.toml", PaperOptions(port=7497, journal="run.sqlite"))
>>> result.status, [(o.contract, o.quantity, o.filled) for o in result.orders]

What :func:`paper` does:

1. **Checks before any side effect**: the config (``InputError``), the algorithm, and the
   port: the live ports 7496 (TWS) and 4001 (IB Gateway) are refused unless
   ``allow_live`` -- before any connection is attempted, dry run or not.
2. **Dry run** (``dry_run``): plans from the config's own positions and prices and returns
   the orders it would send. It never connects to anything. With an existing journal it
   also reports what a resumed run would still trade.
3. **A fresh journal**: connects, qualifies each future's contract, reads the account's
   positions in those contracts and the futures' prices from the broker (the config's
   price is the fallback when the broker has no quote), plans, nets the plan's futures
   orders per contract (a roll and a rebalance in the same month become one parent), writes
   the run -- config hash, plan, start positions -- and the parents to the journal, and works
   them with the chosen algorithm on the execution engine. Swap and physical orders are OTC
   or outside the overlay: they are reported, not sent.
4. **An existing journal**: the same config (by hash) is required. The plan is the
   journaled one -- never re-planned. Every journaled child is handed to the adapter,
   reconciled against the broker's executions and open and completed orders, and any still
   working is cancelled and settled before anything new is sent; each parent then works
   only what is left (``quantity`` less its children's fills, counting fills the broker
   announced but has not yet delivered), over the same share of the horizon.
5. **Kill switch**: SIGINT/SIGTERM, or a file ``<journal>.kill`` appearing, or the adapter
   giving up reconnecting, stops sending, cancels every working child and ends the run as
   ``halted`` (resumable later with the same journal).

This module holds the types, the pure steps and the report; :mod:`overlay.paper.runner`
holds :func:`paper` and the dry run, and :mod:`overlay.paper.session` the async work.
"""

from __future__ import annotations

import enum
import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from overlay.config import Algo, PortfolioConfig
from overlay.errors import InputError
from overlay.paper.clock import ClockKind


class PaperStatus(enum.Enum):
    COMPLETED = "completed"  # every futures parent filled exactly
    DRY_RUN = "dry_run"  # planned, nothing sent
    NOTHING_TO_DO = "nothing_to_do"  # no futures order in the plan, or the journal's run is complete
    STOPPED = "stopped"  # ended with quantity unfilled (a report says why)
    HALTED = "halted"  # the kill switch was used
    MISMATCH = "mismatch"  # the run's own orders are done but the positions differ from the plan


@dataclass(frozen=True, slots=True)
class PaperOptions:
    """Where to trade and how. Times in seconds of the (real-time) event loop."""

    host: str | None = None  # None: the journal's, else 127.0.0.1
    port: int | None = None  # None: the journal's, else 7497
    client_id: int | None = None  # None: the journal's, else 1
    journal: str | Path | None = None  # None: "<config stem>.journal.sqlite" beside the config
    algo: str | None = None  # "twap" | "vwap" | "pov" | "is"; None: the config's [execution] algo
    dry_run: bool = False
    allow_live: bool = False
    allow_remote: bool = False  # permit a non-loopback host
    new_run: bool = False  # plan afresh although the broker shows an earlier run of this config
    ack_timeout: float = 5.0
    finish_timeout: float = 120.0
    settle_timeout: float = 30.0  # recovery: time allowed to settle the previous session's orders
    kill_file: str | Path | None = None  # None: "<journal>.kill"
    clock: ClockKind = ClockKind.WALL  # what slices are paced on (overlay.paper.clock)
    progress_seconds: float = 30.0  # a progress line on stderr this often (0: none)


@dataclass(frozen=True, slots=True)
class ContractOrder:
    """One parent: the plan's futures orders netted per contract, or one roll.

    A roll is one calendar-spread parent (``key`` ``"NEAR-FAR"``, ``contract_month`` None):
    ``legs`` the two contracts' keys (near, far) and ``leg_months`` their months; it is
    worked as one order per child (a BAG at IB), never as two legs (:mod:`execution.spreads`).
    """

    key: str  # broker instrument key: the local symbol, e.g. "ESM6"
    instrument: str  # config instrument key, e.g. "ES"
    symbol: str  # IB symbol (the registry root)
    exchange: str
    currency: str
    multiplier: float
    tick: float
    fx: float
    contract_month: str | None  # "YYYYMM"; None: the broker's front contract
    quantity: int  # signed
    legs: tuple[str, str] | None = None  # a roll: (near, far) contract keys
    leg_months: tuple[str | None, str | None] | None = None  # a roll: the legs' "YYYYMM"


@dataclass(frozen=True, slots=True)
class PaperOrder:
    """A parent's outcome over every session of the run."""

    contract: str
    instrument: str
    quantity: int
    filled: int
    avg_price: float | None
    fees: float
    child_orders: int
    status: str  # "filled" | "unfilled" | "not sent"
    legs: tuple[str, str] | None = None  # a roll: (near, far); it moves both by its quantity


@dataclass(frozen=True)
class PaperResult:
    status: PaperStatus
    journal: str | None
    resumed: bool = False
    sessions: int = 0
    orders: tuple[PaperOrder, ...] = ()
    not_sent: tuple[dict[str, Any], ...] = ()  # swap and physical orders of the plan
    start_positions: dict[str, int] = field(default_factory=dict)
    end_positions: dict[str, int] | None = None
    message: str = ""
    run_id: str = ""

    @property
    def expected_positions(self) -> dict[str, int]:
        """Start positions plus every parent's quantity, per contract."""
        out = dict(self.start_positions)
        for o in self.orders:
            if o.legs:  # a roll sells the near contract and buys the far one
                near, far = o.legs
                out[near] = out.get(near, 0) - o.quantity
                out[far] = out.get(far, 0) + o.quantity
            else:
                out[o.contract] = out.get(o.contract, 0) + o.quantity
        return out

    @property
    def positions_match(self) -> bool | None:
        if self.end_positions is None:
            return None
        exp = self.expected_positions
        return all(self.end_positions.get(k, 0) == v for k, v in exp.items())

    @property
    def differences(self) -> dict[str, int]:
        """Per contract, the end position less start + plan (only where they differ)."""
        if self.end_positions is None:
            return {}
        return {k: self.end_positions.get(k, 0) - v for k, v in self.expected_positions.items()
                if self.end_positions.get(k, 0) != v}

    @property
    def ok(self) -> bool:
        """Exit 0: a dry run, or a run whose end positions equal start + plan."""
        if self.status is PaperStatus.DRY_RUN:
            return True
        return self.status in (PaperStatus.COMPLETED, PaperStatus.NOTHING_TO_DO) and self.positions_match is True

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "journal": self.journal,
            "resumed": self.resumed,
            "sessions": self.sessions,
            "orders": [asdict(o) for o in self.orders],
            "not_sent": list(self.not_sent),
            "start_positions": self.start_positions,
            "end_positions": self.end_positions,
            "expected_positions": self.expected_positions,
            "positions_match": self.positions_match,
            "differences": self.differences,
            "message": self.message,
            "run_id": self.run_id,
        }


def check_options(options: PaperOptions) -> None:
    """Bad options as :class:`InputError`; the live-port refusal comes first. Options not
    given (None) are checked once the journal has supplied them."""
    from execution.ib.mapping import live_port_name
    from overlay.paper.guard import check_host

    if options.port is not None:
        name = live_port_name(options.port)
        if name is not None and not options.allow_live:
            raise InputError(None, "--port", f"{options.port} is the {name} port; refusing a live account without --allow-live")
        if not 0 < options.port <= 65535:
            raise InputError(None, "--port", f"must be in 1..65535, got {options.port}")
    if options.host is not None:
        check_host(options.host, options.allow_remote)
    if options.client_id is not None and options.client_id < 0:
        raise InputError(None, "--client-id", f"must be >= 0, got {options.client_id}")
    if options.algo is not None and options.algo not in {a.value for a in Algo}:
        raise InputError(None, "--algo", f"unknown algorithm {options.algo!r}; use twap, vwap, pov or is")
    for name, value in (("ack_timeout", options.ack_timeout), ("finish_timeout", options.finish_timeout),
                        ("settle_timeout", options.settle_timeout)):
        if not (math.isfinite(value) and value > 0):
            raise InputError(None, name, f"must be a positive number of seconds, got {value!r}")
    if not (math.isfinite(options.progress_seconds) and options.progress_seconds >= 0):
        raise InputError(None, "--progress", f"must be a number of seconds >= 0, got {options.progress_seconds!r}")


def journal_path(config: PortfolioConfig, options: PaperOptions) -> Path:
    if options.journal is not None:
        path = Path(options.journal)
    elif config.source:
        src = Path(config.source)
        path = src.with_name(f"{src.stem}.journal.sqlite")
    else:
        raise InputError(None, "--journal", "a journal file is needed for a config that was not read from a file")
    if not path.parent.exists():
        raise InputError(str(path), None, "the journal's folder does not exist")
    if path.is_dir():
        raise InputError(str(path), None, "is a folder, not a journal file")
    return path


def config_hash(config: PortfolioConfig) -> str:
    """SHA-256 of the config's canonical JSON: a journal belongs to one config."""
    text = json.dumps(config.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def algo_of(config: PortfolioConfig, options: PaperOptions) -> str:
    return options.algo or config.execution.algo.value


def current_contracts(config: PortfolioConfig) -> dict[str, ContractOrder]:
    """Each config future's current contract (quantity 0), by config instrument key."""
    from overlay.plan.instruments import ResolvedFuture, resolve_instruments

    out = {}
    for key, inst in resolve_instruments(config).items():
        if isinstance(inst, ResolvedFuture):
            month = inst.contract
            out[key] = _contract(config, key, inst, month.label if month else None, month.local_symbol if month else None, 0)
    return out


def contract_orders(config: PortfolioConfig, plan: Any) -> list[ContractOrder]:
    """The plan's futures orders netted per contract, and each roll as one calendar-spread
    parent, in plan order, zero nets dropped."""
    from execution.spreads import spread_name
    from overlay.plan.instruments import resolve_instruments
    from overlay.plan.types import OrderKind

    insts = resolve_instruments(config)
    net: dict[str, ContractOrder] = {}
    for order in plan.orders:
        if order.kind is OrderKind.SPREAD:
            near, far = (_contract(config, leg.instrument, insts[leg.instrument], leg.contract_month, leg.local_symbol, 0)
                         for leg in order.legs)
            net[spread_name(near.key, far.key)] = ContractOrder(
                spread_name(near.key, far.key), near.instrument, near.symbol, near.exchange, near.currency,
                near.multiplier, near.tick, near.fx, None, int(order.quantity), (near.key, far.key),
                (near.contract_month, far.contract_month))
            continue
        if order.kind is not OrderKind.FUTURE:
            continue
        c = _contract(config, order.instrument, insts[order.instrument], order.contract_month, order.local_symbol,
                      int(order.quantity))
        prev = net.get(c.key)
        net[c.key] = c if prev is None else _with_quantity(prev, prev.quantity + c.quantity)
    return [c for c in net.values() if c.quantity]


def _with_quantity(c: ContractOrder, quantity: int) -> ContractOrder:
    return ContractOrder(c.key, c.instrument, c.symbol, c.exchange, c.currency, c.multiplier, c.tick, c.fx,
                         c.contract_month, quantity)


def _contract(config: PortfolioConfig, key: str, inst: Any, label: str | None, local: str | None,
              quantity: int) -> ContractOrder:
    from pricing import contracts

    root = (inst.config.root or key).upper()
    spec = contracts.REGISTRY.get(root)
    if spec is None:
        raise InputError(config.source, f"instruments.{key}.root",
                         f"{root!r} is not a registry root: its exchange at Interactive Brokers is unknown")
    month = label.replace("-", "") if label else None
    contract_key = local or (f"{key}@{label}" if label else key)
    tick = inst.config.tick or spec.tick
    return ContractOrder(contract_key, key, root, spec.exchange, inst.currency, float(inst.multiplier), float(tick),
                         float(inst.fx), month, quantity)


def not_sent_orders(plan: Any) -> tuple[dict[str, Any], ...]:
    """Swap (OTC booking) and physical orders of the plan: reported, never sent to IB.
    ``notional`` in the plan's base currency (``currency``), signed (+ buy), to the cent."""
    from overlay.plan.types import OrderKind

    return tuple({"instrument": o.instrument, "kind": o.kind.value, "sleeve": o.sleeve,
                  "quantity": o.quantity, "notional": round(float(o.notional), 2), "currency": plan.currency}
                 for o in plan.orders if o.kind in (OrderKind.SWAP, OrderKind.PHYSICAL))


def _config_position(config: PortfolioConfig, instrument: str) -> float:
    return sum(p.quantity for p in config.positions if p.instrument == instrument)


def with_market(config: PortfolioConfig, positions: Mapping[str, int], prices: Mapping[str, float]) -> PortfolioConfig:
    """``config`` with the broker's futures positions and prices (config keys); swap
    positions stay the config's. Instruments without a broker price keep the config's."""
    from overlay.config import Position

    instruments = {k: (v.model_copy(update={"price": float(prices[k])}) if k in prices else v)
                   for k, v in config.instruments.items()}
    kept = [p for p in config.positions if config.instruments[p.instrument].kind != "future"]
    held = [Position(instrument=k, quantity=float(q)) for k, q in positions.items() if q]
    copy = config.model_copy(update={"instruments": instruments, "positions": kept + held})
    return copy


def render(result: PaperResult) -> str:
    """The report as readable text."""
    lines = [f"overlay paper: {result.status.value}" + (f" (resumed, session {result.sessions})" if result.resumed else "")]
    if result.message:
        lines.append(result.message)
    if result.journal and result.status is PaperStatus.DRY_RUN:
        lines.append(f"journal: {result.journal} (read, not written)" if result.resumed
                     else f"journal: none yet; a real run would write {result.journal}")
    elif result.journal:
        lines.append(f"journal: {result.journal}")
    lines.append(f"{'contract':<12}{'quantity':>10}{'filled':>10}{'avg price':>14}{'fees':>10}{'children':>10}  status")
    for o in result.orders:
        avg = f"{o.avg_price:,.4f}" if o.avg_price is not None else "-"
        lines.append(f"{o.contract:<12}{o.quantity:>10}{o.filled:>10}{avg:>14}{o.fees:>10.2f}{o.child_orders:>10}  {o.status}")
    for o in result.not_sent:
        q = o["quantity"]
        # money as the plan prints it: signed, thousands separated, to the cent, with its currency
        size = f"{q:+,d}" if isinstance(q, int) else f"notional {o['notional']:+,.2f} {o.get('currency', '')}".rstrip()
        lines.append(f"not sent ({o['kind']}): {o['instrument'] or o['sleeve']} {size}")
    if result.end_positions is not None:
        lines.append(f"positions: {json.dumps(result.end_positions, sort_keys=True)}; "
                     f"start + plan: {json.dumps(result.expected_positions, sort_keys=True)}; "
                     f"{'match' if result.positions_match else 'MISMATCH ' + json.dumps(result.differences, sort_keys=True)}")
    return "\n".join(lines)
