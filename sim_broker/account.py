"""Account state of the simulated broker: positions, cash, average cost and P&L.

Per instrument with multiplier ``M`` (currency per price point), position ``p`` (signed
contracts) and average cost ``c`` (price of the open position):

- a fill of ``q`` contracts at price ``x`` with fee ``f`` changes cash by ``−q·x·M − f``;
- the part of ``q`` that reduces ``|p|`` realises ``(x − c)·closed·M`` where ``closed`` is
  the signed quantity closed (positive when closing a long); fees are counted in
  ``fees`` and in cash, not in realised P&L;
- the part that opens or extends a position moves ``c`` to the quantity-weighted average;
  a fill through zero opens the remainder at ``x``;
- unrealised P&L at mark ``m`` is ``(m − c)·p·M``.

So ``cash + Σ p·m·M = initial cash + realised + unrealised − fees`` holds at all times.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PositionState:
    """A snapshot of one instrument's account line (currency amounts in its currency)."""

    instrument: str
    position: int
    average_cost: float
    realised: float
    fees: float
    multiplier: float

    def unrealised(self, mark: float) -> float:
        return (mark - self.average_cost) * self.position * self.multiplier


class _Line:
    __slots__ = ("position", "average_cost", "realised", "fees", "multiplier")

    def __init__(self, multiplier: float) -> None:
        self.position = 0
        self.average_cost = 0.0
        self.realised = 0.0
        self.fees = 0.0
        self.multiplier = multiplier


class Account:
    """Positions and cash; :meth:`fill` is the only mutator."""

    def __init__(self, multipliers: dict[str, float], cash: float = 0.0) -> None:
        self._lines = {name: _Line(m) for name, m in multipliers.items()}
        self.cash = float(cash)

    def fill(self, instrument: str, quantity: int, price: float, fee: float) -> None:
        """Book an execution of signed ``quantity`` at ``price`` with ``fee`` (currency)."""
        line = self._lines[instrument]
        mult = line.multiplier
        self.cash -= quantity * price * mult + fee
        line.fees += fee
        pos = line.position
        new = pos + quantity
        if pos == 0 or (pos > 0) == (quantity > 0):
            line.average_cost = (line.average_cost * pos + price * quantity) / new
        else:
            closed = -quantity if abs(quantity) <= abs(pos) else pos
            line.realised += (price - line.average_cost) * closed * mult
            if new == 0:
                line.average_cost = 0.0
            elif (new > 0) != (pos > 0):
                line.average_cost = price
        line.position = new

    def position(self, instrument: str) -> int:
        return self._lines[instrument].position

    def positions(self) -> dict[str, int]:
        """Non-zero positions by instrument."""
        return {name: line.position for name, line in self._lines.items() if line.position}

    def state(self, instrument: str) -> PositionState:
        line = self._lines[instrument]
        return PositionState(instrument, line.position, line.average_cost, line.realised, line.fees, line.multiplier)

    def equity(self, marks: dict[str, float]) -> float:
        """Cash plus the marked value of every position: ``cash + Σ p·m·M``."""
        return self.cash + sum(line.position * marks[name] * line.multiplier for name, line in self._lines.items() if line.position)
