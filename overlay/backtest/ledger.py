"""Tax lots and realised-gain taxes of a backtest, vectorised over paths.

Lots (:class:`LotLedger`): arrays ``(paths, sleeves, slots)``; slot ``t`` holds the lot
bought on date index ``t`` (one per sleeve and date), as ``units`` of the sleeve's index
bought at ``price`` (basis per unit) and the acquisition date. The first date holds one lot
per sleeve, bought at the start.

Wash sales (§ 1091, :mod:`overlay.tax.wash`): a loss sold within ``wash_sale_days`` of a
purchase of the same sleeve (before or after) is disallowed in proportion to the replacement
value, each purchase replacing once, and added to the replacement lot's basis; a purchase
after the sale disallows the loss on its own date (the correction is netted then). The
starting lots are not purchases. Each lot keeps one open loss: a lot sold at a loss twice
inside one window keeps the later sale's open loss only (rare: it takes two loss sales of one
lot and a later purchase within the window).

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
        shape = (sleeves, paths, dates)
        self.units = np.zeros(shape)
        self.price = np.zeros(shape)
        self.days = np.asarray(day_numbers, dtype=np.int64)  # day number of each date index
        self.tax = tax
        self.used = 0  # slots 0 .. used - 1 may hold lots
        # Wash sales: what each purchase (slot = its date) can still replace, and per lot the
        # loss sold from it whose window is still open (value not yet replaced, loss per unit
        # of value, day, long-term, order within its sale).
        self.capacity = np.zeros(shape)
        self.pending = np.zeros(shape)
        self.pending_density = np.zeros(shape)
        self.pending_day = np.zeros(shape, dtype=np.int64)
        self.pending_long = np.zeros(shape, dtype=bool)
        self.pending_rank = np.zeros(shape)
        self.last_loss_day = np.full((sleeves, paths), np.iinfo(np.int64).min // 2, dtype=np.int64)

    def open(self, units: np.ndarray, price: np.ndarray) -> None:
        """The starting lots (date index 0): held, not purchases for the wash-sale rule."""
        self.units[:, :, 0] = units.T
        self.price[:, :, 0] = price.T
        self.used = max(self.used, 1)

    def buy(self, t: int, units: np.ndarray, price: np.ndarray) -> Realised:
        """Lots bought on date index ``t``: ``units`` (paths, sleeves) at ``price`` each.

        Returns the losses of earlier sales this purchase disallows (wash sales matched after
        the sale) as gains of their terms, to be netted on this date.
        """
        out = Realised(*(np.zeros(units.shape[0]) for _ in range(4)))
        self.used = max(self.used, t + 1)
        for s in range(units.shape[1]):
            rows = np.flatnonzero(units[:, s] > 0)
            if not len(rows):
                continue
            value = units[rows, s] * price[rows, s]
            extra, used = self._match_later_purchase(t, s, rows, value, out)
            self.units[s, rows, t] += units[rows, s]
            self.price[s, rows, t] = (value + extra) / units[rows, s]
            self.capacity[s, rows, t] = value - used
        return out

    def _match_later_purchase(
        self, t: int, s: int, rows: np.ndarray, value: np.ndarray, out: Realised
    ) -> tuple[np.ndarray, np.ndarray]:
        """Match a purchase against open loss sales (date order, then sale order): (loss
        disallowed, value of the purchase used as a replacement) per row."""
        n = self.used
        extra, used_up = np.zeros(len(rows)), np.zeros(len(rows))
        window = self.tax.wash_sale_days
        recent = np.flatnonzero(self.days[t] - self.last_loss_day[s, rows] <= window)
        if not len(recent):
            return extra, used_up
        rows, value = rows[recent], value[recent]
        open_ = (self.pending[s, rows, :n] > 0) & (self.days[t] - self.pending_day[s, rows, :n] <= window)
        key = np.where(open_, self.pending_day[s, rows, :n] * 1e6 + self.pending_rank[s, rows, :n], np.inf)
        order = np.argsort(key, axis=1, kind="stable")
        unmatched = np.take_along_axis(np.where(open_, self.pending[s, rows, :n], 0.0), order, axis=1)
        after = np.cumsum(unmatched, axis=1)
        used = np.clip(np.minimum(after, value[:, None]) - (after - unmatched), 0.0, unmatched)
        density = np.take_along_axis(self.pending_density[s, rows, :n], order, axis=1)
        long = np.take_along_axis(self.pending_long[s, rows, :n], order, axis=1)
        disallowed = used * density
        back = np.empty_like(used)
        np.put_along_axis(back, order, used, axis=1)
        self.pending[s, rows, :n] -= back
        out.long_gain[rows] += np.where(long, disallowed, 0.0).sum(axis=1)
        out.short_gain[rows] += np.where(long, 0.0, disallowed).sum(axis=1)
        used_up[recent] = used.sum(axis=1)
        extra[recent] = disallowed.sum(axis=1)
        return extra, used_up

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
            rank = np.broadcast_to(np.arange(n, dtype=float), take.shape)
        else:
            take, rank = self._highest_first(held, basis, left, newest_first=self.tax.lot_method is LotMethod.LOSS_FIRST)
        held -= take
        held[held < DUST_UNITS] = 0.0
        self.units[sleeve, rows, :n] = held
        # Slots are in date order, so the long-term lots are a prefix of them.
        k = int(np.searchsorted(self.days[:n], self.days[t] - self.tax.long_after_days, side="left"))
        gain = np.subtract(price[rows, None], basis, out=basis)
        gain *= take
        disallowed = np.zeros_like(gain)
        lossy = np.flatnonzero((gain < 0).any(axis=1))  # rows that sold some lot at a loss
        if len(lossy):
            cols = np.flatnonzero((gain[lossy] < 0).any(axis=0))
            sub = np.ix_(lossy, cols)
            disallowed[sub] = self._wash(
                t, sleeve, rows[lossy], cols, (take * price[rows, None])[sub], np.maximum(-gain[sub], 0.0), rank[sub], k
            )
        for part, won, lost, cut in (
            (gain[:, :k], out.long_gain, out.long_loss, disallowed[:, :k]),
            (gain[:, k:], out.short_gain, out.short_loss, disallowed[:, k:]),
        ):
            if part.shape[1]:
                positive = np.maximum(part, 0.0).sum(axis=1)
                won[rows] = positive
                lost[rows] = positive - part.sum(axis=1) - cut.sum(axis=1)
        return out

    def _wash(
        self, t: int, s: int, rows: np.ndarray, cols: np.ndarray, value: np.ndarray, loss: np.ndarray, rank: np.ndarray, k: int
    ) -> np.ndarray:
        """Disallowed loss per lot sold (rows × lot slots ``cols``) against purchases of the window before the
        sale (date order; each replaces its value once); the rest of each loss stays open for
        purchases after the sale. Adds the disallowed loss to the replacements' basis."""
        n = self.used
        window = self.tax.wash_sale_days
        sold = (loss > 0) & (value > 0)
        disallowed = np.zeros_like(loss)
        if not sold.any():
            return disallowed
        # the loss sales in the order the sell took them
        key = np.where(sold, rank, np.inf)
        order = np.argsort(key, axis=1, kind="stable")
        v = np.take_along_axis(np.where(sold, value, 0.0), order, axis=1)
        lv = np.take_along_axis(np.where(sold, loss, 0.0), order, axis=1)
        need_after = np.cumsum(v, axis=1)
        first = int(np.searchsorted(self.days[:n], self.days[t] - window, side="left"))
        cap = self.capacity[s, rows, first:t]  # purchases before the sale, in date order
        total_cap = cap.sum(axis=1)
        used = np.clip(np.minimum(need_after, total_cap[:, None]) - (need_after - v), 0.0, v)
        with np.errstate(divide="ignore", invalid="ignore"):
            density = np.where(v > 0, lv / np.where(v > 0, v, 1.0), 0.0)
        cut = used * density
        np.put_along_axis(disallowed, order, cut, axis=1)
        # open what is left of each loss for later purchases
        left = np.zeros_like(loss)
        np.put_along_axis(left, order, v - used, axis=1)
        dens = np.zeros_like(loss)
        np.put_along_axis(dens, order, density, axis=1)
        opened = left > 0
        if opened.any():
            r_idx, c_idx = np.nonzero(opened)
            l_idx = cols[c_idx]
            self.pending[s, rows[r_idx], l_idx] = left[r_idx, c_idx]
            self.pending_density[s, rows[r_idx], l_idx] = dens[r_idx, c_idx]
            self.pending_day[s, rows[r_idx], l_idx] = self.days[t]
            self.pending_long[s, rows[r_idx], l_idx] = l_idx < k
            self.pending_rank[s, rows[r_idx], l_idx] = rank[r_idx, c_idx]
            self.last_loss_day[s, rows[r_idx]] = self.days[t]
        if cap.shape[1] and (cut > 0).any():
            # purchase j replaced the stretch [C_{j-1}, C_j) of the sold value: its basis takes
            # the loss sold along that stretch (the cumulative loss, linear within each sale)
            cum_cap = np.cumsum(cap, axis=1)
            cum_loss = np.cumsum(lv, axis=1)

            def loss_until(x: np.ndarray) -> np.ndarray:
                i = (need_after[:, :, None] < x[:, None, :]).sum(axis=1)  # sales wholly before x
                i_c = np.minimum(i, v.shape[1] - 1)
                start = np.take_along_axis(need_after - v, i_c, axis=1)
                base = np.take_along_axis(cum_loss - lv, i_c, axis=1)
                dens_i = np.take_along_axis(density, i_c, axis=1)
                part = base + dens_i * np.clip(x - start, 0.0, np.take_along_axis(v, i_c, axis=1))
                return np.where(i >= v.shape[1], cum_loss[:, -1:], part)

            top = np.minimum(cum_cap, need_after[:, -1:])
            bottom = np.minimum(cum_cap - cap, need_after[:, -1:])
            added = loss_until(top) - loss_until(bottom)
            consumed = top - bottom
            self.capacity[s, rows, first:t] -= consumed
            held = self.units[s, rows, first:t]
            with np.errstate(divide="ignore", invalid="ignore"):
                bump = np.where(held > 0, added / np.where(held > 0, held, 1.0), 0.0)
            self.price[s, rows, first:t] += bump
        return disallowed

    @staticmethod
    def _highest_first(held: np.ndarray, basis: np.ndarray, left: np.ndarray, newest_first: bool) -> np.ndarray:
        """(units taken from each lot, the order each was taken in), highest basis per unit
        first (ties: oldest, or newest)."""
        take = np.zeros_like(held)
        rank = np.zeros_like(held)
        step = 0
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
            rank[active, col] = step
            step += 1
            left[active] = np.where(empty, 0.0, left[active] - got)
            key[active, j] = -np.inf  # this lot is used up, or the sale is done
            active = active[left[active] > 0]
        return take, rank


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
