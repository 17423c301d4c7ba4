"""Frozen parameters of the simulated market, its faults and the simulator itself.

Time convention: the simulator's clock (``loop.time()``) is in seconds since local midnight of
the trading day, so the default session of 09:30–16:00 runs from ``session_start = 34_200``
to ``session_end = 57_600``. A "day" in every volatility and
volume figure is one session (6.5 hours by default), which is what ``daily_vol`` and ``adv``
mean for an equity-index future.

Defaults per registry root come from the registry (:mod:`pricing.registry`, each figure
with its source): average daily volume in contracts, daily volatility as a fraction of price,
the quoted spread in ticks and an all-in fee per contract (broker plus exchange) in the
instrument's currency. The config's ``[market.<instrument>]`` table overrides any of them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pricing.contracts import REGISTRY, MarketDefaults
from pricing.impact import ImpactModel

#: 09:30 and 16:00 in seconds since midnight.
DEFAULT_SESSION_START = 34_200.0
DEFAULT_SESSION_END = 57_600.0


class TableError(ValueError):
    """A bad value in a config table the simulator reads: ``file: key: problem``.

    The simulator does not know the config's error type; the composition layer (``overlay``)
    turns this into its ``InputError`` (exit status 2, one line, no traceback).
    """

    def __init__(self, file: str | None, key: str | None, problem: str) -> None:
        self.file = file
        self.key = key
        self.problem = problem
        super().__init__(": ".join([p for p in (file, key) if p] + [problem]))


#: Market defaults of one futures root (the registry's, :class:`pricing.contracts.MarketDefaults`).
RootDefaults = MarketDefaults

#: Every registry root's default market, by root.
ROOT_DEFAULTS: dict[str, RootDefaults] = {root: spec.market for root, spec in REGISTRY.items()}


def root_defaults(root: str) -> RootDefaults | None:
    """The registry's default market of ``root``; None for a root the registry lacks (its
    ``[market.*]`` table must then give the figures: nothing is invented)."""
    spec = REGISTRY.get(root.upper())
    return spec.market if spec is not None else None


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


@dataclass(frozen=True, slots=True)
class MarketParams:
    """One simulated instrument.

    ``price`` is the mid at the anchor time (see :class:`~sim_broker.broker.SimBroker`),
    ``tick`` and ``multiplier`` as in the registry, ``adv`` contracts per session,
    ``daily_vol`` fraction of price per √session, ``spread_ticks`` the quoted spread,
    ``fee_per_contract`` currency per contract, ``impact`` the model that moves prices when we
    trade, ``bars`` an optional CSV of 1-minute bars to replay instead of the model.
    """

    instrument: str
    root: str
    price: float
    tick: float
    multiplier: float
    adv: float
    daily_vol: float
    spread_ticks: int
    fee_per_contract: float
    impact: ImpactModel
    bars: str | None = None
    session_start: float = DEFAULT_SESSION_START
    session_end: float = DEFAULT_SESSION_END
    underlying: str = ""  # instruments with the same underlying share their price shocks

    def __post_init__(self) -> None:
        name = self.instrument
        for key in ("price", "tick", "multiplier", "adv"):
            value = getattr(self, key)
            _require(math.isfinite(value) and value > 0, f"{name}: {key} must be positive, got {value!r}")
        _require(math.isfinite(self.daily_vol) and self.daily_vol >= 0, f"{name}: daily_vol must be >= 0")
        _require(isinstance(self.spread_ticks, int) and self.spread_ticks >= 1, f"{name}: spread_ticks must be an int >= 1")
        _require(math.isfinite(self.fee_per_contract) and self.fee_per_contract >= 0, f"{name}: fee_per_contract must be >= 0")
        _require(self.session_end > self.session_start, f"{name}: the session must end after it starts")

    @property
    def session_seconds(self) -> float:
        return self.session_end - self.session_start

    @property
    def underlying_key(self) -> str:
        """What drives the price: the registry's underlying index, else the root."""
        return self.underlying or self.root

    @property
    def half_spread(self) -> float:
        """Half the quoted spread, in price units."""
        return 0.5 * self.spread_ticks * self.tick

    @property
    def anchor_mid(self) -> float:
        """The model mid at the anchor time: ``price``, or half a tick above it when the spread
        is an odd number of ticks. A one-tick market quoting a last price of 5000.00 is
        5000.00 / 5000.25 (mid 5000.125), never a mid on the tick itself, where the quote
        would have to break a tie and every order's arrival price would carry that half tick.
        """
        return self.price + (0.5 * self.tick if self.spread_ticks % 2 else 0.0)

    @property
    def sigma(self) -> float:
        """Volatility in price units per √session: ``daily_vol · price``."""
        return self.daily_vol * self.price


@dataclass(frozen=True, slots=True)
class FaultParams:
    """The config's ``[faults]`` table; all off by default.

    Rates are probabilities per child order (``reject_rate``, ``drop_ack_rate``) or per
    execution (``duplicate_fill_rate``, ``late_fill_rate``). A late execution is delivered
    up to ``late_fill_max_seconds`` after it happened, possibly after the order's terminal
    event. Every ``disconnect_every_minutes`` minutes of session the link drops for
    ``disconnect_seconds`` seconds.
    """

    reject_rate: float = 0.0
    drop_ack_rate: float = 0.0
    duplicate_fill_rate: float = 0.0
    late_fill_rate: float = 0.0
    disconnect_every_minutes: float = 0.0
    disconnect_seconds: float = 0.0
    late_fill_max_seconds: float = 30.0

    def __post_init__(self) -> None:
        for key in ("reject_rate", "drop_ack_rate", "duplicate_fill_rate", "late_fill_rate"):
            value = getattr(self, key)
            _require(0.0 <= value <= 1.0, f"{key} must lie in [0, 1], got {value!r}")
        for key in ("disconnect_every_minutes", "disconnect_seconds", "late_fill_max_seconds"):
            value = getattr(self, key)
            _require(math.isfinite(value) and value >= 0, f"{key} must be >= 0, got {value!r}")
        if self.disconnect_every_minutes > 0:
            _require(
                self.disconnect_seconds < 60 * self.disconnect_every_minutes,
                "disconnect_seconds must be shorter than the disconnect period",
            )

    @property
    def any(self) -> bool:
        """Whether any fault is switched on."""
        return bool(
            self.reject_rate
            or self.drop_ack_rate
            or self.duplicate_fill_rate
            or self.late_fill_rate
            or (self.disconnect_every_minutes and self.disconnect_seconds)
        )


@dataclass(frozen=True, slots=True)
class SimConfig:
    """How the simulator works, shared by every instrument.

    - ``grid_seconds``: resolution of the price and volume paths (s);
    - ``volume_noise``: σ of the log-normal multiplicative noise on each grid step's volume;
    - ``edge_ratio``: U-shape of the volume profile (see :mod:`pricing.volume_profile`);
    - ``impact_half_life``: half-life of temporary impact (s);
    - ``max_participation``: the most an order may take of the market volume of one
      ``participation_interval`` (s); the rest fills in later intervals or is cancelled (IOC);
    - ``ack_latency``: submit or cancel to the broker's answer (s); the order works from then;
    - ``fill_latency``: from a match to its execution report (s);
    - ``block_steps``: grid steps generated per vectorised block.
    """

    grid_seconds: float = 1.0
    volume_noise: float = 0.5
    edge_ratio: float = 3.0
    impact_half_life: float = 180.0
    max_participation: float = 0.25
    participation_interval: float = 60.0
    ack_latency: float = 0.002
    fill_latency: float = 0.001
    block_steps: int = 65_536

    def __post_init__(self) -> None:
        for key in ("grid_seconds", "edge_ratio", "impact_half_life", "max_participation", "participation_interval"):
            value = getattr(self, key)
            _require(value > 0, f"{key} must be positive, got {value!r}")
        for key in ("volume_noise", "ack_latency", "fill_latency"):
            value = getattr(self, key)
            _require(math.isfinite(value) and value >= 0, f"{key} must be >= 0, got {value!r}")
        _require(self.block_steps >= 1, "block_steps must be >= 1")
