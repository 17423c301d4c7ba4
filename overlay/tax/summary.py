"""Realised gains and losses, netting and the estimated tax (pure).

Over the taxable sales (tax-deferred ones count toward nothing):

- gross amounts, reported as positive numbers: ``short_term_gain``, ``long_term_gain``,
  ``short_term_loss``, ``long_term_loss``; a wash sale's disallowed loss is left out of the
  losses and reported as ``disallowed_loss``;
- netting: ``net_st = st_gain − st_loss``, ``net_lt = lt_gain − lt_loss``; a net loss of one
  term then offsets a net gain of the other;
- ``estimated_tax = max(net_st, 0) × short_term + max(net_lt, 0) × long_term``.

The $3,000 ordinary-income deduction and loss carry-forwards are ignored.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from overlay.tax.lots import LotSale, TaxPolicy, Term
from overlay.tax.wash import WashSale


@dataclass(frozen=True, slots=True)
class TaxSummary:
    """Realised gains and losses (positive amounts, gross of netting) and the estimated tax."""

    short_term_gain: float = 0.0
    long_term_gain: float = 0.0
    short_term_loss: float = 0.0
    long_term_loss: float = 0.0
    disallowed_loss: float = 0.0
    estimated_tax: float = 0.0
    wash_sales: tuple[WashSale, ...] = ()

    @property
    def net_short_term(self) -> float:
        return self.short_term_gain - self.short_term_loss

    @property
    def net_long_term(self) -> float:
        return self.long_term_gain - self.long_term_loss


def estimated_tax(net_short: float, net_long: float, policy: TaxPolicy) -> float:
    """Net the two terms against each other and apply the rates (see the module docstring)."""
    if net_short < 0 < net_long:
        net_long, net_short = net_long + net_short, 0.0
    elif net_long < 0 < net_short:
        net_short, net_long = net_short + net_long, 0.0
    return max(net_short, 0.0) * policy.short_term + max(net_long, 0.0) * policy.long_term


def summarise(
    sales: Sequence[LotSale], policy: TaxPolicy, washes: Iterable[WashSale] = (), late_washes: Iterable[WashSale] = ()
) -> TaxSummary:
    """Sum ``sales`` by term and estimate the tax; ``washes`` (the matches of these sales, as
    :func:`overlay.tax.wash.apply_wash` returns them) are listed in ``wash_sales``.

    ``late_washes``: wash sales found when a purchase was recorded after the sale (see
    :func:`overlay.tax.wash.record_purchase`); their disallowed loss is taken out of the
    losses here (the sale itself is not in ``sales`` when it was realised on an earlier date:
    the disallowed amount is then a correction of the losses, and may leave them negative).
    """
    parts: dict[str, list[float]] = {"sg": [], "lg": [], "sl": [], "ll": [], "d": []}
    for s in sales:
        if not s.taxable:
            continue
        gain = s.gain
        long = s.term is Term.LONG
        if gain >= 0:
            parts["lg" if long else "sg"].append(gain)
        else:
            parts["ll" if long else "sl"].append(-gain - s.disallowed_loss)
            parts["d"].append(s.disallowed_loss)
    late = tuple(late_washes)
    for w in late:
        parts["ll" if w.sale.term is Term.LONG else "sl"].append(-w.disallowed)
        parts["d"].append(w.disallowed)
    st_gain, lt_gain = math.fsum(parts["sg"]), math.fsum(parts["lg"])
    st_loss, lt_loss = math.fsum(parts["sl"]), math.fsum(parts["ll"])
    disallowed = math.fsum(parts["d"])
    tax = estimated_tax(st_gain - st_loss, lt_gain - lt_loss, policy)
    return TaxSummary(st_gain, lt_gain, st_loss, lt_loss, disallowed, tax, tuple(washes) + late)
