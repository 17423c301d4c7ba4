"""Suggested band widths from volatility and round-trip cost (``overlay plan --suggest-bands``).

Rule: the no-trade region of portfolio choice with proportional transaction costs. A weight
kept inside ``[π − h, π + h]`` by trading at the edges diffuses with volatility
``s = π(1 − π)σ`` (σ the sleeve's volatility). Reflected at the edges it is spread uniformly,
so tracking costs ``(γ/2)·σ_ref²·h²/3`` a year, while pushing at the edges trades
``s²/(2h)`` a year at half the round-trip cost ``c``. Minimising the sum gives

    h = ( 3 · c · π²(1 − π)² · σ² / (4 · γ · σ_ref²) )^(1/3)

the cube-root law of Whalley & Wilmott (1997, Mathematical Finance 7(3)) and Janeček & Shreve
(2004, Finance and Stochastics 8), ``h = (3c π²(1 − π)² / (4γ))^(1/3)`` with σ = σ_ref (see also
Rogers 2004 and Gerhold, Guasoni, Muhle-Karbe & Schachermayer 2014). Here σ_ref is one
volatility common to every sleeve — the policy's shared ``reference_vol`` when it is a
number, 16 % otherwise (per-sleeve references would cancel σ and give every sleeve the same
band) — so a sleeve more volatile than the reference drifts faster and gets a wider band,
and γ = 2 is the relative risk aversion.

Round-trip cost per unit of notional, by the sleeve's first instrument:
a future ``(spread_ticks · tick + 2 · fee_per_contract / multiplier) / price`` (from
``[market.<key>]``, else one tick and 1.50 a side); a swap ``2 · booking_cost_bps``;
a sleeve without instruments 20 bp (physical trading).
"""

from __future__ import annotations

import os

from overlay.config.load import as_config
from overlay.config.models import FutureInstrument, PortfolioConfig, Sleeve
from overlay.plan.types import BandSuggestion
from pricing import contracts

RISK_AVERSION = 2.0
DEFAULT_REFERENCE_VOL = 0.16
DEFAULT_SPREAD_TICKS = 1.0
DEFAULT_FEE_PER_CONTRACT = 1.50
PHYSICAL_ROUND_TRIP = 0.0020

RULE = (
    "h = (3 c (t(1-t) vol)^2 / (4 gamma ref_vol^2))^(1/3), gamma = 2: the cube-root no-trade "
    "region of proportional-cost portfolio theory (Whalley & Wilmott 1997; Janecek & Shreve 2004)"
)


def round_trip_cost(cfg: PortfolioConfig, sleeve: Sleeve) -> float:
    """Round-trip cost of the sleeve's first instrument, as a fraction of notional."""
    if not sleeve.overlay:
        return PHYSICAL_ROUND_TRIP
    key = sleeve.overlay[0]
    inst = cfg.instruments[key]
    if not isinstance(inst, FutureInstrument):
        return 2.0 * inst.booking_cost_bps * 1e-4
    spec = contracts.get(inst.root) if inst.root else None
    tick = inst.tick or (spec.tick if spec else inst.price * 1e-4)
    multiplier = inst.multiplier or spec.multiplier  # type: ignore[union-attr]
    market = cfg.market.get(key)
    ticks = market.spread_ticks if market and market.spread_ticks is not None else DEFAULT_SPREAD_TICKS
    fee = market.fee_per_contract if market and market.fee_per_contract is not None else DEFAULT_FEE_PER_CONTRACT
    return (ticks * tick + 2.0 * fee / multiplier) / inst.price


def suggested_half_width(target: float, vol: float, cost: float, reference_vol: float, risk_aversion: float = RISK_AVERSION) -> float:
    """``h = (3 c (π(1−π)σ)² / (4 γ σ_ref²))^(1/3)`` in weight points (see the module docstring)."""
    s2 = (target * (1.0 - target) * vol) ** 2
    return (3.0 * cost * s2 / (4.0 * risk_aversion * reference_vol**2)) ** (1.0 / 3.0)


def suggest_bands(cfg: PortfolioConfig | str | os.PathLike) -> tuple[BandSuggestion, ...]:
    """One suggested symmetric half-width per sleeve (absolute weight points); ``cfg`` is a
    loaded config or the path of one."""
    cfg = as_config(cfg)
    scaling = cfg.policy.vol_scaling
    ref = scaling.reference_vol if scaling is not None and scaling.shared else DEFAULT_REFERENCE_VOL
    assert isinstance(ref, float)
    out = []
    for s in cfg.sleeves:
        vol = s.vol if s.vol is not None else ref
        cost = round_trip_cost(cfg, s)
        out.append(
            BandSuggestion(
                sleeve=s.name,
                half_width=suggested_half_width(s.target, vol, cost, ref),
                round_trip_cost=cost,
                vol=vol,
                current_lower=s.band.lower,
                current_upper=s.band.upper,
            )
        )
    return tuple(out)
