"""pandas DataFrames of every result object: what a notebook gets from the Python API.

The result objects expose these as properties (``plan.orders_frame``, ``result.fills_frame``,
``run.cells_frame``...) and a ``to_frame()`` for their main table; the builders here take the
records by duck typing, so this module imports nothing of the project and sits low in the
layers. Every frame carries its units in ``df.attrs["units"]`` (column → unit).

Conventions: signed quantities follow the plan (+ buys, − sells); money is in the currency
the unit names (``base`` = the portfolio's base currency, ``instrument`` = the contract's own
currency); prices are in the contract's price units (index points for ES); times are
session-local clock times on the plan's ``as_of`` date (``datetime64[ns]``, no time zone);
text columns with few values are ``category``, identifiers ``string``, counts ``Int64``.

================  ===========================================================================
frame             one row per
================  ===========================================================================
plan orders       planned order (futures, swaps, physical cash-flow orders)
plan sleeves      sleeve (weights as fractions of the investable base)
simulate fills    execution (child fill), in time order
simulate parents  parent order worked by the engine
simulate TCA      executed order (futures parent or swap booking): ``overlay simulate --json``'s
                  ``orders``, nested objects flattened to ``costs_spread``...
study rows        cell × seed (``results.parquet``)
study cells       cell (mean, std, quantiles of the shortfall across seeds)
cost schedule     trading period of the Almgren–Chriss schedule
================  ===========================================================================
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

ORDER_UNITS = {
    "quantity": "contracts (futures), swap currency (swaps), base currency (physical); + buy",
    "notional": "base currency, + buy",
    "exposure": "base currency of sleeve exposure, + adds",
    "price": "contract price units, instrument currency",
}
SLEEVE_UNITS = {
    **{k: "fraction of investable base" for k in ("target", "weight", "drift", "lower", "upper")},
    **{k: "base currency" for k in ("exposure", "exposure_change", "hedged", "residual", "physical")},
    "gap_share": "fraction of the gap closed",
}
FILL_UNITS = {
    "time": "session-local clock time",
    "quantity": "contracts, + buy",
    "price": "contract price units",
    "fee": "instrument currency",
    "notional": "instrument currency (quantity × price × multiplier), + buy",
}
PARENT_UNITS = {
    "quantity": "contracts, + buy",
    "filled": "contracts, + buy",
    "remaining": "contracts, + buy",
    "avg_price": "contract price units",
    "notional": "instrument currency (filled × avg_price × multiplier), + buy",
    "fees": "instrument currency",
    "multiplier": "currency per price unit per contract",
}
TCA_UNITS = {
    "quantity": "contracts (futures) or swap notional, + buy",
    "filled": "contracts (futures) or swap notional, + buy",
    "avg_price": "contract price units",
    "arrival_price": "contract price units",
    "interval_vwap": "contract price units",
    "participation": "fraction of market volume",
    "*_bps": "basis points of arrival notional, + cost",
    "costs_*": "instrument currency",
}
STUDY_UNITS = {
    "participation": "order size / ADV",
    "horizon_minutes": "minutes",
    "daily_vol": "fraction of price per √day",
    "quantity": "contracts",
    "*_bps": "basis points of arrival notional, + cost",
    "cost": "currency, fees included",
    "participation_realised": "fraction of market volume",
}
SCHEDULE_UNITS = {
    "time_days": "trading days from the start",
    "trade": "units traded in the period, + buy",
    "holdings": "units still to trade after the period, + buy",
}


def _frame(rows: list[dict[str, Any]], columns: Sequence[str], units: Mapping[str, str], dtypes: Mapping[str, str]) -> pd.DataFrame:
    df = pd.DataFrame.from_records(rows, columns=list(columns))
    for col, dtype in dtypes.items():
        if col in df.columns:
            df[col] = df[col].astype(dtype)
    df.attrs["units"] = dict(units)
    return df


def _value(x: Any) -> Any:
    return getattr(x, "value", x)


def _contract(order: Any) -> str | None:
    """The contract traded; a calendar spread as ``near/far`` (``ESH6/ESM6``)."""
    legs = getattr(order, "legs", ()) or ()
    if len(legs) == 2:
        return "/".join(str(leg.local_symbol or leg.contract_month) for leg in legs)
    return order.local_symbol or order.contract_month


def plan_orders(plan: Any) -> pd.DataFrame:
    """The plan's orders (``Plan.orders_frame``)."""
    rows = [
        {
            "instrument": o.instrument,
            "kind": _value(o.kind),
            "purpose": _value(o.purpose),
            "sleeve": o.sleeve,
            "contract": _contract(o),
            "quantity": float(o.quantity),
            "notional": float(o.notional),
            "exposure": float(o.exposure),
            "price": o.price,
        }
        for o in plan.orders
    ]
    columns = ("instrument", "kind", "purpose", "sleeve", "contract", "quantity", "notional", "exposure", "price")
    dtypes = {"instrument": "string", "kind": "category", "purpose": "category", "sleeve": "string",
              "contract": "string", "quantity": "float64", "notional": "float64", "exposure": "float64", "price": "float64"}
    df = _frame(rows, columns, ORDER_UNITS, dtypes)
    df.attrs["currency"] = plan.currency
    return df


def plan_sleeves(plan: Any) -> pd.DataFrame:
    """The plan's sleeves (``Plan.sleeves_frame``), indexed by sleeve name."""
    names = ("target", "weight", "drift", "lower", "upper", "exposure", "exposure_change", "hedged", "residual",
             "physical", "gap_share")
    rows = [
        {"sleeve": s.name, **{k: float(getattr(s, k)) for k in names}, "breach": _value(s.breach), "deferred": s.deferred}
        for s in plan.sleeves
    ]
    dtypes = {k: "float64" for k in names} | {"sleeve": "string", "breach": "category", "deferred": "string"}
    df = _frame(rows, ("sleeve", *names, "breach", "deferred"), SLEEVE_UNITS, dtypes).set_index("sleeve")
    df.attrs["currency"] = plan.currency
    return df


def _clock(date: dt.date | None, seconds: Iterable[float]) -> pd.Series:
    day = pd.Timestamp(date or dt.date(1970, 1, 1))
    return day + pd.to_timedelta(pd.Series(list(seconds), dtype="float64"), unit="s")


def fills(parents: Sequence[Any], date: dt.date | None = None) -> pd.DataFrame:
    """Every execution of ``parents``, in time order (``SimulationResult.fills_frame``)."""
    mult = {p.instrument: p.multiplier for p in parents}
    rows = sorted((f for p in parents for f in p.fills), key=lambda f: (f.time, f.order_id, f.exec_id))
    data = [
        {
            "time": f.time,
            "instrument": f.instrument,
            "side": "buy" if f.quantity > 0 else "sell",
            "quantity": int(f.quantity),
            "price": float(f.price),
            "fee": float(f.fee),
            "notional": f.quantity * f.price * mult.get(f.instrument, 1.0),
            "exec_id": f.exec_id,
            "order_id": f.order_id,
        }
        for f in rows
    ]
    columns = ("time", "instrument", "side", "quantity", "price", "fee", "notional", "exec_id", "order_id")
    dtypes = {"instrument": "category", "side": "category", "quantity": "Int64", "price": "float64", "fee": "float64",
              "notional": "float64", "exec_id": "string", "order_id": "Int64"}
    df = _frame(data, columns, FILL_UNITS, dtypes)
    df["time"] = _clock(date, df["time"]) if len(df) else pd.Series([], dtype="datetime64[ns]")
    return df


def parents(parents: Sequence[Any]) -> pd.DataFrame:
    """One row per parent order the engine worked (``SimulationResult.parents_frame``)."""
    data = [
        {
            "parent_id": p.parent_id,
            "instrument": p.instrument,
            "quantity": p.quantity,
            "filled": p.filled,
            "remaining": p.quantity - p.filled,
            "avg_price": p.avg_price,
            "notional": p.notional,
            "fees": p.fees,
            "multiplier": p.multiplier,
            "status": _value(p.status),
            "children": len(p.children),
            "fills": len(p.fills),
            "rejects": p.rejects,
            "reason": p.reason or None,
        }
        for p in parents
    ]
    columns = ("parent_id", "instrument", "quantity", "filled", "remaining", "avg_price", "notional", "fees",
               "multiplier", "status", "children", "fills", "rejects", "reason")
    dtypes = {"parent_id": "Int64", "instrument": "string", "quantity": "Int64", "filled": "Int64", "remaining": "Int64",
              "avg_price": "float64", "notional": "float64", "fees": "float64", "multiplier": "float64",
              "status": "category", "children": "Int64", "fills": "Int64", "rejects": "Int64", "reason": "string"}
    return _frame(data, columns, PARENT_UNITS, dtypes)


def _flatten(d: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, Mapping):
            out.update(_flatten(v, f"{prefix}{k}_"))
        else:
            out[f"{prefix}{k}"] = v
    return out


def json_orders(orders: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """TCA rows from ``overlay simulate --json``'s ``orders`` (``SimulationResult.tca_frame``):
    every field of the JSON, nested objects flattened (``costs.spread`` → ``costs_spread``);
    numbers are ``float64``, missing values NaN."""
    rows = [_flatten(o) for o in orders]
    columns = list(dict.fromkeys(k for r in rows for k in r)) or ["instrument"]
    df = pd.DataFrame.from_records(rows, columns=columns)
    for col in df.columns:
        values = [v for v in df[col] if v is not None]
        if values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            df[col] = df[col].astype("Int64")
        elif values and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            df[col] = df[col].astype("float64")
        elif values and all(isinstance(v, str) for v in values):
            df[col] = df[col].astype("category" if col in ("side", "status", "kind") else "string")
    df.attrs["units"] = dict(TCA_UNITS)
    return df


def study_cells(cell_stats: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Per-cell statistics of a study (``summary.json``'s ``cell_stats``), one row per cell."""
    df = pd.DataFrame.from_records(list(cell_stats))
    for col in ("algo", "impact"):
        if col in df.columns:
            df[col] = df[col].astype("category")
    for col in df.columns:
        if df[col].dtype == object and col not in ("algo", "impact"):
            values = [v for v in df[col] if v is not None]
            if values and all(isinstance(v, (int, float)) for v in values):
                df[col] = df[col].astype("float64")
            elif values and all(isinstance(v, str) for v in values):
                df[col] = df[col].astype("string")
    df.attrs["units"] = dict(STUDY_UNITS)
    return df


def study_rows(df: pd.DataFrame) -> pd.DataFrame:
    """``results.parquet`` as pandas: text columns ``category``, counts ``int64``."""
    df = df.copy()
    for col in ("algo", "impact", "cell"):
        if col in df.columns:
            df[col] = df[col].astype("category")
    df.attrs["units"] = dict(STUDY_UNITS)
    return df


def schedule(times: Sequence[float], trades: Sequence[float], holdings: Sequence[float]) -> pd.DataFrame:
    """An execution schedule, one row per period (``CostEstimate.schedule_frame``)."""
    n = len(trades)
    data = {
        "period": pd.array(range(1, n + 1), dtype="Int64"),
        "time_days": pd.array([float(t) for t in times[1 : n + 1]], dtype="float64"),
        "trade": pd.array([float(x) for x in trades], dtype="float64"),
        "holdings": pd.array([float(x) for x in holdings[1 : n + 1]], dtype="float64"),
    }
    df = pd.DataFrame(data)
    df.attrs["units"] = dict(SCHEDULE_UNITS)
    return df
