"""Portfolio configuration: the validated form of the TOML file ``overlay plan`` reads.

Public API::

    load_config(path) -> PortfolioConfig        # raises InputError(file, key, problem)
    as_config(path_or_config) -> PortfolioConfig  # what every entry point calls
    config_from_dict(data, file=None) -> PortfolioConfig

``PortfolioConfig`` holds the tables of the user contract: ``portfolio``, ``policy``,
``sleeves``, ``instruments`` (``FutureInstrument`` | ``SwapInstrument``), ``positions``,
``cash_flows``, and the simulation tables ``market`` (``dict[str, MarketConfig]``),
``execution`` (``ExecutionConfig``), ``faults`` (``FaultsConfig``) and ``risk`` (``RiskConfig``).
"""

from overlay.config.load import as_config, config_from_dict, load_config
from overlay.config.models import (
    Band,
    BandKind,
    Calendar,
    CashFlow,
    FutureInstrument,
    Illiquid,
    InstrumentKind,
    MomentumFilter,
    Policy,
    Portfolio,
    PortfolioConfig,
    Position,
    RebalanceTo,
    Sleeve,
    SwapInstrument,
    Trigger,
    VolScaling,
)
from overlay.config.simulation import (
    Algo,
    ExecutionConfig,
    FaultsConfig,
    ImpactModelName,
    ImpactSpec,
    MarketConfig,
    RiskConfig,
)

__all__ = [
    "Algo",
    "Band",
    "BandKind",
    "Calendar",
    "CashFlow",
    "ExecutionConfig",
    "FaultsConfig",
    "RiskConfig",
    "FutureInstrument",
    "ImpactModelName",
    "ImpactSpec",
    "Illiquid",
    "InstrumentKind",
    "MarketConfig",
    "MomentumFilter",
    "Policy",
    "Portfolio",
    "PortfolioConfig",
    "Position",
    "RebalanceTo",
    "Sleeve",
    "SwapInstrument",
    "Trigger",
    "VolScaling",
    "as_config",
    "config_from_dict",
    "load_config",
]
