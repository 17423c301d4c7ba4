"""`overlay simulate` with contracts in two currencies: each order keeps its currency, the
totals are in the base currency (each cost times its fx rate)."""

import pytest

from overlay.simulate import simulate

CONFIG = """
[portfolio]
name = "Two currencies"
currency = "USD"
as_of = 2026-03-02
cash = 0.0
fx = { EUR = 1.08 }

[policy]
trigger = "band"
illiquid = "plan"   # bonds have no instrument: only the equity sleeves are overlaid

[[sleeves]]
name = "us"
target = 0.4
value = 450_000_000.0
band = 0.001
overlay = ["ES"]

[[sleeves]]
name = "europe"
target = 0.2
value = 250_000_000.0
band = 0.001
overlay = ["FESX"]

[[sleeves]]
name = "bonds"
target = 0.4
value = 300_000_000.0
band = 0.001
overlay = []

[instruments.ES]
kind = "future"
root = "ES"
price = 5000.0
expiry = 2026-06-18

[instruments.FESX]
kind = "future"
root = "FESX"
price = 5000.0
currency = "EUR"

[execution]
horizon_minutes = 120
"""


def test_eur_and_usd_costs_carry_their_currency_and_add_up_in_the_base_currency(tmp_path):
    # before: EUR and USD costs sat side by side with no currency column and no total
    path = tmp_path / "two.toml"
    path.write_text(CONFIG)
    data = simulate(path, seed=2).to_json()
    currency = {o["instrument"][:-2]: o["currency"] for o in data["orders"]}
    assert currency == {"ES": "USD", "FESX": "EUR"}
    tot = data["totals"]
    assert tot["currency"] == "USD"
    fx = {"USD": 1.0, "EUR": 1.08}
    for part in ("shortfall", "delay", "spread", "impact", "timing", "fees"):
        expected = sum(o["costs"][part] * fx[o["currency"]] for o in data["orders"])
        assert tot[part] == pytest.approx(expected, abs=0.05)
    notional = sum(abs(o["filled"]) * o["decision_price"] * (50 if o["currency"] == "USD" else 10) * fx[o["currency"]]
                   for o in data["orders"])
    assert tot["notional"] == pytest.approx(notional, rel=1e-9)
    assert tot["shortfall_bps"] == pytest.approx(tot["shortfall"] / tot["notional"] * 1e4, abs=1e-3)
