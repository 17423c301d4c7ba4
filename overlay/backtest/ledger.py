"""Tax lots and realised-gain taxes of a backtest, vectorised over paths.

Lots (:class:`LotLedger`): arrays ``(paths, sleeves, slots)``; slot ``t`` holds the lot
bought on date index ``t`` (one per sleeve and date), as ``units`` of the sleeve's index
bought at ``price`` (basis per unit) and the acquisition date. The first date holds one lot
per sleeve, bought at the start.

Sells take lots in the order of ``lot_method`` (tax.md): ``fifo`` oldest first; ``hifo``
highest basis per unit of current value first; ``loss_first`` lots at a loss first, the
largest loss per unit of value first (short-term before long-term at equal ratios), then
``hifo``. Within one sleeve every lot has the same current price, so the loss per unit of
value ``price_lot / price_now − 1`` orders lots exactly as their basis per unit does:
``loss_first`` is ``hifo`` with ties broken toward the newest (short-term) lot. A lot may be
sold in part (pro rata in units and basis).

Gain of a (part) lot = value sold − basis sold; long-term when held more than
``long_after_days``. Taxes (:func:`net_tax`): short-term gains net against short-term
losses and long-term against long-term, then a net loss of one term against a net gain of
the other; tax = net short-term gain × ``short_term`` + net long-term gain × ``long_term``,
each floored at 0; a net loss left over is carried forward with its term against later
gains of the run (never refunded).

Futures under Section 1256 (:func:`section_1256`): the year's futures P&L is marked at each
year end and taxed 60 % at the long-term and 40 % at the short-term rate; a net loss is
carried forward against later futures gains. Swap payments are ordinary income, netted over
the year and taxed at the short-term rate at year end, losses carried forward the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from overlay.config.backtest import BacktestTax
from overlay.config.tax import LotMethodName as LotMethod

#: Units left in a lot below this are sold with it (float dust from partial sales).
DUST_UNITS = 1e-6


@dataclass(frozen=True, slots=True)
class Realised:
    """Gains and losses (positive amounts) realised by one batch of sells, per path."""

    short_gain: np.ndarray
    short_loss: np.ndarray
    long_gain: np.ndarray
    long_loss: np.ndarray


class LotLedger:
    """Open lots of every path and sleeve (see the module docstring).

    Arrays are kept per sleeve, ``(sleeves, paths, slots)``, so that a sell reads one
    contiguous block; only the paths that sell are touched.
    """

    def __init__(self, paths: int, sleeves: int, dates: int, day_numbers: np.ndarray, tax: BacktestTax) -> None:
        self.units = np.zeros((sleeves, paths, dates))
        self.price = np.zeros((sleeves, paths, dates))
        self.days = np.asarray(day_numbers, dtype=np.int64)  # day number of each date index
        self.tax = tax
        self.used = 0  # slots 0 .. used - 1 may hold lots

    def buy(self, t: int, units: np.ndarray, price: np.ndarray) -> None:
        """Lots bought on date index ``t``: ``units`` (paths, sleeves) at ``price`` each."""
        self.units[:, :, t] += units.T
        self.price[:, :, t] = price.T
        self.used = max(self.used, t + 1)

    def sell(self, t: int, sleeve: int, units: np.ndarray, price: np.ndarray) -> Realised:
        """Sell ``units`` (paths,) of ``sleeve`` at ``price`` (paths,) on date index ``t``."""
        out = Realised(*(np.zeros(len(units)) for _ in range(4)))
        rows = np.flatnonzero(units > 0)
        if not len(rows):
            return out
        n = self.used
        held = self.units[sleeve, rows, :n]
        basis = self.price[sleeve, rows, :n]
        left = units[rows]
        if self.tax.lot_method is LotMethod.FIFO:
            before = np.cumsum(held, axis=1)
            before -= held
            take = np.clip(left[:, None] - before, 0.0, held)
        else:
            take = self._highest_first(held, basis, left, newest_first=self.tax.lot_method is LotMethod.LOSS_FIRST)
        held -= take
        held[held < DUST_UNITS] = 0.0
        self.units[sleeve, rows, :n] = held
        # Slots are in date order, so the long-term lots are a prefix of them.
        k = int(np.searchsorted(self.days[:n], self.days[t] - self.tax.long_after_days, side="left"))
        gain = np.subtract(price[rows, None], basis, out=basis)
        gain *= take
        for part, won, lost in ((gain[:, :k], out.long_gain, out.long_loss), (gain[:, k:], out.short_gain, out.short_loss)):
            if part.shape[1]:
                positive = np.maximum(part, 0.0).sum(axis=1)
                won[rows] = positive
                lost[rows] = positive - part.sum(axis=1)
        return out

    @staticmethod
    def _highest_first(held: np.ndarray, basis: np.ndarray, left: np.ndarray, newest_first: bool) -> np.ndarray:
        """Units taken from each lot, highest basis per unit first (ties: oldest, or newest)."""
        take = np.zeros_like(held)
        key = np.where(held > 0, basis, -np.inf)
        if newest_first:
            key = key[:, ::-1]
        left = left.copy()
        active = np.flatnonzero(left > 0)
        while len(active):
            j = np.argmax(key[active], axis=1)
            col = key.shape[1] - 1 - j if newest_first else j
            avail = held[active, col] - take[active, col]
            empty = ~np.isfinite(key[active, j]) | (avail <= 0)
            got = np.where(empty, 0.0, np.minimum(left[active], avail))
            take[active, col] += got
            left[active] = np.where(empty, 0.0, left[active] - got)
            key[active, j] = -np.inf  # this lot is used up, or the sale is done
            active = active[left[active] > 0]
        return take


def net_tax(
    realised: Realised, carry_short: np.ndarray, carry_long: np.ndarray, tax: BacktestTax
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(tax, new short-term carry, new long-term carry) per path; see the module docstring."""
    st = realised.short_gain - realised.short_loss - carry_short
    lt = realised.long_gain - realised.long_loss - carry_long
    # A net loss of one term offsets a net gain of the other; what is left keeps its term.
    st_into_lt = (st < 0) & (lt > 0)
    lt_into_st = (lt < 0) & (st > 0)
    both = st + lt
    st, lt = (
        np.where(st_into_lt, np.minimum(both, 0.0), np.where(lt_into_st, np.maximum(both, 0.0), st)),
        np.where(st_into_lt, np.maximum(both, 0.0), np.where(lt_into_st, np.minimum(both, 0.0), lt)),
    )
    due = np.maximum(st, 0.0) * tax.short_term + np.maximum(lt, 0.0) * tax.long_term
    return due, np.maximum(-st, 0.0), np.maximum(-lt, 0.0)


def section_1256(year_pnl: np.ndarray, carry: np.ndarray, tax: BacktestTax) -> tuple[np.ndarray, np.ndarray]:
    """(tax, new carry) for a year's futures P&L: 60 % long-term, 40 % short-term."""
    net = year_pnl - carry
    rate = 0.6 * tax.long_term + 0.4 * tax.short_term
    return np.maximum(net, 0.0) * rate, np.maximum(-net, 0.0)


def ordinary(year_pnl: np.ndarray, carry: np.ndarray, tax: BacktestTax) -> tuple[np.ndarray, np.ndarray]:
    """(tax, new carry) for a year's swap payments, at the short-term rate."""
    net = year_pnl - carry
    return np.maximum(net, 0.0) * tax.short_term, np.maximum(-net, 0.0)
