"""Configs for the planner tests: a small valid TOML text and a dict builder."""

import datetime as dt

from overlay.config import config_from_dict

BASE = """\
[portfolio]
name = "Test"
currency = "USD"
as_of = 2026-03-02
cash = 0.0
fx = { EUR = 1.08 }

[policy]
trigger = "band"
last_rebalance = 2025-12-31

[[sleeves]]
name = "equity"
target = 0.6
value = 7_500_000
band = 0.05
overlay = ["ES", "MES"]

[[sleeves]]
name = "bonds"
target = 0.4
value = 3_800_000
duration = 6.5
overlay = ["ZN"]

[instruments.ES]
kind = "future"
root = "ES"
price = 5000.0

[instruments.MES]
kind = "future"
root = "MES"
price = 5000.0

[instruments.ZN]
kind = "future"
root = "ZN"
price = 110.5
expiry = 2026-06-18
dv01 = 71.16
"""


def future(root, price, **kw):
    return {"kind": "future", "root": root, "price": price, **kw}


def build(sleeves, instruments=None, policy=None, positions=(), cash_flows=(), cash=0.0, fx=None, as_of=dt.date(2026, 3, 2), **extra):
    """A validated PortfolioConfig from plain Python values (as tomllib would return them)."""
    data = {
        "portfolio": {"name": "t", "as_of": as_of, "cash": cash, "fx": fx or {}},
        # Most tests plan sleeves without overlay instruments to check the exposure arithmetic:
        # plan them like any sleeve unless a test asks for the default ("hold").
        "policy": {"illiquid": "plan", **(policy or {})},
        "sleeves": list(sleeves),
        "instruments": instruments or {},
        "positions": list(positions),
        "cash_flows": list(cash_flows),
        **extra,
    }
    return config_from_dict(data, "test.toml")


def balanced(**policy):
    """The 60/40 portfolio after equities +25 % and bonds -5 % (NAV 11.3m)."""
    return build(
        [
            {"name": "equity", "target": 0.6, "value": 7_500_000, "overlay": ["ES", "MES"]},
            {"name": "bonds", "target": 0.4, "value": 3_800_000, "duration": 6.5, "overlay": ["ZN"]},
        ],
        {
            "ES": future("ES", 5000.0, initial_margin=25_000),
            "MES": future("MES", 5000.0, initial_margin=2_500),
            "ZN": future("ZN", 110.5, dv01=71.16, expiry=dt.date(2026, 6, 18), initial_margin=2_200),
        },
        policy=policy,
    )
