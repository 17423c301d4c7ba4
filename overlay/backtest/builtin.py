"""Built-in data sets, built at run time from data that a package ships.

``builtin:us-stocks-bonds-1926`` (columns ``equity``, ``bonds``, ``cash_rate``), monthly,
month-end dates from 1926-06-30 (index levels 1.0) to 2018-11-30: 1,109 monthly returns. It
is built from the two data sets of the ``arch`` package (``arch.data``, the optional extra
``data``):

- ``arch.data.frenchdata``: Ken French's monthly factors (``Mkt-RF``, ``RF``, percent a
  month, July 1926 – November 2018). US equity total return of month ``t`` is the market
  excess return plus the risk-free rate: ``R_eq = (Mkt-RF + RF) / 100``. The risk-free rate
  is the cash rate: ``cash_rate = 12 · RF / 100`` (annualised, so a month earns ``RF``).
- ``arch.data.default``: Moody's seasoned AAA corporate bond yields (``AAA``, percent a
  year, monthly averages from 1919). The long corporate bond total return of month ``t``
  holds a 20-year par bond bought at last month's yield ``y₀`` and marks it at this month's
  ``y₁`` with the standard second-order approximation (e.g. Swinkels, L. (2019), "Treasury
  bond return data starting in 1962", *Data* 4(3), 91)::

      R_bond = y₀ / 12 − D · Δy + ½ · C · Δy²,      Δy = y₁ − y₀

  with the modified duration and convexity of a par bond paying semi-annual coupons of
  maturity ``M = 20`` years at yield ``y = y₀``::

      D = (1 / y) · (1 − (1 + y/2)^(−2M))
      C = (2 / y²) · (1 − (1 + y/2)^(−2M)) − 2M / (y · (1 + y/2)^(2M + 1))

  Carry (``y₀ / 12``) plus the duration-and-convexity price change; no default losses
  (AAA). The monthly-average yields smooth the returns a little.
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Sequence

import numpy as np
import pandas as pd

from overlay.backtest.data import History, history_from_frame
from overlay.errors import InputError

PREFIX = "builtin:"
US_STOCKS_BONDS = "us-stocks-bonds-1926"
#: Built-in data sets and the columns each provides (besides ``date``).
DATASETS = {US_STOCKS_BONDS: ("equity", "bonds", "cash_rate")}

#: Maturity of the bond whose price change the AAA yields drive, years.
BOND_MATURITY_YEARS = 20.0


def par_bond_duration(y: np.ndarray, maturity: float = BOND_MATURITY_YEARS) -> np.ndarray:
    """Modified duration (years) of a par bond with semi-annual coupons at annual yield ``y``:
    ``(1 / y) · (1 − (1 + y/2)^(−2M))``."""
    y = np.asarray(y, dtype=float)
    return (1.0 - (1.0 + y / 2.0) ** (-2.0 * maturity)) / y


def par_bond_convexity(y: np.ndarray, maturity: float = BOND_MATURITY_YEARS) -> np.ndarray:
    """Convexity (years²) of the same par bond:
    ``(2 / y²)(1 − (1 + y/2)^(−2M)) − 2M / (y (1 + y/2)^(2M + 1))``."""
    y = np.asarray(y, dtype=float)
    n = 2.0 * maturity
    return 2.0 / y**2 * (1.0 - (1.0 + y / 2.0) ** (-n)) - n / (y * (1.0 + y / 2.0) ** (n + 1.0))


def bond_returns(yields: np.ndarray, maturity: float = BOND_MATURITY_YEARS) -> np.ndarray:
    """Monthly total returns from a series of annual yields (decimals): one per month after
    the first, ``y₀/12 − D·Δy + ½·C·Δy²`` (see the module docstring)."""
    y0, y1 = yields[:-1], yields[1:]
    dy = y1 - y0
    return y0 / 12.0 - par_bond_duration(y0, maturity) * dy + 0.5 * par_bond_convexity(y0, maturity) * dy**2


def _read(package: str, name: str) -> pd.DataFrame:
    try:
        resource = importlib.resources.files(package) / name
        with importlib.resources.as_file(resource) as path:
            return pd.read_csv(path)
    except ModuleNotFoundError:
        raise InputError(
            None, "backtest.data", "the built-in data sets need the 'arch' package: pip install 'overlay-engine[data]'"
        ) from None


def us_stocks_bonds_frame() -> pd.DataFrame:
    """The ``builtin:us-stocks-bonds-1926`` table: ``date``, ``equity``, ``bonds``, ``cash_rate``."""
    ff = _read("arch.data.frenchdata", "frenchdata.csv.gz")
    aaa = _read("arch.data.default", "default.csv.gz")
    months = pd.PeriodIndex([pd.Period(f"{int(d) // 100}-{int(d) % 100:02d}", "M") for d in ff["Date"]])
    ff = ff.set_index(months)
    aaa = aaa.set_index(pd.PeriodIndex(pd.to_datetime(aaa["Date"], format="%m/%d/%Y"), freq="M"))["AAA"] / 100.0
    first, last = months[0], months[-1]
    yields = aaa.loc[first - 1 : last].to_numpy()  # one month before the first return
    if len(yields) != len(months) + 1:
        raise RuntimeError("AAA yields do not cover the Fama-French months")  # pragma: no cover
    equity = (ff["Mkt-RF"].to_numpy() + ff["RF"].to_numpy()) / 100.0
    bonds = bond_returns(yields)
    rate = ff["RF"].to_numpy() * 12.0 / 100.0
    ends = [(first - 1).end_time.date()] + [m.end_time.date() for m in months]
    return pd.DataFrame(
        {
            "date": ends,
            "equity": np.concatenate(([1.0], np.cumprod(1.0 + equity))),
            "bonds": np.concatenate(([1.0], np.cumprod(1.0 + bonds))),
            "cash_rate": np.concatenate(([rate[0]], rate)),
        }
    )


def is_builtin(data: str) -> bool:
    return data.startswith(PREFIX)


def load_builtin(data: str, sleeves: Sequence[str], file: str | None) -> History:
    """The built-in data set ``data`` (``builtin:NAME``) for ``sleeves``."""
    name = data[len(PREFIX) :]
    if name not in DATASETS:
        raise InputError(file, "backtest.data", f"unknown built-in data set {name!r}; known: {', '.join(PREFIX + k for k in DATASETS)}")
    frame = us_stocks_bonds_frame()
    missing = [s for s in sleeves if s not in frame.columns or s == "cash_rate"]
    if missing:
        cols = ", ".join(c for c in DATASETS[name] if c != "cash_rate")
        raise InputError(file, "sleeves", f"sleeve {missing[0]!r} is not a column of {data} (its sleeves: {cols})")
    return history_from_frame(frame, sleeves, data)
