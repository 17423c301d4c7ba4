"""The gateway seeded from a portfolio config: opening positions, market tables and faults.

Driven by the unmodified IB client (``ib_async``, else ``ib_insync``), as in test_gateway.
"""

from __future__ import annotations

import datetime as dt

import pytest

from overlay.config import config_from_dict
from sim_broker.tws.server import GatewayConfig, GatewayThread
from test_gateway import connect, decode_guard, ib, until  # noqa: F401 - the guard is an autouse fixture

AS_OF = dt.date(2026, 3, 2)


def config(faults: dict | None = None):
    data = {
        "portfolio": {"name": "Gateway test", "as_of": AS_OF, "cash": 2_000_000.0},
        "sleeves": [{"name": "equity", "target": 1.0, "value": 10_000_000.0, "overlay": ["ES"]}],
        "instruments": {"ES": {"kind": "future", "root": "ES", "price": 5200.0, "expiry": dt.date(2026, 6, 18)}},
        "positions": [{"instrument": "ES", "quantity": -4}],
        "market": {"ES": {"fee_per_contract": 1.25}},
    }
    if faults:
        data["faults"] = faults
    return config_from_dict(data)


async def test_config_positions_prices_and_fees_reach_the_client():
    settings = GatewayConfig(speed=30.0, start=10 * 3600 + 30 * 60)
    with GatewayThread(settings, config()) as gw:
        client = await connect(gw)
        try:
            (pos,) = client.positions()
            assert pos.position == -4
            assert pos.contract.lastTradeDateOrContractMonth == "20260618"  # the config's expiry month
            assert pos.avgCost == pytest.approx(5200.0 * 50)
            values = {v.tag: float(v.value) for v in client.accountValues() if v.tag == "NetLiquidation"}
            assert values["NetLiquidation"] > 1_000_000.0  # the config's cash, marked positions
            es = pos.contract
            es.exchange = "CME"
            trade = client.placeOrder(es, ib.MarketOrder("BUY", 4))
            await until(lambda: trade.isDone() and trade.fills and trade.fills[-1].commissionReport.execId)
            assert sum(f.commissionReport.commission for f in trade.fills) == pytest.approx(4 * 1.25)
            assert trade.fills[-1].commissionReport.realizedPNL != 0.0  # closing the short realises P&L
            await until(lambda: not client.positions())
        finally:
            client.disconnect()


async def test_dropped_acknowledgements_and_late_fills_still_settle_by_executions():
    faults = {"drop_ack_rate": 1.0, "late_fill_rate": 1.0, "duplicate_fill_rate": 1.0}
    settings = GatewayConfig(speed=30.0)
    with GatewayThread(settings, config(faults)) as gw:
        client = await connect(gw)
        try:
            es = ib.Future("ES", "202606", "CME")
            await client.qualifyContractsAsync(es)
            trade = client.placeOrder(es, ib.MarketOrder("SELL", 2))
            await until(lambda: sum(f.execution.shares for f in trade.fills) == 2, wall_seconds=10)
            assert "Submitted" not in [e.status for e in trade.log]  # the acknowledgement never came
            assert len({f.execution.execId for f in trade.fills}) == len(trade.fills)  # duplicates folded
            await until(lambda: any(p.position == -6 for p in client.positions()), wall_seconds=10)
        finally:
            client.disconnect()


def test_the_next_month_of_a_config_future_trades_at_its_carry_price():
    """The pension plan rolls ES from March into June; the gateway's June ES must trade where
    the planner priced it (cost of carry from the March price), moving with March."""
    import numpy as np

    from overlay.config import load_config
    from overlay.plan.planner import plan
    from sim_broker.tws.server import GatewayConfig, build

    config = load_config("examples/pension_multi_asset.toml")
    june = next(o.price for o in plan(config).futures_orders if o.local_symbol == "ESM6")
    broker, _ = build(config, GatewayConfig())
    march_mid, june_mid = broker.path("ES").mid, broker.path("ESM6").mid
    spread = june_mid - march_mid
    # 90 days of carry from ESH6's 2026-03-20 to ESM6's 2026-06-18 (Juneteenth moved it).
    assert spread[0] == june - 5950.0 == 44.25
    assert np.abs(spread - 44.25).max() < 2.0  # one underlying: the calendar spread holds
