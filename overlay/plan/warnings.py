"""Plan warnings: what a portfolio manager should look at before trading a plan (pure).

Each function returns :class:`~overlay.plan.types.PlanWarning` records, in sleeve order:

- ``notional_sizing``: a sleeve without ``duration`` whose list holds a future with a
  ``dv01`` — the future is sized by notional (``price × multiplier × fx / beta``) although
  DV01 sizing was evidently meant;
- ``unhedged`` / ``illiquid_held`` / ``illiquid_outside_band``: a sleeve without overlay
  instrument (``overlay = []``). Under ``policy.illiquid = "plan"`` its change is left
  unhedged and the other sleeves are sized as if it moved, so the exposure after the plan
  differs from the base by that change; under ``"hold"`` (the default) it keeps its exposure
  and its gap goes to the balance;
- ``shared_reference_vol``: one ``reference_vol`` for every sleeve scales a sleeve's band by
  a factor outside ``[2/3, 3/2]`` (a stable sleeve's band doubled, a volatile one's halved);
- ``outside_band_after`` / ``deferral_yields`` / ``unplaced_balance``: the balance
  (:mod:`overlay.plan.balance`) left a sleeve outside its band, moved a deferred sleeve, or
  found no sleeve to take it.
"""

from __future__ import annotations

import numpy as np

from overlay.config.models import FutureInstrument, Illiquid, PortfolioConfig
from overlay.plan.balance import BalanceAllocation, Stage
from overlay.plan.types import PlanWarning, WarningCode

#: A shared reference volatility warns when it scales a band by a factor outside this range.
SHARED_SCALE_RANGE = (2.0 / 3.0, 1.5)


def sizing_warnings(cfg: PortfolioConfig) -> list[PlanWarning]:
    out = []
    for i, s in enumerate(cfg.sleeves):
        if s.duration is not None:
            continue
        for key in s.overlay:
            inst = cfg.instruments[key]
            if isinstance(inst, FutureInstrument) and inst.dv01 is not None:
                out.append(PlanWarning(
                    WarningCode.NOTIONAL_SIZING,
                    f"{s.name} has no duration: {key} is sized by notional although its dv01 is given "
                    f"(add sleeves[{i}].duration to size by DV01)",
                    s.name, key,
                ))
    return out


def illiquid_warnings(
    cfg: PortfolioConfig, weights: np.ndarray, edges: tuple[np.ndarray, np.ndarray], breach: np.ndarray,
    changes: np.ndarray, open_gap: np.ndarray, base: float, rebalance: bool,
) -> list[PlanWarning]:
    out = []
    hold = cfg.policy.illiquid is Illiquid.HOLD
    for i, s in enumerate(cfg.sleeves):
        if s.overlay:
            continue
        if breach[i]:
            side, edge = ("above", edges[1][i]) if breach[i] > 0 else ("below", edges[0][i])
            then = (
                "it is held where it is and the liquid sleeves are balanced around it (policy.illiquid = \"hold\")"
                if hold else
                "its move stays unhedged and the other sleeves are sized as if it happened (policy.illiquid = \"plan\")"
            )
            out.append(PlanWarning(
                WarningCode.ILLIQUID_OUTSIDE_BAND,
                f"{s.name} is {side} its band ({weights[i]:.2%} vs {edge:.2%}) and has no overlay instrument: {then}",
                s.name,
            ))
        if not rebalance:
            continue
        if hold and abs(open_gap[i]) > 0.5:
            out.append(PlanWarning(
                WarningCode.ILLIQUID_HELD,
                f"{s.name} has no overlay instrument and is held at {weights[i]:.2%} (target {s.target:.2%}); "
                f"its gap of {open_gap[i]:+,.0f} went to the balance",
                s.name,
            ))
        elif not hold and abs(changes[i]) > 0.5:
            total = 1.0 - changes[i] / base if base > 0 else 1.0
            out.append(PlanWarning(
                WarningCode.UNHEDGED,
                f"{s.name} has no overlay instrument: its whole change of {changes[i]:+,.0f} is left unhedged; "
                f"the exposure after the plan is {total:.2%} of the investable base",
                s.name,
            ))
    return out


def vol_warnings(cfg: PortfolioConfig, multiplier: np.ndarray) -> list[PlanWarning]:
    scaling = cfg.policy.vol_scaling
    if scaling is None or not scaling.shared:
        return []
    lo, hi = SHARED_SCALE_RANGE
    out = []
    for i, s in enumerate(cfg.sleeves):
        m = float(multiplier[i])
        if s.vol is not None and not lo <= m <= hi:
            out.append(PlanWarning(
                WarningCode.SHARED_REFERENCE_VOL,
                f"{s.name}: vol {s.vol:.2%} against the shared reference_vol {scaling.reference_vol:.2%} "
                f"scales its band by {m:.2f}; give each sleeve its own long-run vol "
                f"(policy.vol_scaling.reference_vol = {{ {s.name} = ... }})",
                s.name,
            ))
    return out


def balance_warnings(
    cfg: PortfolioConfig, alloc: BalanceAllocation, after: np.ndarray, edges: tuple[np.ndarray, np.ndarray]
) -> list[PlanWarning]:
    out = []
    for i, s in enumerate(cfg.sleeves):
        stage = alloc.stage[i]
        if stage is Stage.TRADE_LESS_BEYOND_BAND:
            out.append(PlanWarning(
                WarningCode.OUTSIDE_BAND_AFTER,
                f"{s.name} ends at {after[i]:.2%}, outside its band {edges[0][i]:.2%}-{edges[1][i]:.2%}: "
                f"the balance ({alloc.taken[i]:+,.0f}) had nowhere else to go without pushing a sleeve through its target",
                s.name,
            ))
        elif stage is Stage.DEFERRAL_YIELDS:
            out.append(PlanWarning(
                WarningCode.DEFERRAL_YIELDS,
                f"{s.name} is deferred but takes {alloc.taken[i]:+,.0f} of the balance: no other sleeve could "
                f"without ending outside its band or being pushed through its target",
                s.name,
            ))
    if alloc.unplaced:
        out.append(PlanWarning(
            WarningCode.UNPLACED_BALANCE,
            f"{alloc.unplaced:+,.0f} of the balance could not be placed (every sleeve that could take it is held); "
            f"the exposure after the plan differs from the investable base by that much",
        ))
    return out


def why_nothing_trades(
    cfg: PortfolioConfig, changes: np.ndarray, own: np.ndarray, hedged: np.ndarray, residual: np.ndarray,
    deferred: np.ndarray, held: np.ndarray, unit: dict[str, float],
) -> str:
    """The reason a triggered rebalance has no overlay order, sleeve by sleeve."""
    parts = []
    for i, s in enumerate(cfg.sleeves):
        if deferred[i] and changes[i] == 0.0:
            parts.append(f"{s.name} is deferred")
        elif held[i]:
            parts.append(f"{s.name} has no overlay instrument")
        elif abs(changes[i]) < 0.5 and abs(own[i]) >= 0.5:
            parts.append(f"{s.name}'s move ({own[i]:+,.0f}) is undone by the balance of the sleeves that do not move")
        elif abs(changes[i]) < 0.5:
            parts.append(f"{s.name} needs no change")
        elif not s.overlay:
            parts.append(f"{s.name}'s change ({changes[i]:+,.0f}) has no overlay instrument and stays unhedged")
        else:
            sizes = ", ".join(f"{k} {unit[k]:,.0f}" for k in s.overlay if k in unit)
            parts.append(f"{s.name}'s change ({changes[i]:+,.0f}) is smaller than one contract or the swap minimum ({sizes})")
    return "nothing trades: " + "; ".join(parts)
