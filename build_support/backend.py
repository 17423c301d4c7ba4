"""The build backend: setuptools', plus the optional compiled build (``setup.py``).

With ``OVERLAY_COMPILE=1`` a wheel build also asks for mypy (which compiles the hot
modules). An editable install is never compiled: extension modules built next to the
sources would shadow later edits of them, so the variable is refused there with a message.
"""

from __future__ import annotations

import os

from setuptools import build_meta as _setuptools
from setuptools.build_meta import *  # noqa: F401,F403 (the rest of the backend's hooks)

# mypy compiles; numpy is there for its types (the compiled modules use its arrays)
_COMPILE_REQUIRES = ["mypy>=1.10", "numpy>=1.26"]


def _compiling() -> bool:
    return os.environ.get("OVERLAY_COMPILE", "0").strip() not in ("", "0")


def get_requires_for_build_wheel(config_settings=None):  # noqa: ANN001, ANN201
    if not _compiling():
        return _setuptools.get_requires_for_build_wheel(config_settings)
    # setuptools runs setup.py to list its requirements, before mypy is there to compile:
    # list them as for a pure build, and add mypy
    saved = os.environ.pop("OVERLAY_COMPILE")
    try:
        return _setuptools.get_requires_for_build_wheel(config_settings) + _COMPILE_REQUIRES
    finally:
        os.environ["OVERLAY_COMPILE"] = saved


def get_requires_for_build_editable(config_settings=None):  # noqa: ANN001, ANN201
    _refuse_editable()
    return _setuptools.get_requires_for_build_editable(config_settings)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):  # noqa: ANN001, ANN201
    _refuse_editable()
    return _setuptools.build_editable(wheel_directory, config_settings, metadata_directory)


def _refuse_editable() -> None:
    if _compiling():
        raise SystemExit(
            "OVERLAY_COMPILE=1: the compiled build cannot be installed in editable mode "
            "(compiled modules would shadow edits of their sources); use `pip install .`"
        )
