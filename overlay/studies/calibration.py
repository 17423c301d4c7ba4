"""Calibrating an impact model to executions: parameters with confidence intervals.

Input is a table of *parent orders*, each with its implementation shortfall, or the *fills*
they are made of:

- parent orders: a study's ``results.parquet``, the ``orders`` of ``overlay simulate
  --json`` (a JSON file), or a user's CSV/Parquet with ``shortfall_bps`` and either
  ``participation`` (order size / ADV) or ``quantity`` (with ``adv``), plus ``daily_vol``
  and the horizon (``horizon_minutes`` or ``horizon_days``) as columns or arguments;
- fills: the simulator's ``fills.csv`` or a user's export; fills are grouped into parent
  orders **by parent order and contract**: ``parent_id`` (or ``parent``) and ``instrument``
  when those columns exist, else ``instrument`` and ``side``. Each needs its own arrival
  price (column ``arrival_price``, or the ``arrival`` argument: a number only when the fills
  are of one contract, else a mapping by instrument); the same holds for ``adv`` and
  ``daily_vol``. One number for several contracts is refused (it would fit a 110-point
  note against a 5,000-point index). The shortfall is the price's (fees left out).

A fit that the data cannot identify (fewer distinct trading rates than parameters, a
singular or non-finite covariance, a standard error a hundred times its value) is refused
with one line: :class:`~overlay.errors.JobFailed` (exit 1), never a number.

Model. With ``x = Q / (V · T)`` the order's trading rate as a fraction of ADV (``T`` in
sessions) and ``σ`` the daily volatility, the shortfall as a fraction of the arrival price
is fitted as

    power        s = a + Y · σ · x^e
    square-root  s = a + Y · σ · x^½
    linear       s = a + k · x

by nonlinear least squares (``scipy.optimize.curve_fit``). ``a`` is the fixed cost per unit
(half spread; reported as ``fixed_bps``) and is fitted unless ``fixed=FixedCost.ZERO``.
Standard errors come from the fit's covariance (scaled by the residual variance); the
intervals are ``value ± t · se`` with Student's ``t`` at the requested confidence. The
square-root and power fits map onto the ``square-root`` impact model
(``temporary_impact(r) = Y σ P (r/V)^e``): :meth:`Calibration.spec` is a table that
:func:`pricing.impact.model_from_spec` accepts.
"""

from __future__ import annotations

import enum
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from overlay.errors import InputError, JobFailed

SESSION_MINUTES = 390.0


class CalibrationModel(enum.Enum):
    POWER = "power"
    SQUARE_ROOT = "square-root"
    LINEAR = "linear"


class FixedCost(enum.Enum):
    FIT = "fit"
    ZERO = "zero"


@dataclass(frozen=True, slots=True)
class Parameter:
    """A fitted value, its standard error and its confidence interval."""

    value: float
    se: float
    low: float
    high: float


@dataclass(frozen=True, slots=True)
class Calibration:
    """Fitted parameters (``y``, ``exponent``, ``k``, ``fixed_bps`` as the model has them)."""

    model: CalibrationModel
    parameters: Mapping[str, Parameter]
    orders: int
    confidence: float
    rmse_bps: float
    points: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # (rate x, σ, shortfall), for the plot
    law: Any = None  # the fitted curve: law(np.vstack((x, σ))) -> shortfall (fraction)

    def spec(self, price: float | None = None, adv: float | None = None) -> dict[str, Any] | None:
        """The impact table of the fitted law for :func:`pricing.impact.model_from_spec`
        (temporary impact; the fixed cost excluded).

        The linear law becomes ``almgren-chriss`` with ``η = k · P / V`` (price per unit per
        unit/day), so it needs ``price`` and ``adv``; without them it returns None.
        """
        p = self.parameters
        if self.model is CalibrationModel.LINEAR:
            if price is None or adv is None:
                return None
            return {"model": "almgren-chriss", "eta": p["k"].value * price / adv}
        return {"model": "square-root", "y": p["y"].value, "exponent": p["exponent"].value if "exponent" in p else 0.5}

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.model.value,
            "orders": self.orders,
            "confidence": self.confidence,
            "rmse_bps": self.rmse_bps,
            "parameters": {k: {"value": v.value, "se": v.se, "low": v.low, "high": v.high} for k, v in self.parameters.items()},
            "spec": self.spec(),
        }


# --------------------------------------------------------------------------- reading


def _read(source: Any) -> Any:
    """A pandas DataFrame from a DataFrame, a CSV/Parquet file or a simulate JSON report."""
    import pandas as pd

    if isinstance(source, pd.DataFrame):
        return source.copy()
    path = Path(source)
    name = str(source)
    if not path.exists():
        raise InputError(name, None, "file not found")
    try:
        if path.suffix == ".parquet":
            return pd.read_parquet(path)
        if path.suffix == ".json":
            data = json.loads(path.read_text())
            orders = data.get("orders") if isinstance(data, dict) else data
            if not isinstance(orders, list):
                raise InputError(name, "orders", "expected a list of parent orders")
            return pd.DataFrame(orders)
        return pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise InputError(name, None, f"cannot read: {exc}") from None


def _per_row(frame: Any, column: str, value: Any, name: str, key: str, by: str = "instrument") -> np.ndarray:
    """A column of ``frame``, or ``value`` (a number or a mapping by ``by``) for every row."""
    if column in frame.columns:
        return frame[column].to_numpy(dtype=np.float64)
    if value is None:
        raise InputError(name, key, f"needs a {column!r} column or the {key} argument")
    if isinstance(value, Mapping):
        if by not in frame.columns:
            raise InputError(name, key, f"a mapping needs an {by!r} column")
        missing = sorted(set(frame[by]) - set(value))
        if missing:
            raise InputError(name, f"{key}.{missing[0]}", "missing")
        return frame[by].map(value).to_numpy(dtype=np.float64)
    return np.full(len(frame), float(value))


def _one_contract_only(frame: Any, value: Any, column: str, source: str, key: str) -> None:
    """Refuse one number for fills of several contracts when the table lacks ``column``."""
    if column in frame.columns or value is None or isinstance(value, Mapping) or "instrument" not in frame.columns:
        return
    contracts = sorted(set(frame["instrument"].astype(str)))
    if len(contracts) > 1:
        raise InputError(source, key, f"one value for {len(contracts)} contracts ({', '.join(contracts[:5])}); "
                                      f"give a {column!r} column or one value per instrument")


def parents_from_fills(fills: Any, *, arrival: Any = None, source: str = "<fills>") -> Any:
    """Group fills into parent orders (by parent order and contract): ``quantity`` (signed
    sum), ``avg_price``, ``arrival_price``, ``shortfall_bps`` (positive = cost) and the
    fill-time span in seconds."""
    import pandas as pd

    need = {"quantity", "price"}
    missing = sorted(need - set(fills.columns))
    if missing:
        raise InputError(source, missing[0], "missing column")
    frame = fills.copy()
    if "side" in frame.columns and (frame["quantity"] > 0).all():
        sign = frame["side"].astype(str).str.upper().map({"BUY": 1.0, "BOT": 1.0, "SELL": -1.0, "SLD": -1.0})
        if sign.isna().any():
            raise InputError(source, "side", "must be BUY or SELL")
        frame["quantity"] = frame["quantity"] * sign
    _one_contract_only(frame, arrival, "arrival_price", source, "arrival")
    frame["arrival_price"] = _per_row(frame, "arrival_price", arrival, source, "arrival")
    parent = next((k for k in ("parent_id", "parent") if k in frame.columns), None)
    if parent is not None:
        keys = [parent] + (["instrument"] if "instrument" in frame.columns else [])
    else:
        keys = [k for k in ("instrument", "side") if k in frame.columns]
    if not keys:
        frame["parent"] = 0
        keys = ["parent"]
    frame["notional"] = frame["quantity"] * frame["price"]
    if "time" not in frame.columns:
        frame["time"] = 0.0
    elif not pd.api.types.is_numeric_dtype(frame["time"]):
        try:
            frame["time"] = pd.to_datetime(frame["time"], format="mixed").astype("int64") / 1e9
        except (ValueError, TypeError):
            raise InputError(source, "time", "must be seconds or timestamps") from None
    grouped = frame.groupby(keys, sort=True)
    spread = grouped["arrival_price"].agg(lambda a: float(np.ptp(a.to_numpy(dtype=np.float64))))
    if (spread > 0).any():
        bad = spread[spread > 0].index[0]
        raise InputError(source, "arrival_price", f"parent order {bad!r} has more than one arrival price")
    extra = {c: (c, "first") for c in ("adv", "daily_vol", "horizon_minutes", "horizon_days") if c in frame.columns}
    out = grouped.agg(
        quantity=("quantity", "sum"),
        notional=("notional", "sum"),
        arrival_price=("arrival_price", "first"),
        first=("time", "min"),
        last=("time", "max"),
        **extra,
    ).reset_index()
    out = out[out["quantity"] != 0].reset_index(drop=True)
    out["avg_price"] = out["notional"] / out["quantity"]
    side = np.sign(out["quantity"])
    out["shortfall_bps"] = 1e4 * side * (out["avg_price"] - out["arrival_price"]) / out["arrival_price"]
    out["span_seconds"] = out["last"] - out["first"]
    return out


# --------------------------------------------------------------------------- fitting


def _design(frame: Any, name: str, adv: Any, daily_vol: Any, horizon_minutes: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rate ``x``, volatility ``σ`` and shortfall ``s`` (fraction) of every parent order."""
    if "shortfall_bps" not in frame.columns:
        raise InputError(name, "shortfall_bps", "missing column")
    if "horizon_days" in frame.columns:
        horizon = frame["horizon_days"].to_numpy(dtype=np.float64)
    else:
        horizon = _per_row(frame, "horizon_minutes", horizon_minutes, name, "horizon_minutes") / SESSION_MINUTES
    if "participation" in frame.columns and "quantity" not in frame.columns:
        size = frame["participation"].to_numpy(dtype=np.float64)
    elif "participation" in frame.columns and "adv" not in frame.columns and adv is None:
        size = frame["participation"].to_numpy(dtype=np.float64)
    else:
        if "quantity" not in frame.columns:
            raise InputError(name, "quantity", "needs a 'participation' or a 'quantity' column")
        _one_contract_only(frame, adv, "adv", name, "adv")
        size = np.abs(frame["quantity"].to_numpy(dtype=np.float64)) / _per_row(frame, "adv", adv, name, "adv")
    sigma = _per_row(frame, "daily_vol", daily_vol, name, "daily_vol")
    x = size / horizon
    s = frame["shortfall_bps"].to_numpy(dtype=np.float64) / 1e4
    ok = np.isfinite(x) & np.isfinite(s) & np.isfinite(sigma) & (x > 0) & (sigma > 0)
    if ok.sum() < 3:
        raise InputError(name, None, f"needs at least 3 parent orders with positive size and volatility, found {int(ok.sum())}")
    return x[ok], sigma[ok], s[ok]


def calibrate(
    source: Any,
    *,
    model: CalibrationModel | str = CalibrationModel.POWER,
    fixed: FixedCost = FixedCost.FIT,
    adv: Any = None,
    daily_vol: Any = None,
    horizon_minutes: Any = SESSION_MINUTES,
    arrival: Any = None,
    confidence: float = 0.95,
) -> Calibration:
    """Fit an impact law to parent orders or fills (see the module docstring).

    ``source`` is a DataFrame or a file (CSV, Parquet, or a ``overlay simulate --json``
    report). A table with ``price`` and ``exec_id`` or ``order_id`` columns and no
    ``shortfall_bps`` is read as fills. ``adv``, ``daily_vol``, ``horizon_minutes`` and
    ``arrival`` fill in what the table lacks (a number, or a mapping by instrument).
    """
    from scipy import optimize, stats

    kind = CalibrationModel(model)
    name = str(source) if not hasattr(source, "columns") else "<table>"
    frame = _read(source)
    if "shortfall_bps" not in frame.columns and "price" in frame.columns:
        frame = parents_from_fills(frame, arrival=arrival, source=name)
    _one_contract_only(frame, daily_vol, "daily_vol", name, "daily_vol")
    x, sigma, s = _design(frame, name, adv, daily_vol, horizon_minutes)
    fit_fixed = fixed is FixedCost.FIT

    def law(data: np.ndarray, *theta: float) -> np.ndarray:
        xs, sig = data
        a, rest = (theta[0], theta[1:]) if fit_fixed else (0.0, theta)
        if kind is CalibrationModel.LINEAR:
            return a + rest[0] * xs
        exponent = rest[1] if kind is CalibrationModel.POWER else 0.5
        return a + rest[0] * sig * xs**exponent

    # start from a log-log fit of the positive shortfalls (or a square-root guess)
    scale = float(np.median(np.abs(s) / (sigma * np.sqrt(x)))) or 1.0
    names = (["fixed_bps"] if fit_fixed else []) + {
        CalibrationModel.LINEAR: ["k"],
        CalibrationModel.SQUARE_ROOT: ["y"],
        CalibrationModel.POWER: ["y", "exponent"],
    }[kind]
    start = {"fixed_bps": 0.0, "k": float(np.median(s / x)), "y": scale, "exponent": 0.5}
    p0 = [start[n] for n in names]
    if len(s) <= len(p0):
        raise InputError(name, None, f"needs more than {len(p0)} parent orders to fit {len(p0)} parameters")
    rates = np.unique(np.round(np.column_stack((np.log(x), np.log(sigma))), 9), axis=0)
    if len(rates) < len(p0):
        raise JobFailed(f"{name}: cannot fit the {kind.value} law: the {len(s)} parent orders have "
                        f"{len(rates)} distinct trading rate(s), {len(p0)} are needed")
    try:
        with np.errstate(all="ignore"):
            theta, cov = optimize.curve_fit(law, np.vstack((x, sigma)), s, p0=p0, maxfev=20_000)
    except (RuntimeError, ValueError, optimize.OptimizeWarning) as exc:
        raise JobFailed(f"{name}: the {kind.value} law does not fit these orders: {exc}") from None
    _refuse_degenerate(name, kind, names, theta, cov)
    dof = len(s) - len(theta)
    t = float(stats.t.ppf(0.5 + confidence / 2.0, dof))
    se = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    resid = s - law(np.vstack((x, sigma)), *theta)
    params = {}
    for n, value, err in zip(names, theta, se):
        factor = 1e4 if n == "fixed_bps" else 1.0
        params[n] = Parameter(float(value) * factor, float(err) * factor, float(value - t * err) * factor, float(value + t * err) * factor)
    rmse = float(math.sqrt(np.mean(resid * resid))) * 1e4
    return Calibration(model=kind, parameters=params, orders=int(len(s)), confidence=confidence, rmse_bps=rmse,
                       points=(x, sigma, s), law=lambda data: law(data, *theta))


def _refuse_degenerate(name: str, kind: CalibrationModel, names: list[str], theta: np.ndarray, cov: np.ndarray) -> None:
    """Raise :class:`JobFailed` when the data cannot identify the law's parameters."""
    se = np.sqrt(np.abs(np.diag(cov))) if np.all(np.isfinite(cov)) else np.full(len(theta), np.inf)
    for n, value, err in zip(names, theta, se):
        if n == "fixed_bps":
            continue  # a fixed cost near zero is fine with a wide interval
        if not (math.isfinite(value) and math.isfinite(err)) or err > 100.0 * abs(value):
            raise JobFailed(f"{name}: the {kind.value} fit is degenerate ({n} = {value:.3g} ± {err:.3g}): "
                            f"these orders cannot identify it")


def write_calibration(cal: Calibration, out_dir: Path) -> list[Path]:
    """Write ``calibration.json`` and the fit's plot ``calibration.png`` into ``out_dir``."""
    from overlay.studies.plots import plot_calibration

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / "calibration.json", out_dir / "calibration.png"]
    from overlay.jsonout import dumps

    paths[0].write_text(dumps(cal.as_dict(), None, indent=2) + "\n")
    p = cal.parameters
    label = {"linear": "k·x", "square-root": "Y·σ·√x", "power": "Y·σ·x^e"}[cal.model.value]
    label += "".join(f", {k} = {v.value:.4g}" for k, v in p.items())
    if cal.points is not None:
        plot_calibration(*cal.points, cal.law, label, paths[1])
    return paths
