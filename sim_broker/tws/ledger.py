"""The gateway's view of the simulated account: positions per contract, P&L, account values.

Positions are kept per listed contract (``conId``) with :class:`sim_broker.account.Account`
arithmetic (average cost, realised P&L, fees). Executions are booked once per execution id
of an order (``(order, exec_id)``), so a duplicated execution report never double-counts,
while an id that a restarted simulator issues again for another order is a new fill.

Futures are marked to market, so notional never moves cash. In the account's base currency
(every amount converted with ``fx``, the base value of one unit of the contract currency)::

    realised    = Σ realised P&L of closed contracts
    unrealised  = Σ (mark − average cost) · position · multiplier
    fees        = Σ commissions
    NetLiquidation = cash + realised + unrealised − fees
    InitMarginReq  = Σ |position| · initial margin per contract

IB reports a futures position's average cost per contract including the multiplier
(``average price × multiplier``), and so does :meth:`Ledger.line`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sim_broker.account import Account


@dataclass(frozen=True, slots=True)
class Booked:
    """The effect of one execution on the books."""

    new: bool  # False for a duplicate report of an execution already booked
    realised: float | None  # P&L realised by this execution (contract currency), None if it only opened


@dataclass(frozen=True, slots=True)
class Line:
    con_id: int
    position: int
    average_cost: float  # per contract, price × multiplier
    mark: float
    market_value: float
    unrealised: float
    realised: float


class Ledger:
    """Positions and account values of the one simulated account."""

    def __init__(
        self,
        multipliers: Mapping[int, float],
        currencies: Mapping[int, str],
        cash: float,
        base_currency: str = "USD",
        fx: Mapping[str, float] | None = None,
        margins: Mapping[int, float] | None = None,
    ) -> None:
        self._ids = sorted(multipliers)
        self._account = Account({str(k): v for k, v in multipliers.items()})
        self._currency = dict(currencies)
        self._fx = {base_currency: 1.0, **(fx or {})}
        self._margins = dict(margins or {})
        self._marks: dict[int, float] = {}
        self._seen: set[tuple[int, str]] = set()
        self._traded: set[int] = set()
        self.cash = float(cash)
        self.base = base_currency

    def seed(self, con_id: int, quantity: int, price: float) -> None:
        """An opening position held before the session, at average price ``price``."""
        self._account.fill(str(con_id), quantity, price, 0.0)
        self._traded.add(con_id)
        self._marks[con_id] = price

    def book(self, con_id: int, exec_id: str, quantity: int, price: float, fee: float, order: int = 0) -> Booked:
        key = (order, exec_id)
        if key in self._seen:
            return Booked(False, None)
        self._seen.add(key)
        self._traded.add(con_id)
        key = str(con_id)
        before = self._account.state(key)
        self._account.fill(key, quantity, price, fee)
        after = self._account.state(key)
        self._marks[con_id] = price
        closing = before.position != 0 and (before.position > 0) != (quantity > 0)
        return Booked(True, after.realised - before.realised if closing else None)

    def mark(self, con_id: int, price: float) -> None:
        self._marks[con_id] = price

    def margin(self, con_id: int) -> float:
        """Configured initial margin per contract (0: none configured)."""
        return self._margins.get(con_id, 0.0)

    def position(self, con_id: int) -> int:
        return self._account.position(str(con_id))

    def held(self) -> list[int]:
        """Contracts with an open position."""
        return sorted(int(key) for key in self._account.positions())

    def traded(self) -> list[int]:
        """Contracts held or traded today (what IB lists in the portfolio)."""
        return sorted(self._traded)

    def line(self, con_id: int) -> Line:
        s = self._account.state(str(con_id))
        mark = self._marks.get(con_id, s.average_cost)
        return Line(
            con_id,
            s.position,
            s.average_cost * s.multiplier,
            mark,
            s.position * mark * s.multiplier,
            s.unrealised(mark) if s.position else 0.0,
            s.realised,
        )

    def values(self) -> dict[str, float]:
        """Account values in the base currency (see the module docstring)."""
        realised = unrealised = fees = margin = gross = 0.0
        for cid in self._ids:
            key = str(cid)
            fx = self._fx.get(self._currency.get(cid, self.base), 1.0)
            s = self._account.state(key)
            mark = self._marks.get(cid, s.average_cost)
            realised += s.realised * fx
            fees += s.fees * fx
            if s.position:
                unrealised += s.unrealised(mark) * fx
                gross += abs(s.position * mark * s.multiplier) * fx
                margin += abs(s.position) * self._margins.get(cid, 0.0) * fx
        net = self.cash + realised + unrealised - fees
        return {
            "NetLiquidation": net,
            "TotalCashValue": self.cash + realised - fees,
            "RealizedPnL": realised - fees,
            "UnrealizedPnL": unrealised,
            "FuturesPNL": realised + unrealised - fees,
            "GrossPositionValue": gross,
            "InitMarginReq": margin,
            "MaintMarginReq": margin,
            "AvailableFunds": net - margin,
            "ExcessLiquidity": net - margin,
            "BuyingPower": max(0.0, net - margin) * 4.0,
            "EquityWithLoanValue": net,
        }
