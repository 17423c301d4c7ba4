"""Contract matching of the gateway: exchange names per the facts table, front and next month."""

from __future__ import annotations

import datetime as dt

from sim_broker.tws.contracts import ContractBook
from sim_broker.tws.messages import ContractQuery

DAY = dt.date(2026, 3, 2)


def book() -> ContractBook:
    return ContractBook(DAY, {"ES_JUNE": ("ES", dt.date(2026, 6, 18))})


def test_futures_qualify_on_their_exchange_not_globex():
    b = book()
    for root, exchange in (("ES", "CME"), ("ZN", "CBOT"), ("FESX", "EUREX"), ("MME", "NYBOT")):
        (row,) = b.details(ContractQuery(symbol=root, sec_type="FUT", last_trade="202603", exchange=exchange))
        assert row.exchange == exchange and row.contract_month == "202603"
    assert b.details(ContractQuery(symbol="ES", sec_type="FUT", last_trade="202603", exchange="GLOBEX")) == []
    assert b.details(ContractQuery(symbol="XYZ", sec_type="FUT")) == []
    assert b.details(ContractQuery(symbol="ES", sec_type="STK")) == []


def test_last_trade_date_or_month_and_con_id_match_the_same_contract():
    b = book()
    by_month = b.resolve(ContractQuery(symbol="ZN", sec_type="FUT", last_trade="202603"), data_only=False)
    by_date = b.resolve(ContractQuery(symbol="ZN", sec_type="FUT", last_trade=by_month.row.last_trade), data_only=False)
    by_id = b.resolve(ContractQuery(con_id=by_month.row.con_id, sec_type="FUT"), data_only=False)
    assert by_month is by_date is by_id
    assert by_month.row.last_trade == "20260320"  # 7 business days before Tue 31 March 2026


def test_continuous_future_is_the_front_and_for_data_only():
    b = book()
    q = ContractQuery(symbol="ES", sec_type="CONTFUT", exchange="CME")
    (row,) = b.details(q)
    assert row.sec_type == "CONTFUT" and row.contract_month == "202603"
    assert b.resolve(q, data_only=True).front
    assert b.resolve(q, data_only=False) is None


def test_months_route_to_the_config_instrument():
    b = book()
    june = b.resolve(ContractQuery(symbol="ES", sec_type="FUT", last_trade="202606"), data_only=False)
    march = b.resolve(ContractQuery(symbol="ES", sec_type="FUT", last_trade="202603"), data_only=False)
    assert june.instrument == march.instrument == "ES_JUNE"
    assert b.resolve(ContractQuery(symbol="NQ", sec_type="FUT", last_trade="202603"), data_only=False).instrument == "NQ"
    assert len(b.details(ContractQuery(symbol="ES", sec_type="FUT"))) == 2  # ambiguous without a month


def test_the_continuous_front_follows_the_registry_roll_rule():
    # ZNH6's first position day is 2026-02-26 and its roll date 2026-02-23: on 2026-03-02 the
    # front (ContFuture) is ZNM6, as the planner resolves it, and ZNH6 still trades to be closed.
    from pricing.contracts import front_contract

    b = book()
    q = ContractQuery(symbol="ZN", sec_type="CONTFUT", exchange="CBOT")
    (row,) = b.details(q)
    assert row.local_symbol == "ZNM6" == front_contract("ZN", DAY).local_symbol
    march = b.resolve(ContractQuery(symbol="ZN", sec_type="FUT", last_trade="202603"), data_only=False)
    assert march is not None and not march.front
    # MMEH6 rolls on 2026-03-10: on 2026-03-11 the front is MMEM6.
    later = ContractBook(dt.date(2026, 3, 11), {})
    (mme,) = later.details(ContractQuery(symbol="MME", sec_type="CONTFUT"))
    assert mme.local_symbol == "MMEM6"
