"""Pre-trade risk limits from the config's ``[risk]`` table reach every child order."""

import json

from overlay.cli import main

BASE = open("examples/balanced_60_40.toml").read()


def _config(tmp_path, risk: str):
    path = tmp_path / "risky.toml"
    path.write_text(BASE + "\n[risk]\n" + risk)
    return str(path)


def test_child_size_limit_holds_and_orders_still_complete(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["simulate", _config(tmp_path, "max_child_quantity = 1\n"), "--json", "--out", str(out)])
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert all(o["filled"] == o["quantity"] for o in report["orders"])
    fills = (out / "fills.csv").read_text().splitlines()[1:]
    assert fills and all(abs(int(row.split(",")[3])) <= 1 for row in fills)


def test_a_collar_that_blocks_trading_leaves_orders_unfilled_with_exit_status_1(tmp_path, capsys):
    # a 0.1 bp collar is narrower than half an ES spread: children go out as limits at the
    # collar bound (they used to be blocked before sending); what fills is no worse than it
    code = main(["simulate", _config(tmp_path, "collar_bps = 0.1\n"), "--json"])
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert code == 1
    assert "unfilled" in captured.err and "collar" in captured.err
    for o in report["orders"]:
        if o.get("filled"):
            side = 1 if o["side"] == "buy" else -1
            assert side * (o["avg_price"] - o["arrival_price"]) <= 0.1e-4 * o["arrival_price"] + 1e-9


def test_an_unknown_risk_key_is_bad_input(tmp_path, capsys):
    code = main(["simulate", _config(tmp_path, "max_child_qty = 3\n")])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert "risk.max_child_qty: unknown key" in captured.err
