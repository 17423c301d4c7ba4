"""Where the self-financing balance of a partial plan goes (pure, vectorised over sleeves).

A plan is self-financing: after it the sleeves' exposures sum to the investable base, so
``Σ changes = base − Σ exposures``. Each sleeve first gets its own move (to the target or
the band edge, times its gap share); deferred sleeves and held illiquid sleeves do not move.
What those moves leave open is the **balance**

    B = (base − Σ exposures) − Σ changes = Σ (target·base − exposure − change)

— the gaps the plan does not close itself (deferred sleeves, held sleeves, partial gap
shares, band-edge moves). ``B > 0`` means exposure must be added somewhere, ``B < 0`` removed.

Rule. The balance goes to the sleeves that are furthest from target in its direction, and
never pushes a sleeve through its target (a sleeve that started below target never ends
above it, and the reverse). It is placed in stages, each used up before the next:

1. ``trade_less``: sleeves trading against the balance (selling when ``B > 0``) trade less,
   ending on their own side of target but inside their band;
2. ``close_more``: sleeves still short of target in the balance's direction (a partial gap
   share, in-band sleeves under ``band_edge``) close more of their gap, up to the target;
3. ``deferral_yields``: deferred sleeves close as much of their gap as the balance needs,
   up to the target (the plan warns): a deferral yields before a sleeve is left outside its
   band by a rebalance;
4. ``trade_less_beyond_band``: stage-1 sleeves trade less still, up to not trading at all;
   they end outside their band (the plan warns);
5. anything left (only when no sleeve can take it, e.g. every other sleeve is held) is
   reported as unplaced; nothing is forced through a target.

Stages 2 and 3 together can always take the whole balance unless sleeves are held: the
sleeves short of target in its direction have, between them, at least ``|B|`` of room.

Within a stage the balance is water-filled in band widths: sleeves end at a common distance
from target measured in their own band half-width on that side (the furthest move first),
which makes the largest remaining drift, in bands, as small as the stage allows.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

#: A balance smaller than this (base currency) is float noise and is not reported.
BALANCE_EPS = 1e-6


class Stage(enum.Enum):
    """How a sleeve took part of the balance (see the module docstring)."""

    TRADE_LESS = "trade_less"
    CLOSE_MORE = "close_more"
    TRADE_LESS_BEYOND_BAND = "trade_less_beyond_band"
    DEFERRAL_YIELDS = "deferral_yields"


@dataclass(frozen=True, slots=True)
class BalanceAllocation:
    """The balance ``amount`` (base currency, sum of ``taken``) and its placement per sleeve.

    ``open_gap``: per sleeve, the gap its own move left open (``target·base − exposure −
    change``), which is where the balance came from; ``taken``: per sleeve, the part of the
    balance added to its change; ``stage``: per sleeve, the last stage it took part in (or
    None); ``unplaced``: what no sleeve could take.
    """

    amount: float
    open_gap: np.ndarray
    taken: np.ndarray
    stage: tuple[Stage | None, ...]
    unplaced: float


def waterfill(start: np.ndarray, scale: np.ndarray, cap: np.ndarray, amount: float) -> np.ndarray:
    """Allocations ``m_i = clip(L·scale_i − start_i, 0, cap_i)`` summing to ``amount``.

    ``L`` is found exactly on the piecewise-linear, non-decreasing ``Σ m_i(L)``; with
    ``amount ≥ Σ cap`` every cap is filled. ``scale > 0``; entries with ``cap = 0`` take nothing.
    """
    cap = np.maximum(cap, 0.0)
    total = float(cap.sum())
    if amount <= 0.0 or total <= 0.0:
        return np.zeros_like(cap)
    if amount >= total:
        return cap.copy()
    live = cap > 0
    s, p, c = scale[live], start[live], cap[live]
    points = np.unique(np.concatenate((p / s, (p + c) / s)))

    def filled(level: float) -> float:
        return float(np.clip(level * s - p, 0.0, c).sum())

    values = np.array([filled(x) for x in points])
    k = int(np.searchsorted(values, amount))  # values[k-1] < amount <= values[k]
    lo, hi = points[k - 1], points[k]
    flo, fhi = values[k - 1], values[k]
    level = lo + (hi - lo) * (amount - flo) / (fhi - flo) if fhi > flo else hi
    out = np.zeros_like(cap)
    out[live] = np.clip(level * s - p, 0.0, c)
    # float noise: the last ulps go to the allocation with the most room left
    left = amount - float(out.sum())
    if left != 0.0:
        room = np.where(left > 0, cap - out, out)
        j = int(np.argmax(room))
        out[j] = min(max(out[j] + left, 0.0), cap[j])
    return out


def allocate(
    exposures: np.ndarray,
    targets: np.ndarray,
    base: float,
    edges: tuple[np.ndarray, np.ndarray],
    changes: np.ndarray,
    deferred: np.ndarray,
    held: np.ndarray,
) -> BalanceAllocation:
    """Place the balance of ``changes`` (see the module docstring); ``deferred`` and ``held``
    are boolean masks (held sleeves never take any of it)."""
    n = len(exposures)
    goal = targets * base
    open_gap = goal - exposures - changes
    amount = float((base - exposures.sum()) - changes.sum())
    taken = np.zeros(n)
    stages: list[Stage | None] = [None] * n
    noise = BALANCE_EPS * max(1.0, abs(base))
    if abs(amount) <= noise:
        return BalanceAllocation(amount, open_gap, taken, tuple(stages), 0.0)
    sign = 1.0 if amount > 0 else -1.0
    lower, upper = edges
    tiny = 1e-9 * max(base, 1.0)
    # band half-width on the side the balance pushes a sleeve to (currency), and the other side
    width_push = np.maximum((upper - targets) * base if sign > 0 else (targets - lower) * base, tiny)
    width_pull = np.maximum((targets - lower) * base if sign > 0 else (upper - targets) * base, tiny)
    free = ~held
    over = sign * (exposures + changes - goal)  # distance past target in the balance's direction

    def take(mask: np.ndarray, start: np.ndarray, scale: np.ndarray, cap: np.ndarray, stage: Stage) -> None:
        nonlocal left
        cap = np.where(mask & (cap > noise), cap, 0.0)
        got = waterfill(start, scale, cap, left)
        taken[:] += sign * got
        for i in np.flatnonzero(got > noise):
            stages[i] = stage
        left -= float(got.sum())

    left = abs(amount)
    against = free & ~deferred & (sign * changes < 0)
    behind = free & (over < 0)
    # 1. trade less, staying inside the band
    take(against, np.maximum(over, 0.0), width_push, np.minimum(np.abs(changes), width_push - np.maximum(over, 0.0)), Stage.TRADE_LESS)
    # 2. close more of an open gap, up to the target (furthest first, in band widths)
    if left > 0:
        gap = np.maximum(-over - sign * taken, 0.0)
        take(behind & ~deferred, -gap, width_pull, gap, Stage.CLOSE_MORE)
    # 3. deferred sleeves close part of their gap, up to the target
    if left > 0:
        gap = np.maximum(-over - sign * taken, 0.0)
        take(behind & deferred, -gap, width_pull, gap, Stage.DEFERRAL_YIELDS)
    # 4. trade less beyond the band edge, up to not trading
    if left > 0:
        take(against, over + sign * taken, width_push, np.abs(changes) - sign * taken, Stage.TRADE_LESS_BEYOND_BAND)
    unplaced = sign * left if left > noise else 0.0
    return BalanceAllocation(amount, open_gap, taken, tuple(stages), unplaced)


def waterfill_rows(start: np.ndarray, scale: np.ndarray, cap: np.ndarray, amount: np.ndarray) -> np.ndarray:
    """:func:`waterfill` for a batch: row ``r`` of the (rows, n) arrays gets ``amount[r]``.

    The same exact level search row by row: a row's breakpoints ``start/scale`` and
    ``(start + cap)/scale`` of its entries with room (the others sort to the end as ``+∞``),
    ``Σ m_i`` at each, and the level interpolated on the segment that holds the amount.
    """
    cap = np.maximum(cap, 0.0)
    total = cap.sum(axis=-1)
    out = np.zeros_like(cap)
    full = (amount > 0.0) & (total > 0.0) & (amount >= total)
    out[full] = cap[full]
    rows = np.flatnonzero((amount > 0.0) & (total > 0.0) & ~full)
    if not len(rows):
        return out
    s, p, c, a = scale[rows], start[rows], cap[rows], amount[rows]
    live = c > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        points = np.concatenate((np.where(live, p / s, np.inf), np.where(live, (p + c) / s, np.inf)), axis=-1)
    points.sort(axis=-1)
    finite = np.where(np.isfinite(points), points, 0.0)
    values = np.clip(finite[:, :, None] * s[:, None, :] - p[:, None, :], 0.0, c[:, None, :]).sum(axis=-1)
    values = np.where(np.isfinite(points), values, np.inf)
    k = (values < a[:, None]).sum(axis=-1)  # values[k-1] < amount <= values[k]
    i = np.arange(len(rows))
    lo, hi, flo, fhi = points[i, k - 1], points[i, k], values[i, k - 1], values[i, k]
    with np.errstate(divide="ignore", invalid="ignore"):
        level = np.where(fhi > flo, lo + (hi - lo) * (a - flo) / (fhi - flo), hi)
    got = np.where(live, np.clip(level[:, None] * s - p, 0.0, c), 0.0)
    left = a - got.sum(axis=-1)
    room = np.where(left[:, None] > 0, c - got, got)
    j = np.argmax(room, axis=-1)
    fix = left != 0.0
    got[i[fix], j[fix]] = np.minimum(np.maximum(got[i[fix], j[fix]] + left[fix], 0.0), c[i[fix], j[fix]])
    out[rows] = got
    return out


def allocate_rows(
    exposures: np.ndarray,
    targets: np.ndarray,
    base: np.ndarray,
    edges: tuple[np.ndarray, np.ndarray],
    changes: np.ndarray,
    deferred: np.ndarray,
    held: np.ndarray,
) -> np.ndarray:
    """:func:`allocate` for a batch of portfolios (rows; ``base`` (rows,)): the ``taken``
    per row and sleeve, placed by the same stages. Used where only the changes matter (the
    policy backtest decides for every path at once); a plan's explanation comes from
    :func:`allocate`."""
    taken = np.zeros_like(exposures)
    goal = targets * base[:, None]
    amount = (base - exposures.sum(axis=-1)) - changes.sum(axis=-1)
    noise = BALANCE_EPS * np.maximum(1.0, np.abs(base))
    rows = np.flatnonzero(np.abs(amount) > noise)
    if not len(rows):
        return taken
    x, g, ch, dfr, fr = exposures[rows], goal[rows], changes[rows], deferred[rows], ~held[rows]
    t, b, nz = targets[rows], base[rows, None], noise[rows]
    lower, upper = edges[0][rows], edges[1][rows]
    sign = np.where(amount[rows] > 0, 1.0, -1.0)
    sg = sign[:, None]
    tiny = 1e-9 * np.maximum(b, 1.0)
    width_push = np.maximum(np.where(sg > 0, (upper - t) * b, (t - lower) * b), tiny)
    width_pull = np.maximum(np.where(sg > 0, (t - lower) * b, (upper - t) * b), tiny)
    over = sg * (x + ch - g)
    got_all = np.zeros_like(x)
    left = np.abs(amount[rows])

    def take(mask: np.ndarray, start: np.ndarray, scale: np.ndarray, cap: np.ndarray, rows_on: np.ndarray) -> None:
        nonlocal left
        cap = np.where(mask & (cap > nz[:, None]) & rows_on[:, None], cap, 0.0)
        got = waterfill_rows(start, scale, cap, np.where(rows_on, left, 0.0))
        got_all[:] += sg * got
        left = left - got.sum(axis=-1)

    against = fr & ~dfr & (sg * ch < 0)
    behind = fr & (over < 0)
    everyone = np.ones(len(rows), dtype=bool)
    take(against, np.maximum(over, 0.0), width_push, np.minimum(np.abs(ch), width_push - np.maximum(over, 0.0)), everyone)
    gap = np.maximum(-over - sg * got_all, 0.0)
    take(behind & ~dfr, -gap, width_pull, gap, left > 0)
    gap = np.maximum(-over - sg * got_all, 0.0)
    take(behind & dfr, -gap, width_pull, gap, left > 0)
    take(against, over + sg * got_all, width_push, np.abs(ch) - sg * got_all, left > 0)
    taken[rows] = got_all
    return taken
