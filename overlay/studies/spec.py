"""The study file of ``overlay study``: loading and validation.

A study file is TOML with four tables (see the ``overlay study`` section of the CLI spec)::

    [study]      name, engine ("event" | "vectorized"), seeds (paths per cell)
    [grid]       lists swept in every combination: algo, participation, horizon_minutes,
                 daily_vol and optionally impact (a list of impact-model tables)
    [market]     the simulated instrument: root, adv, price, daily_vol, spread_ticks,
                 fee_per_contract, impact, volume_noise, edge_ratio, impact_half_life,
                 impact_dynamics ("simulator" | "participation", vectorized engine only)
    [execution]  slice_minutes, risk_aversion (for "is")

Two kinds of bad input are told apart:

- a *malformed* file (unknown key, wrong type, empty list, an impossible market) raises
  :class:`~overlay.errors.InputError` from :func:`load_study` before anything runs (exit 2);
- a *grid value* that makes one cell impossible (a participation of zero, a horizon longer
  than the session, an impact table the model refuses) fails only that cell when it runs;
  the other cells complete and the study exits with status 1.

Units: ``participation`` is the order size as a fraction of ADV (0.05 = 5 % of a day's
volume); ``horizon_minutes`` and ``slice_minutes`` are minutes of the session;
``daily_vol`` is a fraction of price per √session; ``adv`` contracts per session; ``price``
in index points; ``fee_per_contract`` in the instrument's currency; ``volume_noise`` the
simulator's per-second log-normal σ of volume; ``impact_half_life`` seconds. Defaults come
from the registry (tick, multiplier), the simulator's per-root table (adv, daily_vol,
spread, fees) and its :class:`~sim_broker.params.SimConfig`.

The simulator caps each order at a share of every minute's volume; a study lifts that cap
(both engines trade whatever the schedule asks) so that costs follow the impact model alone.
"""

from __future__ import annotations

import enum
import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from overlay.errors import InputError
from overlay.tomlfile import read_toml

#: Minutes in the default session (09:30–16:00).
SESSION_MINUTES = 390.0
#: Arrival mid used when the study gives none (index points; an E-mini S&P level).
DEFAULT_PRICE = 5000.0


class Engine(enum.Enum):
    EVENT = "event"
    VECTORIZED = "vectorized"


class Algo(enum.Enum):
    TWAP = "twap"
    VWAP = "vwap"
    POV = "pov"
    IS = "is"


#: Grid keys in the order cells are expanded (the last varies fastest).
GRID_KEYS = ("algo", "impact", "participation", "horizon_minutes", "daily_vol")
_NUMERIC_GRID = ("participation", "horizon_minutes", "daily_vol")


@dataclass(frozen=True, slots=True)
class MarketSpec:
    """The simulated instrument shared by every cell (registry and simulator defaults filled)."""

    root: str
    price: float
    tick: float
    multiplier: float
    adv: float
    daily_vol: float
    spread_ticks: int
    fee_per_contract: float
    impact: Mapping[str, Any]
    volume_noise: float
    edge_ratio: float
    impact_half_life: float
    impact_dynamics: str = "simulator"

    def as_dict(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "price": self.price,
            "tick": self.tick,
            "multiplier": self.multiplier,
            "adv": self.adv,
            "daily_vol": self.daily_vol,
            "spread_ticks": self.spread_ticks,
            "fee_per_contract": self.fee_per_contract,
            "impact": dict(self.impact),
            "volume_noise": self.volume_noise,
            "edge_ratio": self.edge_ratio,
            "impact_half_life": self.impact_half_life,
            "impact_dynamics": self.impact_dynamics,
        }


@dataclass(frozen=True, slots=True)
class ExecutionSpec:
    """How each parent order is worked: slice length (minutes), IS risk aversion (1/currency)."""

    slice_minutes: float = 1.0
    risk_aversion: float = 1e-6


@dataclass(frozen=True, slots=True)
class StudySpec:
    """A validated study: every list of the grid is a non-empty tuple."""

    name: str
    engine: Engine
    seeds: int
    grid: Mapping[str, tuple[Any, ...]]
    market: MarketSpec
    execution: ExecutionSpec = field(default_factory=ExecutionSpec)
    source: str = "<study>"

    def fingerprint(self) -> str:
        """A digest of everything but the grid that shapes a cell's result."""
        payload = {
            "name": self.name,
            "engine": self.engine.value,
            "seeds": self.seeds,
            "market": self.market.as_dict(),
            "execution": {
                "slice_minutes": self.execution.slice_minutes,
                "risk_aversion": self.execution.risk_aversion,
            },
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


# --------------------------------------------------------------------------- helpers


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class _Reader:
    """Pulls typed values out of one TOML table, naming ``file: table.key`` on error."""

    def __init__(self, file: str, table: str, data: Any, allowed: tuple[str, ...]) -> None:
        if not isinstance(data, dict):
            raise InputError(file, table, "must be a table")
        unknown = sorted(set(data) - set(allowed))
        if unknown:
            raise InputError(file, f"{table}.{unknown[0]}", f"unknown key; expected one of {', '.join(allowed)}")
        self.file, self.table, self.data = file, table, data

    def fail(self, key: str, problem: str) -> InputError:
        return InputError(self.file, f"{self.table}.{key}", problem)

    def number(self, key: str, default: float | None, *, positive: bool = False, nonneg: bool = False) -> float:
        if key not in self.data:
            if default is None:
                raise self.fail(key, "missing")
            return float(default)
        value = self.data[key]
        if not _is_number(value) or not math.isfinite(value):
            raise self.fail(key, f"must be a number, got {value!r}")
        if positive and value <= 0:
            raise self.fail(key, f"must be > 0, got {value!r}")
        if nonneg and value < 0:
            raise self.fail(key, f"must be >= 0, got {value!r}")
        return float(value)

    def integer(self, key: str, default: int, *, minimum: int) -> int:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, f"must be an integer, got {value!r}")
        if value < minimum:
            raise self.fail(key, f"must be >= {minimum}, got {value!r}")
        return value

    def text(self, key: str, default: str | None) -> str:
        value = self.data.get(key, default)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "missing" if value is None else f"must be a non-empty string, got {value!r}")
        return value.strip()

    def choice(self, key: str, enum_type: type[enum.Enum], default: enum.Enum) -> Any:
        value = self.data.get(key, default.value)
        try:
            return enum_type(value)
        except ValueError:
            options = " | ".join(repr(e.value) for e in enum_type)
            raise self.fail(key, f"must be one of {options}, got {value!r}") from None


def _impact_table(file: str, key: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InputError(file, key, "must be a table such as { model = \"square-root\", y = 0.8 }")
    return dict(value)


def _check_impact(file: str, key: str, table: Mapping[str, Any]) -> None:
    from pricing.impact import ImpactSpecError, model_from_spec

    try:
        model_from_spec(dict(table))
    except ImpactSpecError as exc:
        raise InputError(file, f"{key}.{exc.key}" if exc.key else key, exc.problem) from None


# --------------------------------------------------------------------------- sections


def _market(file: str, data: Any, grid_has_impact: bool) -> MarketSpec:
    from overlay.studies.paths import ImpactDynamics
    from pricing import contracts
    from sim_broker.params import SimConfig

    r = _Reader(
        file,
        "market",
        data,
        (
            "root",
            "adv",
            "price",
            "daily_vol",
            "spread_ticks",
            "fee_per_contract",
            "impact",
            "volume_noise",
            "edge_ratio",
            "impact_half_life",
            "impact_dynamics",
        ),
    )
    root = r.text("root", "ES").upper()
    try:
        contract = contracts.get(root)
    except KeyError as exc:
        raise r.fail("root", str(exc.args[0])) from None
    defaults = contract.market
    sim = SimConfig()
    if "impact" in data:
        impact = _impact_table(file, "market.impact", data["impact"])
        _check_impact(file, "market.impact", impact)
    elif grid_has_impact:
        impact = {}
    else:
        raise r.fail("impact", "missing; give an impact model such as { model = \"square-root\", y = 0.8 }")
    return MarketSpec(
        root=root,
        price=r.number("price", DEFAULT_PRICE, positive=True),
        tick=contract.tick,
        multiplier=contract.multiplier,
        adv=r.number("adv", defaults.adv, positive=True),
        daily_vol=r.number("daily_vol", defaults.daily_vol, nonneg=True),
        spread_ticks=r.integer("spread_ticks", defaults.spread_ticks, minimum=1),
        fee_per_contract=r.number("fee_per_contract", defaults.fee_per_contract, nonneg=True),
        impact=impact,
        volume_noise=r.number("volume_noise", sim.volume_noise, nonneg=True),
        edge_ratio=r.number("edge_ratio", sim.edge_ratio, positive=True),
        impact_half_life=r.number("impact_half_life", sim.impact_half_life, positive=True),
        impact_dynamics=r.choice("impact_dynamics", ImpactDynamics, ImpactDynamics.SIMULATOR).value,
    )


def _grid(file: str, data: Any, market_daily_vol: float | None) -> dict[str, tuple[Any, ...]]:
    r = _Reader(file, "grid", data, GRID_KEYS)
    grid: dict[str, tuple[Any, ...]] = {}
    for key in GRID_KEYS:
        if key not in data:
            continue
        values = data[key]
        if not isinstance(values, list):
            values = [values]
        if not values:
            raise r.fail(key, "must list at least one value")
        if len(values) != len({json.dumps(v, sort_keys=True) for v in values}):
            raise r.fail(key, "lists a value twice")
        for i, value in enumerate(values):
            where = f"{key}[{i}]"
            if key == "algo":
                try:
                    Algo(value)
                except ValueError:
                    options = " | ".join(repr(a.value) for a in Algo)
                    raise r.fail(where, f"must be one of {options}, got {value!r}") from None
            elif key == "impact":
                _impact_table(file, f"grid.{where}", value)
            elif not _is_number(value) or not math.isfinite(value):
                raise r.fail(where, f"must be a number, got {value!r}")
        if key in _NUMERIC_GRID:
            values = [float(v) for v in values]
        grid[key] = tuple(values)
    if "participation" not in grid:
        raise r.fail("participation", "missing; list order sizes as fractions of ADV, e.g. [0.01, 0.05]")
    grid.setdefault("algo", ("twap",))
    grid.setdefault("horizon_minutes", (SESSION_MINUTES,))
    if "daily_vol" not in grid and market_daily_vol is not None:
        grid["daily_vol"] = (market_daily_vol,)
    return grid


def _execution(file: str, data: Any) -> ExecutionSpec:
    r = _Reader(file, "execution", data, ("slice_minutes", "risk_aversion"))
    slice_minutes = r.number("slice_minutes", 1.0, positive=True)
    if slice_minutes > SESSION_MINUTES:
        raise r.fail("slice_minutes", f"must be at most the session's {SESSION_MINUTES:g} minutes")
    return ExecutionSpec(
        slice_minutes=slice_minutes,
        risk_aversion=r.number("risk_aversion", 1e-6, nonneg=True),
    )


def study_from_dict(data: Mapping[str, Any], source: str = "<study>") -> StudySpec:
    """Validate a parsed study table (as from TOML) into a :class:`StudySpec`.

    Raises :class:`InputError` naming ``source`` and the key path of the first problem.
    """
    if not isinstance(data, Mapping):
        raise InputError(source, None, "a study must be a table")
    unknown = sorted(set(data) - {"study", "grid", "market", "execution"})
    if unknown:
        raise InputError(source, unknown[0], "unknown table; expected study, grid, market, execution")
    for table in ("study", "grid"):
        if table not in data:
            raise InputError(source, table, "missing table")
    s = _Reader(source, "study", data["study"], ("name", "engine", "seeds"))
    name = s.text("name", None)
    engine = s.choice("engine", Engine, Engine.VECTORIZED)
    seeds = s.integer("seeds", 20, minimum=1)
    raw_grid = data["grid"]
    grid_has_impact = isinstance(raw_grid, dict) and "impact" in raw_grid
    market = _market(source, data.get("market", {}), grid_has_impact)
    grid = _grid(source, raw_grid, market.daily_vol)
    if "impact" not in grid:
        grid["impact"] = (dict(market.impact),)
    execution = _execution(source, data.get("execution", {}))
    if engine is Engine.EVENT and market.impact_dynamics != "simulator":
        raise InputError(source, "market.impact_dynamics", "the event engine runs the simulator, whose dynamics are 'simulator'")
    return StudySpec(name=name, engine=engine, seeds=seeds, grid=grid, market=market, execution=execution, source=source)


def load_study(path: str | Path) -> StudySpec:
    """Read and validate a study TOML file (see the module docstring)."""
    data = read_toml(path, "study file")
    return study_from_dict(data, source=str(path))
