"""OTC booking of total-return-swap notional changes.

A swap is not sliced: the whole notional change is booked with a dealer in one step, at a
modelled cost from :func:`pricing.swaps.booking_cost`,

    C = |ΔN| · c_bps / 10,000 + ticket_fee       (swap currency; 0 when ΔN = 0)

where ``c_bps`` is the dealer's charge (its half bid–ask on the reference index) and the
ticket fee is charged once per booking. The booking is reported alongside the futures in
the same shape as a worked order: ``spread`` carries the proportional charge, ``fees`` the
ticket fee, ``impact`` is zero (a dealer quote has no market impact of ours to measure).
"""

from __future__ import annotations

from dataclasses import dataclass

from pricing.swaps import TrsTerms, booking_cost


@dataclass(frozen=True, slots=True)
class SwapBooking:
    instrument: str
    notional: float  # signed change, swap currency
    time: float  # loop time of the booking
    spread_cost: float  # proportional dealer charge, currency
    fee: float  # ticket fee, currency

    @property
    def cost(self) -> float:
        return self.spread_cost + self.fee

    @property
    def cost_bps(self) -> float:
        return self.cost / abs(self.notional) * 1e4 if self.notional else 0.0


def book_swap(instrument: str, notional_change: float, terms: TrsTerms, time: float = 0.0) -> SwapBooking:
    """Book one notional change in a single OTC step at the modelled cost."""
    total = float(booking_cost(notional_change, terms))
    fee = terms.ticket_fee if notional_change else 0.0
    return SwapBooking(instrument, float(notional_change), float(time), total - fee, fee)


def booking_costs(b: SwapBooking):
    """The booking as a :class:`execution.tca.CostSplit`: spread the dealer's charge, fees the
    ticket fee, no delay, impact or timing (a dealer quote at the decision)."""
    from execution.tca import CostSplit

    return CostSplit(delay=0.0, spread=b.spread_cost, impact=0.0, fees=b.fee, timing=0.0)


def booking_json(b: SwapBooking, currency: str = "") -> dict:
    """A swap booking as an entry of ``overlay simulate --json``'s ``orders`` list."""
    n = abs(b.notional)

    def bps(x: float) -> float:
        return round(x / n * 1e4, 4) if n else 0.0

    return {
        "instrument": b.instrument,
        "side": "buy" if b.notional > 0 else "sell",
        "quantity": b.notional,
        "filled": b.notional,
        "avg_price": None,
        "arrival_price": None,
        "interval_vwap": None,
        "currency": currency,
        "decision_price": None,
        "shortfall_bps": round(b.cost_bps, 4),
        "delay_bps": 0.0,
        "spread_bps": bps(b.spread_cost),
        "impact_bps": 0.0,
        "timing_bps": 0.0,
        "fees_bps": bps(b.fee),
        "vwap_slippage_bps": None,
        "participation": None,
        "child_orders": 0,
        "costs": {"shortfall": round(b.cost, 2), "delay": 0.0, "spread": round(b.spread_cost, 2), "impact": 0.0,
                  "timing": 0.0, "fees": round(b.fee, 2), "opportunity": 0.0, "paper_shortfall": round(b.cost, 2)},
        "unfilled": 0,  # a swap is booked whole
        "end_price": None,
        "opportunity_bps": 0.0,
        "paper_shortfall_bps": round(b.cost_bps, 4),
    }
