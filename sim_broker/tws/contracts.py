"""Which futures the gateway lists, how IB contract queries match them, where they trade.

Every registry root is listed with its front contract and the next one in its cycle on the
session date, plus the contract before the front while it still trades (between its roll
date and its last trade date), plus any month a config instrument names by its ``expiry``.
The front contract follows the registry's roll rule (:func:`pricing.contracts.front_contract`):
the first contract whose roll date is after the session date, as the planner resolves it. A month routes to the simulated instrument of that root and month; a month
without one trades on the root's instrument. The gateway gives each config future's next
month an instrument of its own, priced by cost of carry on the same underlying, so a roll
trades the calendar spread the planner expects; other months of a root trade flat.

Matching follows TWS: a ``FUT`` query matches on ``conId`` or on symbol with optional
``lastTradeDateOrContractMonth`` (``YYYYMM`` or ``YYYYMMDD``), exchange (``CME``, ``CBOT``,
``EUREX``, ``NYBOT``, ``ICEEU``; ``GLOBEX`` does not match), currency, multiplier, local symbol and
trading class. A ``CONTFUT`` query resolves to the front contract, reported with secType
``CONTFUT``; continuous futures are for data only and cannot be traded.

Contract ids are stable and readable: ``400_000_000 + 1_000_000·root_index + 100·(year −
2000) + month`` (e.g. the ES March 2026 contract is ``400_002_603``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pricing.contracts import REGISTRY, ContractSpec
from sim_broker.tws.messages import ContractQuery, ContractRow

_CON_ID_BASE = 400_000_000
_ROOT_INDEX = {root: i for i, root in enumerate(REGISTRY)}
_TIME_ZONES = {"CME": "US/Central", "CBOT": "US/Central", "EUREX": "MET", "NYBOT": "US/Eastern", "ICEEU": "Europe/London"}


@dataclass(frozen=True, slots=True)
class Listing:
    """A tradable contract month and the simulated market it trades on."""

    row: ContractRow
    spec: ContractSpec
    instrument: str
    front: bool
    # a calendar-spread combo (BAG): (near listing, far listing, +1 when it buys the far leg)
    combo: tuple[Listing, Listing, int] | None = None

    def as_continuous(self) -> ContractRow:
        r = self.row
        return ContractRow(
            r.con_id, r.symbol, "CONTFUT", r.last_trade, r.contract_month, r.multiplier, r.exchange,
            r.currency, r.local_symbol, r.min_tick, r.long_name, r.time_zone,
        )


def con_id(spec: ContractSpec, year: int, month: int) -> int:
    return _CON_ID_BASE + 1_000_000 * _ROOT_INDEX.get(spec.root, 99) + 100 * (year - 2000) + month


def _multiplier_text(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(x)


def _row(spec: ContractSpec, year: int, month: int) -> ContractRow:
    expiry = spec.expiry(year, month)
    return ContractRow(
        con_id=con_id(spec, year, month),
        symbol=spec.root,
        sec_type="FUT",
        last_trade=expiry.strftime("%Y%m%d"),
        contract_month=f"{year:04d}{month:02d}",
        multiplier=_multiplier_text(spec.multiplier),
        exchange=spec.exchange,
        currency=spec.currency,
        local_symbol=spec.local_symbol(year, month),
        min_tick=spec.tick,
        long_name=spec.name,
        time_zone=_TIME_ZONES.get(spec.exchange, "US/Central"),
    )


class ContractBook:
    """The listed contracts of one gateway (see the module docstring).

    ``instruments`` maps each simulated instrument key to ``(root, expiry or None)``; roots
    without an instrument trade on an instrument named after the root.
    """

    def __init__(self, session_date: dt.date, instruments: Mapping[str, tuple[str, dt.date | None]]) -> None:
        self._by_id: dict[int, Listing] = {}
        self._by_root: dict[str, list[Listing]] = {}
        routes: dict[str, dict[tuple[int, int] | None, str]] = {}
        for key, (root, expiry) in instruments.items():
            month = (expiry.year, expiry.month) if expiry is not None else None
            routes.setdefault(root.upper(), {}).setdefault(month, key)
        for root, spec in REGISTRY.items():
            front = spec.contract_month(session_date)
            months = {front, spec.next_contract(*front)}
            held = spec.previous_contract(*front)
            if spec.expiry(*held) >= session_date:  # rolled from, still trading until its last trade date
                months.add(held)
            root_routes = routes.get(root, {})
            months.update(mo for mo in root_routes if mo is not None and mo[1] in spec.months)
            fallback = root_routes.get(None) or next(iter(root_routes.values()), root)
            listings = []
            for year, month in sorted(months):
                instrument = root_routes.get((year, month), fallback)
                listing = Listing(_row(spec, year, month), spec, instrument, (year, month) == front)
                listings.append(listing)
                self._by_id[listing.row.con_id] = listing
            self._by_root[root] = listings

    # ------------------------------------------------------------ queries

    def listings(self) -> Iterable[Listing]:
        return self._by_id.values()

    def instruments(self) -> dict[str, str]:
        """Simulated instrument key -> root, for every instrument some listing trades on."""
        return {lst.instrument: lst.spec.root for lst in self._by_id.values()}

    def roots(self) -> list[str]:
        return list(self._by_root)

    def by_con_id(self, cid: int) -> Listing | None:
        return self._by_id.get(cid)

    def front(self, root: str) -> Listing:
        return next(lst for lst in self._by_root[root.upper()] if lst.front)

    def details(self, q: ContractQuery) -> list[ContractRow]:
        """Contract details rows for a query (empty: unknown, error 200)."""
        if q.sec_type.upper() == "CONTFUT":
            found = self._matches(q, continuous=True)
            return [lst.as_continuous() for lst in found]
        return [lst.row for lst in self._matches(q, continuous=False)]

    def resolve(self, q: ContractQuery, *, data_only: bool) -> Listing | None:
        """The one listing a request is about, or None (unknown or ambiguous).

        ``data_only`` admits a continuous future (market data, history), not an order.
        """
        continuous = q.sec_type.upper() == "CONTFUT"
        if continuous and not data_only:
            return None
        found = self._matches(q, continuous=continuous)
        return found[0] if len(found) == 1 else None

    # ------------------------------------------------------------ matching

    def _matches(self, q: ContractQuery, *, continuous: bool) -> list[Listing]:
        if q.sec_type.upper() not in ("FUT", "CONTFUT") and not (q.con_id and not q.sec_type):
            return []  # a bare conId (no secType) names its contract, as in TWS
        if q.con_id:
            lst = self._by_id.get(q.con_id)
            if lst is None or (continuous and not lst.front):
                return []
            return [lst] if (not q.symbol or q.symbol.upper() == lst.spec.root) else []
        root = q.symbol.upper()
        if not root and q.local_symbol:
            root = next((r for r, ls in self._by_root.items() for x in ls if x.row.local_symbol == q.local_symbol.upper()), "")
        candidates = self._by_root.get(root, [])
        if continuous:
            candidates = [lst for lst in candidates if lst.front]
        return [lst for lst in candidates if _fits(q, lst, continuous)]


def _fits(q: ContractQuery, lst: Listing, continuous: bool) -> bool:
    row = lst.row
    if not continuous and q.last_trade and q.last_trade not in (row.last_trade, row.contract_month):
        return False
    if q.exchange and q.exchange.upper() != row.exchange:
        return False
    if q.currency and q.currency.upper() != row.currency:
        return False
    if q.multiplier:
        try:
            if float(q.multiplier) != lst.spec.multiplier:
                return False
        except ValueError:
            return False
    if q.local_symbol and q.local_symbol.upper() != row.local_symbol:
        return False
    return not (q.trading_class and q.trading_class.upper() != row.symbol)
