"""Market-impact models: :mod:`pricing.impact.base` holds the :class:`ImpactModel` protocol
and :class:`CostBreakdown`; :mod:`pricing.impact.models` the models (linear Almgren–Chriss,
square-root, Almgren et al. 2005, Kissell I-Star), the named presets and
:func:`model_from_spec`. Every public name is importable from here.
"""

from pricing.impact.base import Array, CostBreakdown, ImpactModel
from pricing.impact.models import (
    MODEL_PARAMS,
    ATHL2005Impact,
    ImpactSpecError,
    IStarImpact,
    LinearImpact,
    NullImpact,
    Preset,
    SquareRootImpact,
    model_from_spec,
    presets,
)

__all__ = [
    "ATHL2005Impact",
    "Array",
    "CostBreakdown",
    "IStarImpact",
    "ImpactModel",
    "ImpactSpecError",
    "LinearImpact",
    "MODEL_PARAMS",
    "NullImpact",
    "Preset",
    "SquareRootImpact",
    "model_from_spec",
    "presets",
]
