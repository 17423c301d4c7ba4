"""Build a :class:`~sim_broker.broker.SimBroker` from plain config tables.

The tables are those of the portfolio config (see the ``overlay simulate`` spec), already
parsed from TOML into dicts::

    instruments = {"ES": {"kind": "future", "root": "ES", "price": 5000.0}, ...}
    market      = {"ES": {"adv": 1_500_000, "daily_vol": 0.012, "spread_ticks": 1,
                          "fee_per_contract": 1.5, "impact": {"model": "square-root", "y": 0.7},
                          "bars": "data/es_1min.csv"}}
    faults      = {"reject_rate": 0.01, "disconnect_every_minutes": 30, ...}

Every future of ``instruments`` gets a simulated market (swaps are OTC and are skipped);
``tick``, ``multiplier`` and the market defaults come from the registry root unless the
tables give them. A root the registry lacks must give ``tick`` and ``multiplier`` and its
``[market.<key>]`` table ``adv``, ``daily_vol`` and ``spread_ticks``: no market is invented.
A ``[market.<key>]`` table may also give ``session_start`` and ``session_end`` (``"HH:MM"``
or seconds since midnight). Relative ``bars`` paths are taken relative to ``base_dir``. Bad
values raise :class:`~sim_broker.params.TableError` naming
``source`` and the key path, before anything is simulated.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from pricing import contracts
from pricing.contracts import MarketDefaults
from pricing.impact import ImpactModel
from sim_broker.params import TableError, DEFAULT_SESSION_END, DEFAULT_SESSION_START, FaultParams, MarketParams, SimConfig, root_defaults

#: Fee per contract (instrument currency) of a future outside the registry whose market table names none.
DEFAULT_FEE_PER_CONTRACT = 2.00

#: Impact model of an instrument whose market table names none.
DEFAULT_IMPACT = {"model": "square-root", "y": 0.7}

MARKET_KEYS = ("adv", "daily_vol", "spread_ticks", "fee_per_contract", "impact", "bars", "session_start", "session_end")
FAULT_KEYS = tuple(f for f in FaultParams.__dataclass_fields__)


def _number(value: Any, source: str | None, key: str, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise TableError(source, key, f"must be a number, got {value!r}")
    if positive and value <= 0:
        raise TableError(source, key, f"must be positive, got {value!r}")
    if value < 0:
        raise TableError(source, key, f"must be >= 0, got {value!r}")
    return float(value)


def time_of_day(value: Any, source: str | None, key: str) -> float:
    """``"HH:MM"``, ``"HH:MM:SS"`` or a number of seconds since midnight, as seconds."""
    if isinstance(value, str):
        parts = value.strip().split(":")
        try:
            numbers = [int(p) for p in parts]
        except ValueError:
            numbers = []
        if len(numbers) in (2, 3) and 0 <= numbers[0] < 24 and all(0 <= n < 60 for n in numbers[1:]):
            h, m, s = (numbers + [0])[:3]
            return float(3600 * h + 60 * m + s)
        raise TableError(source, key, f"not a time of day: {value!r} (use HH:MM)")
    seconds = _number(value, source, key)
    if seconds > 86_400:
        raise TableError(source, key, f"more than a day of seconds: {value!r}")
    return seconds


def impact_model(spec: Any, source: str | None, key: str) -> ImpactModel:
    """An impact model from a spec table (``pricing.impact.model_from_spec``) or a model."""
    if isinstance(spec, ImpactModel):
        return spec
    from pricing.impact import ImpactSpecError, model_from_spec

    try:
        return model_from_spec(spec)
    except ImpactSpecError as exc:
        raise TableError(source, f"{key}.{exc.key}" if exc.key else key, exc.problem) from None
    except ValueError as exc:
        raise TableError(source, key, str(exc)) from None


def market_params(
    key: str,
    instrument: dict[str, Any],
    market: dict[str, Any] | None,
    source: str | None = None,
    base_dir: str | Path | None = None,
) -> MarketParams:
    """:class:`MarketParams` for instrument ``key`` from its two tables."""
    market = dict(market or {})
    unknown = sorted(set(market) - set(MARKET_KEYS))
    if unknown:
        raise TableError(source, f"market.{key}.{unknown[0]}", f"unknown key; known: {', '.join(MARKET_KEYS)}")
    root = str(instrument.get("root", key))
    try:
        spec = contracts.get(root)
        tick, multiplier = spec.tick, spec.multiplier
    except KeyError:
        tick = multiplier = None
    tick = instrument.get("tick", tick)
    multiplier = instrument.get("multiplier", multiplier)
    if tick is None or multiplier is None:
        raise TableError(source, f"instruments.{key}.root", f"unknown futures root {root!r}; give tick and multiplier")
    price = _number(instrument.get("price"), source, f"instruments.{key}.price", positive=True)
    mk = f"market.{key}"
    d = root_defaults(root)
    if d is None:
        for need in ("adv", "daily_vol", "spread_ticks"):
            if need not in market:
                raise TableError(source, f"{mk}.{need}", f"required: {root!r} is not a registry root, so it has no default market")
        d = MarketDefaults(market["adv"], market["daily_vol"], market["spread_ticks"], DEFAULT_FEE_PER_CONTRACT)
    spread = market.get("spread_ticks", d.spread_ticks)
    if isinstance(spread, bool) or not isinstance(spread, int) or spread < 1:
        raise TableError(source, f"{mk}.spread_ticks", f"must be an integer >= 1, got {spread!r}")
    bars = market.get("bars")
    if bars is not None:
        if not isinstance(bars, (str, Path)):
            raise TableError(source, f"{mk}.bars", f"must be a file path, got {bars!r}")
        bars_path = Path(bars)
        if base_dir is not None and not bars_path.is_absolute():
            bars_path = Path(base_dir) / bars_path
        if not bars_path.is_file():
            raise TableError(str(bars_path), f"{mk}.bars", "file not found")
        bars = str(bars_path)
    start = time_of_day(market.get("session_start", DEFAULT_SESSION_START), source, f"{mk}.session_start")
    end = time_of_day(market.get("session_end", DEFAULT_SESSION_END), source, f"{mk}.session_end")
    if end <= start:
        raise TableError(source, f"{mk}.session_end", "the session must end after it starts")
    return MarketParams(
        instrument=key,
        root=root,
        price=price,
        tick=_number(tick, source, f"instruments.{key}.tick", positive=True),
        multiplier=_number(multiplier, source, f"instruments.{key}.multiplier", positive=True),
        adv=_number(market.get("adv", d.adv), source, f"{mk}.adv", positive=True),
        daily_vol=_number(market.get("daily_vol", d.daily_vol), source, f"{mk}.daily_vol"),
        spread_ticks=spread,
        fee_per_contract=_number(market.get("fee_per_contract", d.fee_per_contract), source, f"{mk}.fee_per_contract"),
        impact=impact_model(market.get("impact", DEFAULT_IMPACT), source, f"{mk}.impact"),
        bars=bars,
        session_start=start,
        session_end=end,
        underlying=registry_underlying(root),
    )


def registry_underlying(root: str) -> str:
    """The underlying a registry root tracks (ES and MES: the S&P 500); the root itself otherwise."""
    spec = contracts.REGISTRY.get(root.upper())
    return spec.underlying_key if spec is not None else root


def fault_params(table: dict[str, Any] | None, source: str | None = None) -> FaultParams:
    """:class:`FaultParams` from the ``[faults]`` table."""
    table = dict(table or {})
    values = {}
    for key, value in table.items():
        if key not in FAULT_KEYS:
            raise TableError(source, f"faults.{key}", f"unknown key; known: {', '.join(FAULT_KEYS)}")
        values[key] = _number(value, source, f"faults.{key}")
    try:
        return FaultParams(**values)
    except ValueError as exc:
        raise TableError(source, "faults", str(exc)) from None


def from_tables(
    instruments: dict[str, dict[str, Any]],
    market: dict[str, dict[str, Any]] | None = None,
    faults: dict[str, Any] | None = None,
    seed: int = 0,
    start: float | str | None = None,
    sim: SimConfig | None = None,
    source: str | None = None,
    base_dir: str | Path | None = None,
):
    """A :class:`~sim_broker.broker.SimBroker` for the futures of ``instruments``.

    ``start`` (``"HH:MM"`` or seconds since midnight) is the anchor: each modelled mid
    equals its configured ``price`` then; by default at the session start. Run the engine on
    a loop whose clock starts at or before it, e.g. ``vtime.run(main, start=broker_start)``.
    """
    from sim_broker.broker import SimBroker

    market = market or {}
    for key in market:
        if key not in instruments:
            raise TableError(source, f"market.{key}", "no such instrument in [instruments]")
    params = [
        market_params(key, table, market.get(key), source, base_dir)
        for key, table in instruments.items()
        if table.get("kind", "future") == "future"
    ]
    fp = fault_params(faults, source)
    anchor = None if start is None else time_of_day(start, source, "execution.start")
    return SimBroker.simulate(params, seed, sim or SimConfig(), fp, anchor)
