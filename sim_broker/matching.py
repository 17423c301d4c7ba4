"""Prices, impact and volume caps of one instrument while we trade it.

:class:`InstrumentBook` wraps a precomputed :class:`~sim_broker.market.MarketPath` and adds
the effect of our own trades. Everything is O(1) per fill: an indexed lookup for the exogenous
mid, one exponential for the decay, two impact-model calls.

Impact scheme (consistent with the cost model of :mod:`pricing.impact`)
-----------------------------------------------------------------------
Let ``k = ln 2 / half_life`` (1/s), ``S`` the session length (s), ``m(t)`` the exogenous mid,
``h(r)`` the model's ``temporary_impact`` at rate ``r`` (units per session-day) and ``g(q)``
its ``permanent_impact``. The book keeps

- ``A`` — the exponentially decayed sum of our signed traded quantity (contracts), decaying as
  ``A(t) = A(t₀)·exp(−k (t − t₀))``; ``k·A`` estimates our current trading rate (per second);
- ``D`` — the permanent shift (price units), the sum of ``sign(q)·g(|q|)`` over our fills.

A child of signed size ``q`` matched at time ``t`` is priced at

    r = k · (A(t) + q/2) · S                          (units per session-day)
    x = m(t) + D + sign(r)·h(|r|) + sign(q)·spread/2   rounded to the tick

then ``A += q`` and ``D += sign(q)·g(|q|)``: the child pays the permanent shift of earlier
fills but not its own. For a TWAP of ``n`` contracts every ``τ`` seconds with ``kτ ≪ 1`` the
steady state gives ``r = n/τ·S``, and the mean cost over the order is
``½γX² − ½γΣn² + (η/τ)Σn²`` for linear impact: Almgren–Chriss's ``½γX² + (η̃/τ)Σn²`` with
``η̃ = η − γτ/2``. Quotes include the decaying displacement: the quoted mid at ``t`` is
``m(t) + D + sign(A)·h(k|A|·S)``, the bid is that less half the spread rounded to the tick
and the ask is the bid plus the spread.

Speed: ``h`` is tabulated once per instrument on a log-spaced grid of rates (``TABLE_POINTS``
points per decade from ``10^TABLE_LOW`` to ``10^TABLE_HIGH`` units per day) and interpolated
linearly in log–log space, which is exact for power laws (linear and square-root impact) and
within ~1e-6 relative for smooth curves such as I-Star; rates outside the table, and models
whose impact is zero somewhere but not everywhere, call the model directly.

Participation cap: the session is cut into intervals of ``participation_interval`` seconds;
our fills in one interval may total at most ``max_participation`` of the market volume of
that interval (``math.inf`` lifts the cap).
"""

from __future__ import annotations

import math
from array import array

import numpy as np

from pricing.impact import ImpactModel
from sim_broker.market import MarketPath, float_items
from sim_broker.params import MarketParams, SimConfig

_NO_CAP = 1 << 62
TABLE_LOW, TABLE_HIGH, TABLE_POINTS = -3, 11, 256  # decades of rate (units/day), points per decade


def _tick_decimals(tick: float) -> int:
    return max(0, -int(math.floor(math.log10(tick))) + 6)


def _is_dyadic(tick: float) -> bool:
    """Whether ``tick`` is ``m / 2^k`` with small ``k``, so ``n · tick`` is exact in binary."""
    num, den = float(tick).as_integer_ratio()
    return den <= 1 << 12 and abs(num) < 1 << 40


class InstrumentBook:
    """Market state of one instrument, including the impact of our own trades."""

    __slots__ = (
        "params", "path", "mid", "start", "end", "step", "n", "tick", "decimals", "half_spread",
        "interval", "caps", "used", "k", "day", "flow", "flow_t", "shift", "_temp", "_perm",
        "_perm_cache", "_ref", "_table", "_table_lo", "_table_hi", "_table_inv",
    )  # fmt: skip

    def __init__(self, params: MarketParams, path: MarketPath, sim: SimConfig) -> None:
        self.params = params
        self.path = path
        # the path's own buffer: indexing gives a Python float as a list would, without a
        # second copy of the session (a list costs 32 bytes a point)
        self.mid = path.mid_items
        self.start = path.start
        self.end = path.end
        self.step = path.step
        self.n = path.n
        self.tick = params.tick
        # a tick of a binary fraction (0.25, 1/64) gives exact multiples: no decimal rounding
        self.decimals = None if _is_dyadic(params.tick) else _tick_decimals(params.tick)
        self.half_spread = params.half_spread
        self.interval = sim.participation_interval
        n_buckets = max(1, math.ceil((self.end - self.start) / self.interval - 1e-9))
        edges = np.minimum(np.arange(n_buckets + 1) * self.interval, self.end - self.start)
        vol = np.diff(np.interp(edges / self.step, np.arange(self.n + 1), path.cum_volume))
        if math.isinf(sim.max_participation):
            self.caps = [float(_NO_CAP)] * n_buckets
        else:
            self.caps = (sim.max_participation * vol).tolist()
        self.used = [0] * n_buckets
        self.k = math.log(2.0) / sim.impact_half_life
        self.day = params.session_seconds
        self.flow = 0.0
        self.flow_t = self.start
        self.shift = 0.0
        model: ImpactModel = params.impact
        self._temp = model.temporary_impact
        self._perm = model.permanent_impact
        self._perm_cache: dict[int, float] = {}
        self._ref = (params.price, params.daily_vol, params.adv)
        self._table, self._table_lo, self._table_hi, self._table_inv = self._tabulate()

    def _tabulate(self) -> tuple[array | list[float] | None, float, float, float]:
        """Log–log table of ``h`` (see the module docstring); ``None`` to call the model."""
        steps = (TABLE_HIGH - TABLE_LOW) * TABLE_POINTS
        log_rates = np.linspace(TABLE_LOW, TABLE_HIGH, steps + 1) * math.log(10.0)
        values = np.asarray(self._temp(np.exp(log_rates), *self._ref), dtype=np.float64)
        lo, hi = float(log_rates[0]), float(log_rates[-1])
        inv = steps / (hi - lo)
        if not np.all(np.isfinite(values)) or np.any(values < 0):
            return None, lo, hi, inv
        if not np.any(values):
            return [], lo, hi, inv  # no temporary impact at all
        if np.any(values == 0):
            return None, lo, hi, inv
        return float_items(np.log(values)), lo, hi, inv

    # -- prices --------------------------------------------------------------------------

    def round(self, price: float) -> float:
        """Nearest tick, free of binary noise."""
        n = math.floor(price / self.tick + 0.5)
        return n * self.tick if self.decimals is None else round(n * self.tick, self.decimals)

    def base_mid(self, t: float) -> float:
        """Exogenous mid at ``t`` (the grid point at or before it)."""
        i = int((t - self.start) / self.step + 1e-9)
        return self.mid[0 if i < 0 else (self.n if i > self.n else i)]

    def decayed_flow(self, t: float) -> float:
        """``A(t)``: decayed sum of our signed traded quantity, contracts."""
        return self.flow * math.exp(-self.k * (t - self.flow_t)) if self.flow else 0.0

    def temporary(self, rate_per_second: float) -> float:
        """Signed temporary displacement at a signed trading rate (contracts per second)."""
        if not rate_per_second:
            return 0.0
        table = self._table
        if table is not None and not table:
            return 0.0
        rate = abs(rate_per_second) * self.day
        if table and 0.0 <= (x := (math.log(rate) - self._table_lo) * self._table_inv) < len(table) - 1:
            i = int(x)
            a = table[i]
            h = math.exp(a + (x - i) * (table[i + 1] - a))
        else:
            p, s, v = self._ref
            h = float(self._temp(rate, p, s, v))
        return h if rate_per_second > 0 else -h

    def permanent(self, quantity: int) -> float:
        """``g(|q|)``, price units, cached per quantity."""
        q = abs(quantity)
        g = self._perm_cache.get(q)
        if g is None:
            p, s, v = self._ref
            g = self._perm_cache[q] = float(self._perm(q, p, s, v))
        return g

    def quoted_mid(self, t: float) -> float:
        """Exogenous mid plus permanent shift plus the decaying temporary displacement."""
        return self.base_mid(t) + self.shift + self.temporary(self.k * self.decayed_flow(t))

    def quote(self, t: float) -> tuple[float, float, float]:
        """(bid, ask, last) at ``t``; ``last`` is the quoted mid rounded to the tick.

        The same arithmetic as :meth:`quoted_mid` and :meth:`round`, written out: this runs
        for every snapshot."""
        i = int((t - self.start) / self.step + 1e-9)
        flow = self.flow
        a = flow * math.exp(-self.k * (t - self.flow_t)) if flow else 0.0
        m = self.mid[0 if i < 0 else (self.n if i > self.n else i)] + self.shift + self.temporary(self.k * a)
        tick, decimals, hs = self.tick, self.decimals, self.half_spread
        floor = math.floor
        if decimals is None:
            bid = floor((m - hs) / tick + 0.5) * tick
            ask = floor((bid + 2.0 * hs) / tick + 0.5) * tick
            return bid, ask, floor(m / tick + 0.5) * tick
        bid = round(floor((m - hs) / tick + 0.5) * tick, decimals)
        ask = round(floor((bid + 2.0 * hs) / tick + 0.5) * tick, decimals)
        return bid, ask, round(floor(m / tick + 0.5) * tick, decimals)

    def fill_price(self, t: float, quantity: int) -> float:
        """Execution price of a marketable child of signed ``quantity`` matched at ``t``."""
        flow = self.flow
        a = flow * math.exp(-self.k * (t - self.flow_t)) if flow else 0.0
        rate = self.k * (a + 0.5 * quantity)
        hs = self.half_spread if quantity > 0 else -self.half_spread
        i = int((t - self.start) / self.step + 1e-9)
        x = self.mid[0 if i < 0 else (self.n if i > self.n else i)] + self.shift + self.temporary(rate) + hs
        n = math.floor(x / self.tick + 0.5)
        return n * self.tick if self.decimals is None else round(n * self.tick, self.decimals)

    def commit(self, t: float, quantity: int) -> None:
        """Record our fill of signed ``quantity`` at ``t``: flow, permanent shift, volume used."""
        flow = self.flow
        self.flow = (flow * math.exp(-self.k * (t - self.flow_t)) if flow else 0.0) + quantity
        self.flow_t = t
        q = quantity if quantity > 0 else -quantity
        g = self._perm_cache.get(q)
        if g is None:
            g = self.permanent(q)
        self.shift += g if quantity > 0 else -g
        b = int((t - self.start) / self.interval + 1e-9)
        last = len(self.used) - 1
        self.used[0 if b < 0 else (last if b > last else b)] += q

    # -- session and volume ------------------------------------------------------------

    def is_open(self, t: float) -> bool:
        return self.start <= t < self.end

    def bucket(self, t: float) -> int:
        b = int((t - self.start) / self.interval + 1e-9)
        last = len(self.used) - 1
        return 0 if b < 0 else (last if b > last else b)

    def available(self, t: float) -> int:
        """Contracts our orders may still take in the participation interval of ``t``."""
        b = int((t - self.start) / self.interval + 1e-9)
        last = len(self.used) - 1
        b = 0 if b < 0 else (last if b > last else b)
        room = self.caps[b] - self.used[b]
        return int(room) if room > 0 else 0

    def next_interval(self, t: float) -> float:
        """Start of the participation interval after the one of ``t``."""
        return self.start + (self.bucket(t) + 1) * self.interval

    def crossing_time(self, t: float, side: int, limit: float) -> float | None:
        """First grid time after ``t`` at which a limit of ``side`` becomes marketable.

        Uses the exogenous path plus the current permanent shift (temporary impact, which
        only decays, is left out); ``None`` if the path never gets there this session.
        """
        i = int((t - self.start) / self.step + 1e-9) + 1
        if i > self.n:
            return None
        tail = self.path.mid[i:]
        edge = 0.5 * self.tick - 1e-9 * self.tick
        if side > 0:
            hit = tail <= limit - self.shift - self.half_spread + edge
        else:
            hit = tail >= limit - self.shift + self.half_spread - edge
        j = int(np.argmax(hit))
        if not hit[j]:
            return None
        return self.start + (i + j) * self.step
