"""The simulated venue behind the gateway: each instrument on its exchange's sessions.

:func:`simulate` builds a :class:`~sim_broker.tws.chain.SessionChain` with one lane per
exchange. An instrument trades its exchange's session (:mod:`sim_broker.tws.hours`) that is
open at the clock's start, or opens next, unless its ``[market.*]`` table sets
``session_start``/``session_end`` (or replays ``bars``).

Volume by hour. The simulator spreads a session's ``adv`` over the session with a U-shaped
profile; an exchange session of 23 hours is mostly quiet outside its liquid hours (the US
cash session for CME equity futures, about four fifths of the day's volume). Each simulated
session's volume is therefore rescaled so that :data:`LIQUID_SHARE` of it falls in the liquid
hours, keeping the profile's shape within and outside them and the session total ``adv``::

    v'ᵢ = vᵢ · LIQUID_SHARE / V_liquid        (i in liquid hours)
    v'ᵢ = vᵢ · (1 − LIQUID_SHARE) / V_other   (otherwise)

The clock starts, unless told otherwise, at :func:`liquid_start`: the first instant every
instrument is in its liquid hours (the US cash open for a CME-only book).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from sim_broker.market import MarketPath
from sim_broker.tws import hours
from sim_broker.tws.chain import SessionChain, exchange_sessions

#: Share of a session's volume traded in its liquid hours.
LIQUID_SHARE = 0.8


def simulate(instruments: dict, market: dict, faults: dict, seed: int, start: float | None,
             source: str | None, base_dir: str | None, cal: Any) -> SessionChain:
    """The session chain for the config tables (see the module docstring)."""
    from pricing.contracts import REGISTRY
    from sim_broker.broker import SimBroker, fault_rng
    from sim_broker.params import SimConfig, TableError
    from sim_broker.tables import fault_params, market_params

    for key in market:
        if key not in instruments:
            raise TableError(source, f"market.{key}", "no such instrument in [instruments]")
    origin = cal.at(start or 0.0)

    def exchange_of(root: str) -> str:
        return REGISTRY[root].exchange if root in REGISTRY else "CME"

    params = []
    for key, table in instruments.items():
        mk = market.get(key) or {}
        p = market_params(key, table, mk, source, base_dir)
        if p.root in REGISTRY and "session_start" not in mk and "session_end" not in mk and p.bars is None:
            s = hours.current_or_next(hours.hours_of(exchange_of(p.root)), origin)
            p = dataclasses.replace(p, session_start=cal.seconds(s.open), session_end=cal.seconds(s.close))
        params.append(p)
    fp = fault_params(faults, source)
    sim = SimConfig()

    def liquid(p) -> tuple[float, float]:
        s = hours.current_or_next(hours.hours_of(exchange_of(p.root)), cal.at(p.session_start + 1.0))
        return max(cal.seconds(s.liquid_open), p.session_start), min(cal.seconds(s.liquid_close), p.session_end)

    def build(ps: list, session_seed: int) -> SimBroker:
        raw = SimBroker.simulate(ps, session_seed, sim, fp)
        paths = {p.instrument: raw.path(p.instrument) if p.bars is not None
                 else weighted(raw.path(p.instrument), *liquid(p)) for p in ps}
        broker = SimBroker({p.instrument: raw.params(p.instrument) for p in ps}, paths, sim, fp, fault_rng(session_seed))
        broker.liquid = {p.instrument: liquid(p) for p in ps}
        return broker

    lanes: dict[str, list] = {}
    for p in params:
        lanes.setdefault(exchange_of(p.root), []).append(p)
    return SessionChain(build, [build(ps, seed) for ps in lanes.values()], seed, exchange_sessions(cal, exchange_of))


def weighted(path: MarketPath, liquid_open: float, liquid_close: float) -> MarketPath:
    """``path`` with :data:`LIQUID_SHARE` of its volume in ``[liquid_open, liquid_close)``."""
    t = path.start + path.step * np.arange(path.n)
    inside = (t >= liquid_open) & (t < liquid_close)
    total = float(path.volume.sum())
    v_in, v_out = float(path.volume[inside].sum()), float(path.volume[~inside].sum())
    if v_in <= 0 or v_out <= 0:
        return path
    scale = np.where(inside, LIQUID_SHARE * total / v_in, (1 - LIQUID_SHARE) * total / v_out)
    volume = path.volume * scale
    cum = np.concatenate(([0.0], np.cumsum(volume)))
    return MarketPath(path.start, path.step, path.mid, volume, cum)


def liquid_start(chain: Any) -> float:
    """The first instant every instrument of the first sessions is in its liquid hours; the
    earliest session open when their liquid hours do not overlap."""
    opens, closes = [], []
    for name in chain.instruments:
        broker = chain.first(name)
        a, b = getattr(broker, "liquid", {}).get(name, (broker.params(name).session_start, broker.params(name).session_end))
        opens.append(a)
        closes.append(b)
    return max(opens) if max(opens) < min(closes) else chain.session_open
