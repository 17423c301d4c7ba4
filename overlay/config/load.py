"""Reading a portfolio config file: TOML → validated :class:`PortfolioConfig`.

Every problem becomes one :class:`~overlay.errors.InputError` naming the file, the key path
(``sleeves[2].target``, ``instruments.ES.price``) and the problem, before anything else runs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from overlay.config.bounds import check_domains, check_raw
from overlay.config.checks import check_config
from overlay.config.models import PortfolioConfig
from overlay.errors import InputError
from overlay.tomlfile import read_toml

_TAGS = {"future", "swap"}


def load_config(path: str | os.PathLike[str]) -> PortfolioConfig:
    """Read, parse and validate the config at ``path``.

    Raises :class:`InputError` for a missing or unreadable file, broken TOML, unknown keys,
    bad values, values outside their domain (:mod:`overlay.config.bounds`) and inconsistent
    references; never returns a half-valid config.
    """
    file = str(path)
    data = read_toml(path, "config file")
    return config_from_dict(data, file)


def as_config(config: PortfolioConfig | str | os.PathLike[str]) -> PortfolioConfig:
    """``config`` itself when it is a loaded :class:`PortfolioConfig`, else the config read
    from that path (:func:`load_config`): every Python entry point takes either."""
    if isinstance(config, PortfolioConfig):
        return config
    if isinstance(config, (str, os.PathLike)):
        return load_config(config)
    raise TypeError(f"expected a PortfolioConfig or the path of a config file, got {type(config).__name__}")


def config_from_dict(data: Mapping[str, Any], file: str | None = None) -> PortfolioConfig:
    """Validate an already-parsed config (as ``tomllib`` returns it); see :func:`load_config`."""
    check_raw(data, file)
    try:
        cfg = PortfolioConfig.model_validate(dict(data))
    except ValidationError as exc:
        err = _first_error(exc)
        key = _key_path(err["loc"])
        if err["type"] in ("union_tag_not_found", "union_tag_invalid"):
            key = f"{key}.kind"
        raise InputError(file, key, _problem(err)) from None
    _reject_bools(data, file, "")
    check_domains(data, file)
    cfg._source = file
    check_config(cfg, file)
    return cfg


#: The only true/false keys of the config; a boolean anywhere else is a typo for a number.
_BOOL_KEYS = {"equitize_cash", "taxable"}


def _reject_bools(node: Any, file: str | None, path: str) -> None:
    """pydantic would read ``true`` as 1.0 in a number field: refuse it with its key path."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            sub = f"{path}.{key}" if path else str(key)
            if isinstance(value, bool) and key not in _BOOL_KEYS:
                raise InputError(file, sub, f"expected a number or text, got {str(value).lower()}")
            _reject_bools(value, file, sub)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            if isinstance(value, bool):
                raise InputError(file, f"{path}[{i}]", f"expected a number or text, got {str(value).lower()}")
            _reject_bools(value, file, f"{path}[{i}]")



def _first_error(exc: ValidationError) -> dict[str, Any]:
    errors = exc.errors()
    # Prefer an unknown key or a missing key: they explain the others.
    for kind in ("extra_forbidden", "missing"):
        for err in errors:
            if err["type"] == kind:
                return err
    return errors[0]


def _key_path(loc: tuple[Any, ...]) -> str | None:
    parts: list[str] = []
    for i, item in enumerate(loc):
        if isinstance(item, int):
            parts.append(f"[{item}]")
            continue
        # A tagged union adds the tag ("future"/"swap") after the instrument key: drop it.
        if i == 2 and loc[0] == "instruments" and item in _TAGS:
            continue
        parts.append(f".{item}" if parts else str(item))
    return "".join(parts) or None


def _problem(err: dict[str, Any]) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key missing"
    if kind == "union_tag_not_found":
        return "missing 'kind' (\"future\" or \"swap\")"
    if kind == "union_tag_invalid":
        return f"unknown kind {err['input'].get('kind')!r}: expected \"future\" or \"swap\""
    msg = str(err["msg"])
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if "input" in err and kind not in ("model_type", "dict_type") and not isinstance(err["input"], (dict, list)):
        return f"{msg[0].lower()}{msg[1:]}, got {err['input']!r}"
    return msg[0].lower() + msg[1:]
