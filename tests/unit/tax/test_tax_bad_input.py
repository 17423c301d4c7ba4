"""Bad tax tables: one line naming file, key and problem; exit 2; nothing on stdout."""

import pytest

from overlay.cli import main
from test_tax_plan import BASE, EQUITY_LOT, write


def assert_rejected(capsys, path, key, problem, *flags):
    status = main(["plan", path, "--json", *flags])
    out, err = capsys.readouterr()
    assert status == 2
    assert out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"overlay plan: error: {path}: {key}: "), err
    assert problem in err, err


def config(extra="", equity_extra="", lot=EQUITY_LOT):
    return BASE.format(equity_extra=equity_extra) + lot + extra


@pytest.mark.parametrize(
    "text,key,problem",
    [
        # lots of a sleeve must add up to its value within 0.5 %
        (config(lot=EQUITY_LOT.replace("value = 7_500_000", "value = 7_400_000")), "lots",
         "lots of sleeve 'equity' sum to 7,400,000.00, not its value 7,500,000.00"),
        (config(lot=EQUITY_LOT.replace("2019-05-01", "2026-03-03")), "lots[0].acquired",
         "2026-03-03 is after portfolio.as_of 2026-03-02"),
        (config(lot=EQUITY_LOT.replace('account = "taxable"', 'account = "ira"')), "lots[0].account",
         "unknown account 'ira' (not in [[accounts]])"),
        (config(lot=EQUITY_LOT.replace('sleeve = "equity"', 'sleeve = "equities"')), "lots[0].sleeve",
         "unknown sleeve 'equities'"),
        (config(lot=EQUITY_LOT.replace("basis = 4_500_000", "basis = -1")), "lots[0].basis", "greater than or equal to 0"),
        (config(lot=EQUITY_LOT.replace("basis = 4_500_000\n", "")), "lots[0].basis", "required key missing"),
        (config(lot=EQUITY_LOT + "quantity = 3\n"), "lots[0].quantity", "unknown key"),
        (config('[tax]\nlot_method = "lifo"\n'), "tax.lot_method", "'hifo', 'fifo' or 'loss_first'"),
        (config('[tax]\nshort_term = 1.37\n'), "tax.short_term", "less than or equal to 1"),
        (config('[[trades]]\nsleeve = "equity"\naccount = "pension"\ndate = 2026-04-01\nvalue = 1.0\n'),
         "trades[0].date", "is after portfolio.as_of"),
        (config('[[trades]]\nsleeve = "equity"\naccount = "nope"\ndate = 2026-02-01\nvalue = 1.0\n'),
         "trades[0].account", "unknown account 'nope'"),
        (config('[[accounts]]\nname = "taxable"\n'), "accounts[2].name", "duplicate account 'taxable'"),
        (config('[[accounts]]\nname = "x"\ntaxable = 1\n'), "accounts[2].taxable", "valid boolean"),
        (config(equity_extra='proxy = "gold"'), "sleeves[0].proxy", "unknown proxy 'gold'"),
        (config(equity_extra='proxy = "ZN"'), "sleeves[0].proxy", "unknown proxy 'ZN'"),
        (config(equity_extra='proxy = "equity"'), "sleeves[0].proxy", "its own proxy"),
        (config('[costs.cash]\nadv = 1.0\ndaily_vol = 0.01\n'), "costs.cash", "unknown sleeve 'cash'"),
        (config().replace("daily_vol = 0.012\n", ""), "costs.equity.daily_vol", "required key missing"),
        (config().replace("spread_bps = 2.0\n", 'spread_bps = 2.0\nimpact = { model = "square-root", z = 1.0 }\n'),
         "costs.equity.impact.z", "unknown parameter"),
    ],
)
def test_bad_tax_tables(capsys, tmp_path, text, key, problem):
    assert_rejected(capsys, write(tmp_path, text), key, problem)


def test_lots_within_the_tolerance_are_accepted(capsys, tmp_path):
    """7,470,000 is 0.4 % short of 7,500,000: inside the 0.5 % tolerance."""
    path = write(tmp_path, config(lot=EQUITY_LOT.replace("value = 7_500_000", "value = 7_470_000")))
    assert main(["plan", path, "--json"]) == 0


def test_compare_needs_costs_for_every_sleeve_that_trades(capsys, tmp_path):
    text = config().replace("[costs.bonds]\nspread_bps = 3.0\nadv = 2_000_000_000\ndaily_vol = 0.004\n", "")
    path = write(tmp_path, text)
    assert_rejected(capsys, path, "costs.bonds", "missing: --compare needs it", "--compare")
    assert main(["plan", path, "--json"]) == 0  # without --compare the table is not needed
    capsys.readouterr()


def test_harvest_needs_lots(capsys, tmp_path):
    path = write(tmp_path, config(lot=""))
    assert_rejected(capsys, path, "lots", "--harvest needs [[lots]]", "--harvest")


def test_horizon_must_be_positive(capsys, tmp_path):
    status = main(["plan", write(tmp_path, config()), "--compare", "--horizon-days", "0"])
    out, err = capsys.readouterr()
    assert status == 2 and out == "" and err.count("\n") == 1 and "--horizon-days" in err
