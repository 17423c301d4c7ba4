"""Small portfolio configs for simulation tests (one futures order each)."""

from __future__ import annotations

ONE_FUTURE = """
[portfolio]
name = "One future"
currency = "USD"
as_of = 2026-03-02
cash = 0.0

[policy]
trigger = "band"
illiquid = "plan"       # bonds have no instrument: only the equity side is overlaid

[[sleeves]]
name = "equity"
target = 0.6
value = {equity_value}
band = 0.001
overlay = ["ES"]

[[sleeves]]
name = "bonds"
target = 0.4
value = {bonds_value}
band = 0.001
overlay = []

[instruments.ES]
kind = "future"
root = "ES"
price = 5000.0
expiry = 2026-06-18

[market.ES]
adv = {adv}
daily_vol = {daily_vol}
spread_ticks = 1
fee_per_contract = 1.5
impact = {{ model = "square-root", y = 0.7 }}

[execution]
algo = "twap"
horizon_minutes = 390
slice_minutes = 1
participation = {participation}
risk_aversion = {risk_aversion}

[faults]
{faults}
"""


def one_future(tmp_path, *, contracts=400, adv=1_500_000, daily_vol=0.012, participation=0.05,
               risk_aversion=1e-6, faults="", name="one.toml"):
    """A config whose plan sells ``contracts`` ES (5000 x 50 = 250,000 a contract)."""
    drift_value = contracts * 250_000.0
    total = max(1_000_000_000.0, 5.0 * drift_value)
    text = ONE_FUTURE.format(
        equity_value=0.6 * total + drift_value,
        bonds_value=0.4 * total - drift_value,
        adv=adv, daily_vol=daily_vol, participation=participation, risk_aversion=risk_aversion, faults=faults,
    )
    path = tmp_path / name
    path.write_text(text)
    return path
