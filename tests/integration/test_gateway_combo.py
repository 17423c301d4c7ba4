"""A roll as one calendar-spread combo (``BAG``) order through the gateway, driven by the
unmodified IB client (``ib_async``, else ``ib_insync``) as in test_gateway.

IB's behaviour reproduced (TWS API, "Spreads"/"Combo orders"; ib_async's ``Trade.filled``
counts only the ``BAG`` fills of a combo trade because IB reports executions for each leg
and for the combo): one order, ``execDetails`` per leg and for the ``BAG``, positions in the
legs.
"""

from __future__ import annotations

import datetime as dt

import pytest

from overlay.config import config_from_dict
from sim_broker.tws.server import GatewayConfig, GatewayThread
from test_gateway import connect, decode_guard, ib, until  # noqa: F401 - the guard is an autouse fixture

AS_OF = dt.date(2026, 3, 2)
FEE = 1.25


def config():
    return config_from_dict({
        "portfolio": {"name": "Roll test", "as_of": AS_OF, "cash": 2_000_000.0},
        "sleeves": [{"name": "equity", "target": 1.0, "value": 10_000_000.0, "overlay": ["ES"]}],
        "instruments": {"ES": {"kind": "future", "root": "ES", "price": 5200.0, "expiry": dt.date(2026, 6, 18)}},
        "positions": [{"instrument": "ES", "quantity": 4}],
        "market": {"ES": {"fee_per_contract": FEE}},
    })


def bag(near, far, near_action="SELL", far_action="BUY"):
    return ib.Contract(secType="BAG", symbol="ES", exchange="CME", currency="USD", comboLegs=[
        ib.ComboLeg(conId=far.conId, ratio=1, action=far_action, exchange="CME"),
        ib.ComboLeg(conId=near.conId, ratio=1, action=near_action, exchange="CME"),
    ])


async def _legs(client):
    near, far = ib.Future("ES", "202606", "CME"), ib.Future("ES", "202609", "CME")
    await client.qualifyContractsAsync(near, far)
    return near, far


async def test_a_roll_is_one_bag_order_reported_per_leg_and_for_the_combo():
    with GatewayThread(GatewayConfig(speed=30.0, start=10 * 3600 + 30 * 60), config()) as gw:
        client = await connect(gw)
        try:
            near, far = await _legs(client)
            assert near.conId and far.conId and near.conId != far.conId  # conId lookup of the legs
            (details,) = await client.reqContractDetailsAsync(ib.Contract(conId=far.conId))
            assert details.contract.localSymbol == "ESU6"
            trade = client.placeOrder(bag(near, far), ib.MarketOrder("BUY", 4))
            await until(lambda: trade.isDone() and trade.filled() == 4, wall_seconds=10)
            assert trade.orderStatus.status == "Filled" and trade.orderStatus.filled == 4
            assert len(client.trades()) == 1  # one order, never two legs
            combo = [f for f in trade.fills if f.contract.secType == "BAG"]
            legs = [f for f in trade.fills if f.contract.secType == "FUT"]
            assert sum(f.execution.shares for f in combo) == 4
            sold = sum(f.execution.shares for f in legs if f.contract.conId == near.conId and f.execution.side == "SLD")
            bought = sum(f.execution.shares for f in legs if f.contract.conId == far.conId and f.execution.side == "BOT")
            assert sold == bought == 4 and len(legs) == 2 * len(combo)
            prices = {f.execution.execId: f.execution.price for f in trade.fills}
            for f in combo:  # the combo price is the far leg's less the near leg's
                assert f.execution.price == pytest.approx(prices[f.execution.execId + ".02"] - prices[f.execution.execId + ".01"])
            await until(lambda: all(f.commissionReport.execId for f in legs))
            assert sum(f.commissionReport.commission for f in legs) == pytest.approx(2 * 4 * FEE)
            await until(lambda: {p.contract.conId: p.position for p in client.positions()} == {far.conId: 4})
            fills = await client.reqExecutionsAsync()
            assert {f.execution.execId for f in fills} == {f.execution.execId for f in trade.fills}
        finally:
            client.disconnect()


async def test_a_spread_limit_may_be_negative_and_rests():
    with GatewayThread(GatewayConfig(speed=30.0, start=10 * 3600 + 30 * 60), config()) as gw:
        client = await connect(gw)
        try:
            near, far = await _legs(client)
            trade = client.placeOrder(bag(near, far), ib.LimitOrder("BUY", 2, -50.0))
            await until(lambda: trade.orderStatus.status == "Submitted")
            client.cancelOrder(trade.order)
            await until(lambda: trade.orderStatus.status == "Cancelled")
            assert trade.filled() == 0 and {p.contract.conId: p.position for p in client.positions()} == {near.conId: 4}
        finally:
            client.disconnect()


async def test_a_bad_combo_is_refused_and_nothing_trades():
    with GatewayThread(GatewayConfig(speed=30.0, start=10 * 3600 + 30 * 60), config()) as gw:
        client = await connect(gw)
        errors = []
        client.errorEvent += lambda req_id, code, text, contract: errors.append((code, text))
        try:
            near, far = await _legs(client)
            both_bought = client.placeOrder(bag(near, far, near_action="BUY"), ib.MarketOrder("BUY", 1))
            unknown = client.placeOrder(bag(near, ib.Contract(conId=1)), ib.MarketOrder("BUY", 1))
            await until(lambda: both_bought.isDone() and unknown.isDone())
            codes = [c for c, _ in errors]
            assert 201 in codes and 200 in codes
            assert {p.contract.conId: p.position for p in client.positions()} == {near.conId: 4}
        finally:
            client.disconnect()
