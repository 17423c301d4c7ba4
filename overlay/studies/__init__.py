"""Market-impact cost studies: grids of algorithm × order size × horizon × volatility ×
impact model × seeds, run on the simulator (``event`` engine) or in numpy (``vectorized``),
in-process, on local processes or on a Dask cluster.

The Python API behind ``overlay study``:

- :func:`load_study` (``overlay.studies.spec``) reads and validates a study file;
- :func:`run_study` (``overlay.studies.runners``) runs it and writes its files;
- :func:`calibrate` (``overlay.studies.calibration``) fits an impact model to fills or
  parent-order results, with confidence intervals.
"""

from __future__ import annotations

_EXPORTS = {
    "load_study": "overlay.studies.spec",
    "study_from_dict": "overlay.studies.spec",
    "StudySpec": "overlay.studies.spec",
    "run_study": "overlay.studies.runners",
    "StudyRun": "overlay.studies.runners",
    "calibrate": "overlay.studies.calibration",
    "Calibration": "overlay.studies.calibration",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
