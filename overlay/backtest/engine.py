"""The policy backtest: the planner run over time, vectorised over paths.

:func:`simulate` runs one policy and one implementation over ``P`` histories at once (one
for the historical run, thousands for resampled ones): every array has the paths on its
first axis. On each date ``t ≥ 1``, in this order:

1. **Markets move** over the period ending at ``t``: sleeve returns ``R``, cash earns (or a
   negative balance pays) ``c = cash_rate · Δt``. A future's P&L is its exposure times the
   sleeve's excess return ``e = (1 + R) / (1 + c) − 1`` (financing is implicit in the
   cost-of-carry price) and its exposure per contract grows by ``1 + e``; a swap (reset every
   period) pays ``n · (R − (c + spread · Δt))``. Both settle in cash.
2. **Rolls**: on the first date on or after a future's roll date every open contract is
   rolled at the roll cost (:mod:`overlay.backtest.costs`); rolls are not rebalances.
3. **The planner decides** (:func:`overlay.plan.decide.decide`) on the sleeves' exposures
   (physical plus overlay), the investable base ``NAV − buffer`` (NAV includes cash, which may
   be negative), the trailing momentum and volatility, and whether the calendar is due.
   ``max_abs_drift`` is measured here, before the date's trades.
4. **Trades.** ``physical``: each sleeve trades its exposure change; sells take tax lots,
   buys open one; costs are paid from cash. ``synthetic``: each change is sized along the
   sleeve's overlay list by the planner's sizing rule (:func:`overlay.plan.sizing.size_changes`:
   whole contracts, a swap takes the remainder); physical holdings do not move. ``hybrid``:
   as synthetic, and before the decision the cash above the buffer (futures P&L, swap
   payments, interest, less costs and taxes) is a cash flow into the physical sleeves, routed
   by the planner's rule (:func:`overlay.plan.sizing.route_cash_flows`: most underweight
   first; a negative balance is raised from the most overweight), so the physical holdings
   move toward the policy over time while the overlay holds the rest. These flows are
   turnover, not rebalances.
5. **Taxes** on the date's realised physical gains are paid from cash (:mod:`ledger`); at
   each year end, futures P&L under Section 1256 and swap payments as ordinary income.

NAV after step 5 is the date's NAV. Turnover counts half the gross value traded (physical
value, or futures and swap notional change). Initial margin (``Σ |contracts| · margin per
contract``, growing with the contract's price) is held from cash, which earns the cash rate
wherever it sits, so it moves no NAV; its peak is reported.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from overlay.backtest.book import Book, PolicyRun
from overlay.backtest.ledger import LotLedger, Realised, net_tax, ordinary, section_1256
from overlay.backtest.rolls import last_weekday, roll_mask
from overlay.plan.bands import add_months, next_calendar_date
from overlay.config.backtest import Implementation
from overlay.config.models import Trigger
from overlay.plan.decide import TRIGGER_CODES, Rule, decide
from overlay.plan.sizing import LegKind, route_cash_flows, size_changes


@dataclass(frozen=True)
class Paths:
    """``P`` histories on the same ``H + 1`` dates: ``returns`` (P, H, S) per period and
    ``rates`` (P, H) annualised cash rate over each period; each period is ``period_years``."""

    dates: tuple[dt.date, ...]
    returns: np.ndarray
    rates: np.ndarray
    period_years: float

    @property
    def count(self) -> int:
        return self.returns.shape[0]


@dataclass
class Outcome:
    """What one policy × implementation did on every path (arrays over paths).

    ``nav`` (P, H + 1); money in base currency. ``trace`` (with ``trace=True``) holds per
    path and date the ``weights`` after trades (P, H + 1, S), ``cash``, ``costs``, ``taxes``
    and one-way value ``traded`` (P, H + 1).
    """

    nav: np.ndarray
    costs: np.ndarray
    taxes: np.ndarray
    traded: np.ndarray
    rebalances: np.ndarray
    rolls: np.ndarray
    max_abs_drift: np.ndarray
    peak_margin: np.ndarray
    trace: dict[str, np.ndarray] | None = None


def trailing_signals(returns: np.ndarray, momentum_periods: int, vol_periods: int, periods_per_year: float) -> tuple[np.ndarray, np.ndarray]:
    """(momentum, vol), each (P, H + 1, S): at date ``t`` the compound return of the last
    ``momentum_periods`` periods and the annualised standard deviation (ddof 1) of the last
    ``vol_periods`` returns; NaN until enough periods have passed."""
    p, h, s = returns.shape
    zero = np.zeros((p, 1, s))
    logs = np.concatenate((zero, np.cumsum(np.log1p(returns), axis=1)), axis=1)
    mom = np.full((p, h + 1, s), np.nan)
    m = momentum_periods
    if m <= h:
        mom[:, m:] = np.expm1(logs[:, m:] - logs[:, :-m])
    vol = np.full((p, h + 1, s), np.nan)
    v = vol_periods
    if v <= h:
        c1 = np.concatenate((zero, np.cumsum(returns, axis=1)), axis=1)
        c2 = np.concatenate((zero, np.cumsum(returns**2, axis=1)), axis=1)
        s1 = c1[:, v:] - c1[:, :-v]
        s2 = c2[:, v:] - c2[:, :-v]
        var = np.maximum((s2 - s1 * s1 / v) / (v - 1), 0.0)
        vol[:, v:] = np.sqrt(var * periods_per_year)
    return mom, vol


def calendar_due_index(dates: Sequence[dt.date], policy: PolicyRun) -> np.ndarray:
    """For each date index ``t``: the first date index on or after the planner's next calendar
    date after ``dates[t]`` (``len(dates)`` when beyond the run)."""
    d = np.array(dates, dtype="datetime64[D]")
    due = np.array([_next_review(day, policy) for day in dates], dtype="datetime64[D]")
    return np.searchsorted(d, due, side="left")


def _next_review(day: dt.date, policy: PolicyRun) -> dt.date:
    """The planner's next calendar date; where no exchange calendar reaches (the 1920s), the
    last weekday of the same month."""
    try:
        return next_calendar_date(day, policy.calendar)
    except ValueError:
        due = add_months(day, policy.calendar.months)
        return last_weekday(due.year, due.month)


Run = tuple[PolicyRun, Implementation]


def _signals(runs: Sequence[Run], paths: Paths, ppy: float) -> tuple[np.ndarray, np.ndarray]:
    """Momentum and vol per row (run-major), each (rows, H + 1, S)."""
    cache: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}
    moms, vols = [], []
    for policy, _ in runs:
        key = (policy.momentum_periods, policy.vol_periods)
        if key not in cache:
            cache[key] = trailing_signals(paths.returns, *key, ppy)
        moms.append(cache[key][0])
        vols.append(cache[key][1])
    return np.concatenate(moms), np.concatenate(vols)


def simulate(book: Book, runs: Sequence[Run], paths: Paths, *, trace: bool = False) -> list[Outcome]:
    """Run every (policy, implementation) of ``runs`` over every path of ``paths``.

    All runs go through the loop together: row ``r · P + p`` is run ``r`` on path ``p``, and
    the planner decides for every row at once. Returns one :class:`Outcome` per run.
    """
    P, H, S = paths.returns.shape
    nR = len(runs)
    N = nR * P
    dates = paths.dates
    dtau = paths.period_years
    ppy = 1.0 / dtau
    K, W = len(book.futures), len(book.swaps)
    rule = Rule.stack([policy.rule for policy, _ in runs], repeat=P)
    path_of = np.tile(np.arange(P), nR)
    run_of = np.repeat(np.arange(nR), P)
    physical = np.repeat([impl is Implementation.PHYSICAL for _, impl in runs], P)
    hybrid = np.repeat([impl is Implementation.HYBRID for _, impl in runs], P)
    synthetic = ~physical  # the rows that rebalance with the overlay (synthetic and hybrid)
    any_hybrid = bool(hybrid.any())
    buffer = np.repeat([policy.buffer for policy, _ in runs], P)
    returns = paths.returns[path_of]
    rates = paths.rates[path_of]

    base0 = book.nav0 * (1.0 - buffer)
    phys = book.targets * base0[:, None]
    cash = book.nav0 - phys.sum(axis=1)
    level = np.ones((N, S))
    q = np.zeros((N, K))
    scale = np.ones((N, K))  # each future's price relative to the start
    notional = np.zeros((N, W))
    f_sleeve = np.array([f.sleeve for f in book.futures], dtype=int)
    s_sleeve = np.array([w.sleeve for w in book.swaps], dtype=int)
    f_map = np.zeros((K, S))
    f_map[np.arange(K), f_sleeve] = 1.0
    s_map = np.zeros((W, S))
    s_map[np.arange(W), s_sleeve] = 1.0
    unit0 = np.array([f.unit0 for f in book.futures])
    notional0 = np.array([f.notional0 for f in book.futures])
    margin0 = np.array([f.margin0 for f in book.futures])
    swap_fx = np.array([w.fx for w in book.swaps])
    swap_spread = np.array([w.spread for w in book.swaps])
    any_synthetic = bool(synthetic.any())
    rolls_due = [roll_mask(f.rolls, dates) for f in book.futures] if any_synthetic else []

    tax = book.tax
    days = np.array([d.toordinal() for d in dates], dtype=np.int64)
    prow = np.flatnonzero(physical | hybrid)  # the ledger holds the lots of the rows that trade physically
    ledger = LotLedger(len(prow), S, H + 1, days, tax) if tax is not None and len(prow) else None
    if ledger is not None:
        ledger.open(phys[prow], np.ones((len(prow), S)))
    carry_st, carry_lt = np.zeros(N), np.zeros(N)
    year_fut, year_swap = np.zeros(N), np.zeros(N)
    carry_fut, carry_swap = np.zeros(N), np.zeros(N)
    year_end = np.array([t < H and dates[t + 1].year != dates[t].year for t in range(H + 1)])

    mom, vol = _signals(runs, paths, ppy)
    due_idx = np.stack([np.append(calendar_due_index(dates, policy), H + 1) for policy, _ in runs])[run_of]
    last = np.zeros(N, dtype=np.int64)
    rows = np.arange(N)
    review_on_calendar = rule.trigger == TRIGGER_CODES[Trigger.BAND_AND_CALENDAR]
    restart_on_trade = np.isin(rule.trigger, [TRIGGER_CODES[Trigger.CALENDAR], TRIGGER_CODES[Trigger.BAND_OR_CALENDAR]])

    nav = np.empty((N, H + 1))
    nav[:, 0] = book.nav0
    out_costs, out_taxes, out_traded = np.zeros(N), np.zeros(N), np.zeros(N)
    out_rebal, out_rolls = np.zeros(N, dtype=np.int64), np.zeros(N, dtype=np.int64)
    max_drift, peak_margin = np.zeros(N), np.zeros(N)
    tr = _new_trace(N, H, S, phys, cash, book.nav0) if trace else None

    for t in range(1, H + 1):
        R = returns[:, t - 1, :]
        c = rates[:, t - 1] * dtau
        # 1. markets move
        phys *= 1.0 + R
        level *= 1.0 + R
        cash *= 1.0 + c
        day_cost = np.zeros(N)
        day_tax = np.zeros(N)
        if K and any_synthetic:
            excess = (1.0 + R[:, f_sleeve]) / (1.0 + c)[:, None] - 1.0
            pnl = (q * unit0 * scale * excess).sum(axis=1)
            scale *= 1.0 + excess
            cash += pnl
            year_fut += pnl
            # 2. rolls
            for k, due in enumerate(rolls_due):
                if due[t]:
                    day_cost += book.futures[k].market.roll_cost(q[:, k])  # type: ignore[union-attr]
                    out_rolls += q[:, k] != 0
        if W and any_synthetic:
            pay = (notional * swap_fx * (R[:, s_sleeve] - (c[:, None] + swap_spread * dtau))).sum(axis=1)
            cash += pay
            year_swap += pay
        exposures = phys.copy()
        if K and any_synthetic:
            exposures += (q * unit0 * scale) @ f_map
        if W and any_synthetic:
            exposures += (notional * swap_fx) @ s_map
        realised_parts = []
        traded = np.zeros(N)
        if any_hybrid:
            # hybrid: the cash above the buffer is a cash flow into (or out of) the physical
            # sleeves, most underweight (overweight) first, by the planner's routing rule
            nav_t = phys.sum(axis=1) + cash
            amount = np.where(hybrid, cash - buffer * nav_t, 0.0)
            if np.any(np.abs(amount) > 1e-9 * np.abs(nav_t)):
                flows = route_cash_flows(exposures, book.targets * (nav_t * (1.0 - buffer))[:, None], phys, amount)
                value, cost, realised = _trade_physical(book, ledger, t, flows, level, prow)
                phys += flows
                exposures += flows
                cash -= flows.sum(axis=1)
                day_cost += cost
                out_traded += value
                if realised is not None:
                    realised_parts.append(realised)
        # 3. the planner decides
        base = (phys.sum(axis=1) + cash) * (1.0 - buffer)
        np.maximum(max_drift, np.abs(exposures / base[:, None] - book.targets).max(axis=1), out=max_drift)
        cal_due = t >= due_idx[rows, last]
        d = decide(rule, exposures, base, mom[:, t], vol[:, t], cal_due)
        last = np.where(review_on_calendar & cal_due, t, np.where(restart_on_trade & d.rebalance, t, last))
        if d.rebalance.any():
            # 4. trades
            changes = d.changes
            move = np.where(physical[:, None], changes, 0.0)
            if physical.any() and move.any():
                value, cost, realised = _trade_physical(book, ledger, t, move, level, prow)
                phys += move
                cash -= move.sum(axis=1)
                day_cost += cost
                traded += value
                if realised is not None:
                    realised_parts.append(realised)
            overlay = np.where(synthetic[:, None], changes, 0.0)
            if any_synthetic and overlay.any():
                value, cost, dq, dn = _trade_synthetic(book, overlay, unit0 * scale, notional0 * scale)
                q += dq
                notional += dn
                day_cost += cost
                traded += value
            out_rebal += traded > 0
        if realised_parts:
            # 5. taxes on the gains realised today
            total = Realised(*(sum(getattr(r, f) for r in realised_parts) for f in Realised.__slots__))
            due, carry_st, carry_lt = net_tax(total, carry_st, carry_lt, tax)  # type: ignore[arg-type]
            day_tax += due
        if tax is not None and year_end[t] and any_synthetic:
            if K:
                due, carry_fut = section_1256(year_fut, carry_fut, tax)
                day_tax += due
            if W:
                due, carry_swap = ordinary(year_swap, carry_swap, tax)
                day_tax += due
            year_fut[:] = 0.0
            year_swap[:] = 0.0
        cash -= day_cost + day_tax
        out_costs += day_cost
        out_taxes += day_tax
        out_traded += traded
        nav[:, t] = phys.sum(axis=1) + cash
        if K and any_synthetic:
            np.maximum(peak_margin, (np.abs(q) * margin0 * scale).sum(axis=1), out=peak_margin)
        if tr is not None:
            after = phys + (q * unit0 * scale) @ f_map + (notional * swap_fx) @ s_map
            tr["weights"][:, t] = after / nav[:, t, None]
            tr["cash"][:, t] = cash
            tr["costs"][:, t] = day_cost
            tr["taxes"][:, t] = day_tax
            tr["traded"][:, t] = traded
    outcomes = []
    for r in range(nR):
        sl = slice(r * P, (r + 1) * P)
        outcomes.append(
            Outcome(
                nav[sl], out_costs[sl], out_taxes[sl], out_traded[sl], out_rebal[sl], out_rolls[sl], max_drift[sl], peak_margin[sl],
                {k: v[sl] for k, v in tr.items()} if tr is not None else None,
            )
        )
    return outcomes


def _trade_physical(book: Book, ledger: LotLedger | None, t: int, changes: np.ndarray, level: np.ndarray, prow: np.ndarray):
    """(one-way value traded, costs, realised gains or None) of physical trades ``changes``;
    the ledger's rows are the rows ``prow``."""
    P, S = changes.shape
    cost = np.zeros(P)
    for i, model in enumerate(book.physical_costs):
        if model is not None:
            cost += model(changes[:, i])
    realised = None
    if ledger is not None:
        ch, lv = changes[prow], level[prow]
        sells = np.maximum(-ch, 0.0)
        parts = []
        for i in range(S):
            if sells[:, i].any():
                parts.append(ledger.sell(t, i, sells[:, i] / lv[:, i], lv[:, i]))
        parts.append(ledger.buy(t, np.maximum(ch, 0.0) / lv, lv))
        fields = []
        for f in Realised.__slots__:
            full = np.zeros(P)
            full[prow] = sum(getattr(r, f) for r in parts)
            fields.append(full)
        realised = Realised(*fields)
    return 0.5 * np.abs(changes).sum(axis=1), cost, realised


def _trade_synthetic(book: Book, changes: np.ndarray, unit: np.ndarray, contract_value: np.ndarray):
    """(one-way notional traded, costs, contracts per future, notional per swap)."""
    P, S = changes.shape
    dq = np.zeros((P, len(book.futures)))
    dn = np.zeros((P, len(book.swaps)))
    gross = np.zeros(P)
    cost = np.zeros(P)
    for i in range(S):
        legs = book.legs[i]
        if not legs or not changes[:, i].any():
            continue
        units = np.column_stack([unit[:, j] if kind is LegKind.FUTURE else np.full(P, book.swaps[j].fx) for kind, j in legs])
        qty, _, _ = size_changes(changes[:, i], book.sleeve_legs(i), units)
        for col, (kind, j) in enumerate(legs):
            if kind is LegKind.FUTURE:
                fut = book.futures[j]
                dq[:, j] += qty[:, col]
                gross += np.abs(qty[:, col]) * contract_value[:, j]
                cost += fut.market.trade_cost(qty[:, col], contract_value[:, j])  # type: ignore[union-attr]
            else:
                sw = book.swaps[j]
                dn[:, j] += qty[:, col]
                value = np.abs(qty[:, col]) * sw.fx
                gross += value
                cost += np.where(value > 0, value * sw.booking_bps * 1e-4 + sw.ticket_fee * sw.fx, 0.0)
    return 0.5 * gross, cost, dq, dn


def _new_trace(N: int, H: int, S: int, phys: np.ndarray, cash: np.ndarray, nav0: float) -> dict[str, np.ndarray]:
    tr = {
        "weights": np.zeros((N, H + 1, S)),
        "cash": np.zeros((N, H + 1)),
        "costs": np.zeros((N, H + 1)),
        "taxes": np.zeros((N, H + 1)),
        "traded": np.zeros((N, H + 1)),
    }
    tr["weights"][:, 0] = phys / nav0
    tr["cash"][:, 0] = cash
    return tr
