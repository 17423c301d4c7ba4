"""A TWS-API server over the simulator: unmodified IB clients trade a simulated market.

The server is a thin asyncio shell (h11 style): each connection owns a pure
:class:`~sim_broker.tws.session.Session`; all sessions share one
:class:`~sim_broker.tws.desk.Desk`, which talks to one :class:`~sim_broker.broker.SimBroker`.
Three things move the state: bytes from a client, the broker's event stream, and a quote
pump that samples the market every ``quote_interval`` simulated seconds for the contracts
someone streams. After each, every session's queued output is written, and a session that
closed (malformed input, refused client id) has its connection dropped and logged while the
others carry on.

It runs on :class:`execution.vtime.VirtualTimeLoop` paced at ``speed`` simulated seconds per
wall second, starting at the session open. Public entry points:

- :func:`build` — broker, contract book and desk from a portfolio config (or none);
- :class:`Gateway` — ``await start(host, port)``, ``await serve()``, ``close()``;
- :func:`serve` — serve until cancelled; :func:`run` — build and serve (``overlay gateway``);
- :class:`GatewayThread` — the same in a background thread (tests, benchmarks, notebooks).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from execution import vtime
from sim_broker.tws import venue
from sim_broker.tws.contracts import ContractBook
from sim_broker.tws.desk import Desk, DeskConfig
from sim_broker.tws.ledger import Ledger
from sim_broker.tws.market import Calendar
from sim_broker.tws.session import Session

log = logging.getLogger(__name__)

#: Order-of-magnitude price levels for registry roots a config does not price (index points
#: or percent of par); the simulated path starts there.
REFERENCE_PRICES = {
    "ES": 5000.0, "MES": 5000.0, "NQ": 18000.0, "RTY": 2000.0, "ZN": 110.0, "ZF": 106.0, "ZB": 115.0,
    "FESX": 5000.0, "MME": 1100.0,
    # round levels of 2024-2025 for the roots added with the holiday calendars
    "MNQ": 18000.0, "YM": 40000.0, "ZT": 103.0, "TN": 113.0, "UB": 120.0, "FDAX": 18000.0,
    "FGBS": 107.0, "FGBM": 117.0, "FGBL": 131.0, "FGBX": 120.0, "Z": 8000.0,
}


#: The highest ``speed`` (simulated seconds per wall second) the gateway accepts. Measured on
#: a 2-core machine (one client streaming ES, NQ and ZN quotes, one quote update per simulated
#: second): the clock keeps pace up to 2,000 and reaches 61 % of 5,000; the limit leaves room
#: for more clients and instruments. ``overlay gateway`` refuses a higher speed.
MAX_SPEED = 1000.0
#: Bytes queued for a client that does not read before it is disconnected.
MAX_OUTBOUND = 8 * 1024 * 1024
#: Messages of one client served per turn: clients take turns, so a burst from one waits
#: behind the others' requests instead of in front of them.
TURN_BUDGET = 16
#: Bytes of replies after which a client's turn ends early: they are written and the
#: client's unsent backlog checked against MAX_OUTBOUND before it is served again, so a
#: client that does not read is dropped with at most about one reply over the limit.
TURN_BYTES = 256 * 1024
#: Received messages waiting for their turn before the gateway stops reading that client.
MAX_PENDING = 1024


@dataclass(frozen=True, slots=True)
class GatewayConfig:
    """How the gateway runs. ``session_date`` None: the config's ``as_of`` (else required)."""

    seed: int = 0
    speed: float = 1.0
    quote_interval: float = 1.0  # simulated seconds between quote updates
    session_date: dt.date | None = None
    time_zone: str = "America/New_York"
    cash: float = 1_000_000.0  # account cash in the base currency when the config has none
    account: str = "DU1000001"
    start: float | None = None  # simulated clock start, seconds since midnight; None: the session open


def build(config: Any | None, settings: GatewayConfig) -> tuple[Any, Desk]:
    """The simulator and the desk for a portfolio config (``PortfolioConfig`` or None).

    Every config future gets its ``[market.*]`` parameters; every other registry root is
    simulated with registry defaults at :data:`REFERENCE_PRICES`. The config's overlay
    positions open the account at the instruments' prices.
    """
    from pricing.contracts import REGISTRY

    instruments: dict[str, dict] = {}
    market: dict[str, dict] = {}
    faults: dict = {}
    expiries: dict[str, tuple[str, dt.date | None]] = {}
    source = base_dir = None
    session_date = settings.session_date
    if config is not None:
        source = config.source
        base_dir = str(Path(source).parent) if source else None
        session_date = session_date or config.portfolio.as_of
        for key, inst in config.instruments.items():
            if inst.kind == "future":
                instruments[key] = inst.model_dump(mode="json", exclude_none=True)
                expiries[key] = ((inst.root or key).upper(), _held_expiry(inst))
        market = {k: v.model_dump(mode="json", exclude_none=True) for k, v in config.market.items()}
        _list_next_months(instruments, market, expiries, session_date)
        faults = config.faults.model_dump(mode="json", exclude_none=True)
    if session_date is None:
        raise ValueError("a session date is needed (a config's as_of or GatewayConfig.session_date)")
    covered = {root for root, _ in expiries.values()}
    for root in REGISTRY:
        if root not in covered and root not in instruments:
            instruments[root] = {"kind": "future", "root": root, "price": REFERENCE_PRICES[root]}
            expiries[root] = (root, None)
    cal = Calendar(session_date, settings.time_zone)
    broker = venue.simulate(instruments, market, faults, settings.seed, settings.start, source, base_dir, cal)
    book = ContractBook(session_date, expiries)
    ledger = _ledger(config, book, broker, settings)
    desk = Desk(broker, book, ledger, cal, lambda: asyncio.get_running_loop().time(),
                DeskConfig(settings.account, seed=settings.seed))
    return broker, desk


def _held_expiry(inst: Any) -> dt.date | None:
    """Last trade date of the contract a config future holds: its ``expiry``, else its
    ``contract_month`` dated by the registry; None (the front contract) without either."""
    from pricing import contracts

    spec = contracts.REGISTRY.get((inst.root or "").upper())
    if inst.expiry is not None or inst.contract_month is None or spec is None:
        return inst.expiry
    return spec.expiry(*contracts.parse_contract_month(inst.contract_month))


def _list_next_months(
    instruments: dict[str, dict], market: dict[str, dict], expiries: dict[str, tuple[str, dt.date | None]], on: dt.date
) -> None:
    """Give each config future's next contract month a market of its own, priced from the
    config's by cost of carry (:func:`pricing.futures.next_contract_price`) and on the same
    underlying, so that a roll trades the calendar spread the planner expects."""
    from pricing import contracts
    from pricing.futures import next_contract_price

    taken = {(root, e.year, e.month) for root, e in expiries.values() if e is not None}
    for key, table in list(instruments.items()):
        root, expiry = expiries[key]
        spec = contracts.REGISTRY.get(root)
        if spec is None:
            continue
        year, month = (expiry.year, expiry.month) if expiry is not None else spec.contract_month(on)
        if month not in spec.months:
            continue
        ny, nm = spec.next_contract(year, month)
        if (root, ny, nm) in taken:
            continue
        taken.add((root, ny, nm))
        this_expiry, next_expiry = spec.expiry(year, month), spec.expiry(ny, nm)
        price = table.get("next_price") or next_contract_price(
            table["price"], table.get("rate"), table.get("dividend_yield", 0.0), this_expiry, next_expiry, spec.tick
        )
        symbol = spec.local_symbol(ny, nm)
        instruments[symbol] = {**table, "price": price, "expiry": next_expiry.isoformat()}
        expiries[symbol] = (root, next_expiry)
        if key in market:
            market[symbol] = dict(market[key])


def _ledger(config: Any | None, book: ContractBook, broker: Any, settings: GatewayConfig) -> Ledger:
    listings = list(book.listings())
    mult = {lst.row.con_id: lst.spec.multiplier for lst in listings}
    cur = {lst.row.con_id: lst.spec.currency for lst in listings}
    if config is None:
        return Ledger(mult, cur, settings.cash)
    margins = {}
    for lst in listings:
        inst = config.instruments.get(lst.instrument)
        if inst is not None and getattr(inst, "initial_margin", None):
            margins[lst.row.con_id] = inst.initial_margin
    cash = config.portfolio.cash if config.portfolio.cash > 0 else settings.cash
    ledger = Ledger(mult, cur, cash, config.portfolio.currency, dict(config.portfolio.fx), margins)
    for pos in config.positions:
        inst = config.instruments.get(pos.instrument)
        if inst is None or inst.kind != "future" or not pos.quantity:
            continue
        root = (inst.root or pos.instrument).upper()
        lst = _listing_for(book, root, _held_expiry(inst))
        ledger.seed(lst.row.con_id, int(pos.quantity), broker.params(pos.instrument).price)
    return ledger


def _listing_for(book: ContractBook, root: str, expiry: dt.date | None):
    if expiry is not None:
        for lst in book.listings():
            if lst.spec.root == root and lst.row.last_trade == expiry.strftime("%Y%m%d"):
                return lst
    return book.front(root)


class _Connection(asyncio.Protocol):
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.session: Session | None = None
        self.transport: asyncio.Transport | None = None
        self.paused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        peer = transport.get_extra_info("peername")
        self.session = Session(self.gateway.desk, f"{peer[0]}:{peer[1]}" if peer else "?", wall=time.monotonic)
        self.gateway.connections.add(self)

    def data_received(self, data: bytes) -> None:
        self.session.receive_data(data, TURN_BUDGET, TURN_BYTES)
        self.gateway.backlog(self)
        self.gateway.flush()

    def throttle(self) -> None:
        """Stop reading while too many messages wait; read again once they are served."""
        pending = self.session.pending
        if not self.paused and pending > MAX_PENDING and self.transport is not None:
            self.paused = True
            self.transport.pause_reading()
        elif self.paused and pending <= MAX_PENDING // 2 and self.transport is not None and not self.transport.is_closing():
            self.paused = False
            self.transport.resume_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        self.gateway.connections.discard(self)
        s = self.session
        if s is not None and not s.closed:
            if s.client_id is not None:
                log.info("client %s (%s) disconnected", s.client_id, s.peer)
            s.close("peer disconnected")
        self.gateway.flush()


class Gateway:
    """The server (see the module docstring)."""

    def __init__(self, broker: Any, desk: Desk, quote_interval: float = 1.0) -> None:
        self.broker = broker
        self.desk = desk
        self.quote_interval = quote_interval
        self.connections: set[_Connection] = set()
        self._server: asyncio.base_events.Server | None = None
        self._ready: list[_Connection] = []  # connections with messages waiting for a turn
        self._turn_scheduled = False

    async def start(self, host: str = "127.0.0.1", port: int = 7497) -> tuple[str, int]:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _Connection(self), host, port)
        addr = self._server.sockets[0].getsockname()
        log.info("TWS gateway listening on %s:%s", addr[0], addr[1])
        return addr[0], addr[1]

    async def serve(self) -> None:
        """Relay broker events and quotes until cancelled."""
        async with asyncio.TaskGroup() as tg:
            tg.create_task(self._relay_events())
            tg.create_task(self._pump_quotes())

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for conn in list(self.connections):
            if conn.transport is not None:
                conn.transport.close()

    def backlog(self, conn: _Connection) -> None:
        """Give ``conn`` further turns while it has messages waiting (round robin)."""
        conn.throttle()
        if conn.session.pending and conn not in self._ready:
            self._ready.append(conn)
        if self._ready and not self._turn_scheduled:
            self._turn_scheduled = True
            asyncio.get_running_loop().call_soon(self._turn)

    def _turn(self) -> None:
        self._turn_scheduled = False
        ready, self._ready = self._ready, []
        for conn in ready:
            if conn.session is not None and conn in self.connections:
                conn.session.process(TURN_BUDGET, TURN_BYTES)
                self.backlog(conn)
        self.flush()

    def flush(self) -> None:
        """Write every session's queued output; drop the connections whose session closed."""
        for conn in list(self.connections):
            s, transport = conn.session, conn.transport
            if s is None or transport is None:
                continue
            data = s.data_to_send()
            if data and not transport.is_closing():
                transport.write(data)
                if transport.get_write_buffer_size() > MAX_OUTBOUND and not s.closed:
                    log.warning("client %s (%s) is not reading: %d bytes unsent; disconnecting",
                                s.client_id, s.peer, transport.get_write_buffer_size())
                    s.close("not reading")
                    transport.abort()
                    continue
            if s.closed and not transport.is_closing():
                level = logging.WARNING if s.close_reason.startswith("malformed") else logging.INFO
                log.log(level, "dropping client %s (%s): %s", s.client_id, s.peer, s.close_reason)
                transport.close()

    async def _relay_events(self) -> None:
        async for event in self.broker.events():
            try:
                self.desk.on_event(event)
            except Exception:  # one bad event must not stop the gateway
                log.exception("failed to relay %s", event)
            self.flush()

    async def _pump_quotes(self) -> None:
        while True:
            for name in self.desk.quoted_instruments():
                self.desk.on_snapshot(await self.broker.snapshot(name))
            self.desk.publish_pnl()
            self.flush()
            await asyncio.sleep(self.quote_interval)


async def serve(broker: Any, desk: Desk, settings: GatewayConfig, host: str, port: int, ready: Any = None) -> None:
    """Serve ``desk`` until cancelled; ``ready(host, port)`` is called once listening.

    Run it on a paced :class:`~execution.vtime.VirtualTimeLoop` that starts at
    :func:`start_time` (see :func:`run`).
    """
    gateway = Gateway(broker, desk, settings.quote_interval)
    bound = await gateway.start(host, port)
    if ready is not None:
        ready(*bound)
    try:
        await gateway.serve()
    finally:
        gateway.close()


def run(config: Any | None, settings: GatewayConfig, host: str = "127.0.0.1", port: int = 7497, ready: Any = None) -> None:
    """Build the simulator for ``config`` and serve it until interrupted (blocking)."""
    broker, desk = build(config, settings)
    vtime.run(serve(broker, desk, settings, host, port, ready), start=start_time(broker, settings), speed=settings.speed)


def start_time(broker: Any, settings: GatewayConfig) -> float:
    """Where the simulated clock starts: ``settings.start`` (the market may still be closed
    then, e.g. on a weekend), else when every instrument is in its liquid hours
    (:func:`sim_broker.tws.venue.liquid_start`), in seconds."""
    return venue.liquid_start(broker) if settings.start is None else settings.start


class GatewayThread:
    """A gateway on its own paced virtual-time loop in a daemon thread.

    ``with GatewayThread(settings) as gw: ... gw.port ...``; the loop starts at the session
    open, so the market is open from the first request.
    """

    def __init__(self, settings: GatewayConfig, config: Any | None = None, host: str = "127.0.0.1", port: int = 0,
                 desk: Desk | None = None) -> None:
        self.settings = settings
        self._carried = desk  # a restart: the desk of the previous run of the gateway
        self.config = config
        self.host = host
        self.port = port
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="tws-gateway", daemon=True)

    def _run(self) -> None:
        async def main(broker: Any, desk: Desk) -> None:
            self._loop = asyncio.get_running_loop()
            self._task = asyncio.current_task()
            if self._carried is not None:
                desk.restart(broker)

            def ready(host: str, port: int) -> None:
                self.host, self.port = host, port
                self._ready.set()

            try:
                await serve(broker, desk, self.settings, self.host, self.port, ready)
            except asyncio.CancelledError:
                pass

        try:
            broker, desk = build(self.config, self.settings)
            if self._carried is not None:
                desk = self._carried
            self.desk = desk
            vtime.run(main(broker, desk), start=start_time(broker, self.settings), speed=self.settings.speed)
        except BaseException as exc:  # surfaced by start()
            self._error = exc
            self._ready.set()

    def start(self) -> GatewayThread:
        self._thread.start()
        if not self._ready.wait(30) or self._error is not None:
            raise RuntimeError(f"gateway did not start: {self._error!r}")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._task is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._task.cancel)
        self._thread.join(10)

    def restart(self) -> GatewayThread:
        """Stop this gateway and start another on the same port that carries over the
        account, the day's executions and the working orders (see :meth:`Desk.restart`),
        its clock going on from where this one stopped; returns the new one."""
        now = self._loop.time() if self._loop is not None else None
        self.stop()
        settings = self.settings if now is None else replace(self.settings, start=now)
        return GatewayThread(settings, self.config, self.host, self.port, desk=self.desk).start()

    def __enter__(self) -> GatewayThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
