"""The futures roots the project knows, with the source of every figure (data only).

Specifications (exchange, currency, multiplier, tick, expiry and delivery rule) are the
exchanges' published contract specifications, named on each entry. Market defaults
(:class:`~pricing.contract_spec.MarketDefaults`) are round, order-of-magnitude figures for
the simulator, each with where it comes from:

- ``adv``: average daily volume in contracts, rounded, from the exchange's published volume
  statistics for 2024 (CME Group volume reports, Eurex monthly statistics, ICE Futures
  U.S./Europe volume reports).
- ``daily_vol``: a typical annual volatility of the underlying divided by √252, rounded
  (equity indexes ~15–25 % a year; Treasury and Bund futures from their price volatility,
  ~1.5 % a year for 2-year notes to ~15 % for ultra bonds).
- ``spread_ticks``: the usual quoted spread of the front contract in the liquid session,
  one tick for every root here (exchange market data).
- ``fee_per_contract``: broker commission plus exchange and clearing fees per side, rounded
  up, from the exchange fee schedules and a retail broker's tiered futures commission.

Roll days (``roll_days``): 8 business days before the last trade date for cash-settled equity
index futures (the roll week, when the next contract becomes the most traded); 3 business
days before first position day for CBOT Treasury futures; 5 business days before the
notification (last trading) day for Eurex bond futures. All are overridable in the config.
"""

from __future__ import annotations

from pricing.contract_spec import AssetClass, ContractSpec, MarketDefaults
from pricing.expiry import ExpiryRule, Settlement

__all__ = ["REGISTRY"]

_EQ, _RT = AssetClass.EQUITY_INDEX, AssetClass.RATES
_TF, _T7, _LB, _EB = ExpiryRule.THIRD_FRIDAY, ExpiryRule.TREASURY_7BD, ExpiryRule.LAST_BUSINESS_DAY, ExpiryRule.EUREX_BOND
_CASH, _UST, _EUX = Settlement.CASH, Settlement.TREASURY_DELIVERY, Settlement.EUREX_DELIVERY
_M = MarketDefaults
_EQ_ROLL, _UST_ROLL, _EUX_ROLL = 8, 3, 5

_SPECS = (
    # --- CME equity index (CME Rulebook ch. 358 ES, 359 NQ, 393 RTY, 358A MES, 359A MNQ;
    #     quarterly H M U Z, cash settled on the third Friday's special opening quotation).
    #     ADV: CME 2024 volume reports. Vol: S&P 500 ~19 %/yr, Nasdaq-100 ~24 %, Russell 2000 ~25 %.
    ContractSpec("ES", "E-mini S&P 500", "CME", "USD", 50.0, 0.25, _TF, _CASH, _EQ, "S&P 500", _EQ_ROLL,
                 _M(1_500_000, 0.012, 1, 2.00)),
    ContractSpec("MES", "Micro E-mini S&P 500", "CME", "USD", 5.0, 0.25, _TF, _CASH, _EQ, "S&P 500", _EQ_ROLL,
                 _M(1_000_000, 0.012, 1, 0.60)),
    ContractSpec("NQ", "E-mini Nasdaq-100", "CME", "USD", 20.0, 0.25, _TF, _CASH, _EQ, "Nasdaq-100", _EQ_ROLL,
                 _M(600_000, 0.015, 1, 2.00)),
    ContractSpec("MNQ", "Micro E-mini Nasdaq-100", "CME", "USD", 2.0, 0.25, _TF, _CASH, _EQ, "Nasdaq-100", _EQ_ROLL,
                 _M(900_000, 0.015, 1, 0.60)),
    ContractSpec("RTY", "E-mini Russell 2000", "CME", "USD", 50.0, 0.10, _TF, _CASH, _EQ, "Russell 2000", _EQ_ROLL,
                 _M(150_000, 0.016, 1, 2.00)),
    # --- CBOT E-mini Dow ($5), CBOT Rulebook ch. 27: 5 USD per point, tick 1 point; DJIA ~16 %/yr.
    ContractSpec("YM", "E-mini Dow ($5)", "CBOT", "USD", 5.0, 1.0, _TF, _CASH, _EQ, "Dow Jones Industrial Average",
                 _EQ_ROLL, _M(150_000, 0.010, 1, 2.00)),
    # --- ICE Futures U.S. mini MSCI Emerging Markets: 50 USD per point, tick 0.10; MSCI EM ~17 %/yr.
    ContractSpec("MME", "MSCI Emerging Markets", "NYBOT", "USD", 50.0, 0.10, _TF, _CASH, _EQ, "MSCI Emerging Markets",
                 _EQ_ROLL, _M(30_000, 0.011, 1, 2.00)),
    # --- CBOT Treasury futures (Rulebook ch. 21 ZT: 200,000 face, tick 1/8 of 1/32; ch. 20 ZF:
    #     100,000 face, 1/4 of 1/32; ch. 19 ZN: 1/2 of 1/32; ch. 19B TN: 1/2 of 1/32; ch. 18 ZB:
    #     1/32; ch. 40 UB: 1/32). Multiplier = face / 100 per point. ADV: CME 2024 volume reports.
    #     Vol: price volatility ~1.6 % (ZT), 3.5 % (ZF), 6 % (ZN), 8 % (TN), 12 % (ZB), 15 % (UB) a year.
    ContractSpec("ZT", "2-Year T-Note", "CBOT", "USD", 2000.0, 1 / 256, _LB, _UST, _RT, "US 2Y note", _UST_ROLL,
                 _M(700_000, 0.001, 1, 1.50)),
    ContractSpec("ZF", "5-Year T-Note", "CBOT", "USD", 1000.0, 1 / 128, _LB, _UST, _RT, "US 5Y note", _UST_ROLL,
                 _M(900_000, 0.003, 1, 1.50)),
    ContractSpec("ZN", "10-Year T-Note", "CBOT", "USD", 1000.0, 1 / 64, _T7, _UST, _RT, "US 10Y note", _UST_ROLL,
                 _M(1_800_000, 0.004, 1, 1.50)),
    ContractSpec("TN", "Ultra 10-Year T-Note", "CBOT", "USD", 1000.0, 1 / 64, _T7, _UST, _RT, "US 10Y note (ultra)",
                 _UST_ROLL, _M(300_000, 0.005, 1, 1.50)),
    ContractSpec("ZB", "U.S. Treasury Bond", "CBOT", "USD", 1000.0, 1 / 32, _T7, _UST, _RT, "US long bond", _UST_ROLL,
                 _M(350_000, 0.008, 1, 1.60)),
    ContractSpec("UB", "Ultra U.S. Treasury Bond", "CBOT", "USD", 1000.0, 1 / 32, _T7, _UST, _RT, "US ultra bond",
                 _UST_ROLL, _M(250_000, 0.010, 1, 1.60)),
    # --- Eurex equity index (FESX: 10 EUR per point, tick 1; FDAX: 25 EUR per point, tick 0.5).
    #     ADV: Eurex 2024 monthly statistics. Vol: EURO STOXX 50 ~18 %/yr, DAX ~18 %.
    ContractSpec("FESX", "EURO STOXX 50", "EUREX", "EUR", 10.0, 1.0, _TF, _CASH, _EQ, "EURO STOXX 50", _EQ_ROLL,
                 _M(900_000, 0.012, 1, 1.50)),
    ContractSpec("FDAX", "DAX", "EUREX", "EUR", 25.0, 0.5, _TF, _CASH, _EQ, "DAX", _EQ_ROLL,
                 _M(100_000, 0.012, 1, 2.00)),
    # --- Eurex German government bond futures (100,000 EUR face, price in percent: 1,000 EUR
    #     per point; tick 0.005 Schatz, 0.01 Bobl and Bund, 0.02 Buxl). ADV: Eurex 2024 statistics.
    #     Vol: price volatility ~1.6 % (FGBS), 4 % (FGBM), 7 % (FGBL), 16 % (FGBX) a year.
    ContractSpec("FGBS", "Euro-Schatz", "EUREX", "EUR", 1000.0, 0.005, _EB, _EUX, _RT, "German 2Y note", _EUX_ROLL,
                 _M(400_000, 0.001, 1, 1.00)),
    ContractSpec("FGBM", "Euro-Bobl", "EUREX", "EUR", 1000.0, 0.01, _EB, _EUX, _RT, "German 5Y note", _EUX_ROLL,
                 _M(500_000, 0.0025, 1, 1.00)),
    ContractSpec("FGBL", "Euro-Bund", "EUREX", "EUR", 1000.0, 0.01, _EB, _EUX, _RT, "German 10Y bund", _EUX_ROLL,
                 _M(700_000, 0.0045, 1, 1.00)),
    ContractSpec("FGBX", "Euro-Buxl", "EUREX", "EUR", 1000.0, 0.02, _EB, _EUX, _RT, "German 30Y bond", _EUX_ROLL,
                 _M(50_000, 0.010, 1, 1.00)),
    # --- ICE Futures Europe FTSE 100 Index Future: 10 GBP per point, tick 0.5. ADV: ICE 2024
    #     volume reports. Vol: FTSE 100 ~14 %/yr.
    ContractSpec("Z", "FTSE 100", "ICEEU", "GBP", 10.0, 0.5, _TF, _CASH, _EQ, "FTSE 100", _EQ_ROLL,
                 _M(80_000, 0.009, 1, 1.50)),
)

#: Registry order (the first nine kept where they were: gateway contract ids derive from it).
_ORDER = ("ES", "MES", "NQ", "RTY", "ZN", "ZF", "ZB", "FESX", "MME",
          "MNQ", "YM", "ZT", "TN", "UB", "FDAX", "FGBS", "FGBM", "FGBL", "FGBX", "Z")

#: The known futures roots, by root.
REGISTRY: dict[str, ContractSpec] = {root: next(s for s in _SPECS if s.root == root) for root in _ORDER}
assert len(REGISTRY) == len(_SPECS)
