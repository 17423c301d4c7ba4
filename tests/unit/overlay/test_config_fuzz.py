"""Config fuzzer: the shipped examples, mutated, through ``overlay plan`` and ``overlay simulate``.

Mutations: deleted keys and tables, wrong types, extreme and non-finite numbers, extreme
dates, unicode and control characters in names and keys, huge arrays. Each mutated config is
written as TOML and run in-process through the CLI's ``main()``. Every outcome must be a plan
(exit 0 and one strict-JSON object on stdout; ``simulate`` may also exit 1 for an unfilled
order, with its report) or one line on stderr with exit 2; never a traceback, never more than
10 seconds, never a NaN or an infinity in the JSON.

CI runs a modest number of examples; by hand, for thousands::

    pytest tests/unit/overlay/test_config_fuzz.py -p no:cacheprovider --hypothesis-profile=fuzz
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import io
import json
import signal
import tomllib
import warnings
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from overlay.cli import main

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
SOURCES = {name: tomllib.loads((EXAMPLES / name).read_text()) for name in ("balanced_60_40.toml", "pension_multi_asset.toml", "taxable_60_40.toml")}

#: Seconds one example may take (plan or simulate) before it counts as a hang.
DEADLINE_S = 10

EXTREME_NUMBERS = [
    0, -1, 0.0, -0.0, 1e-308, 5e-324, 1e-6, 1e15, 1e15 + 1, 1e16, 1e30, 1e300, 1e308, -1e308,
    float("nan"), float("inf"), float("-inf"), 2**63 - 1, -(2**63), 10**9, 10**9 + 1, 1e-9, 0.5, 7,
]
WEIRD_TEXT = [
    "", " ", "a\nb", "a\rb", "tab\there", "nul\x00", "bell\x07", "esc\x1b[31m", "\u202eevil", "line\u2028sep",
    "é", "日本", "🙂", "x" * 300, "ES", "us_equity", "\ufeffbom", "\x7f", "ZN ", "future", "swap",
]
EXTREME_DATES = [
    dt.date(1, 1, 1), dt.date(1899, 12, 31), dt.date(2199, 12, 31), dt.date(2200, 1, 1), dt.date(9999, 12, 31),
    dt.date(2026, 3, 20), dt.datetime(2026, 3, 2, 9, 30), dt.time(9, 30),
]
WRONG_TYPES = ["text", 1, 1.5, True, False, [], {}, [1, 2], {"x": 1}, dt.date(2026, 1, 1), ["ES", 3]]


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    out = []
    if isinstance(node, dict):
        for key, value in node.items():
            out.append((*prefix, key))
            out.extend(_paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out.append((*prefix, i))
            out.extend(_paths(value, (*prefix, i)))
    return out


def _parent(doc: dict, path: tuple) -> Any:
    node: Any = doc
    for part in path[:-1]:
        node = node[part]
    return node


@st.composite
def mutated_configs(draw) -> dict:
    doc = copy.deepcopy(SOURCES[draw(st.sampled_from(sorted(SOURCES)))])
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(doc)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent, last = _parent(doc, path), path[-1]
        op = draw(st.sampled_from(["delete", "type", "number", "text", "rename", "huge", "date", "float", "scale", "scale"]))
        if op == "scale" and isinstance(parent[last], (int, float)) and not isinstance(parent[last], bool):
            # a plausible-looking value far from the original: a config that still plans
            parent[last] = parent[last] * draw(st.sampled_from([-1, 0, 1e-9, 1e-6, 1e-3, 0.5, 2, 1e3, 1e6, 1e9]))
        elif op == "delete":
            del parent[last]
        elif op == "type":
            parent[last] = draw(st.sampled_from(WRONG_TYPES))
        elif op == "number":
            parent[last] = draw(st.sampled_from(EXTREME_NUMBERS))
        elif op == "float":
            parent[last] = draw(st.floats(allow_nan=True, allow_infinity=True))
        elif op == "text":
            parent[last] = draw(st.one_of(st.sampled_from(WEIRD_TEXT), st.text(st.characters(exclude_categories=("Cs",)), max_size=12)))
        elif op == "rename" and isinstance(parent, dict):
            new = draw(st.one_of(st.sampled_from(WEIRD_TEXT), st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=8)))
            parent[new] = parent.pop(last)
        elif op == "huge":
            # one past the 10,000-entry limit, or many within it; always the last mutation
            value = parent[last]
            if isinstance(value, list) and value:
                parent[last] = value * draw(st.sampled_from([50, -(-10_001 // len(value))]))
            elif isinstance(value, dict):
                parent[last] = [value] * 50
            else:
                parent[last] = [value] * draw(st.sampled_from([50, 10_001]))
            break
        elif op == "date":
            parent[last] = draw(st.sampled_from(EXTREME_DATES))
    return doc


class _Hang(BaseException):
    """Raised by the alarm: an example ran past its deadline."""


@contextlib.contextmanager
def _deadline(seconds: int):
    def alarm(signum, frame):
        raise _Hang(f"an example ran for more than {seconds} s")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _reject_constant(name: str):
    raise AssertionError(f"non-finite number {name} in the JSON output")


def run_cli(tmp: Path, doc: dict, *argv: str) -> tuple[int, str, str]:
    try:
        text = tomli_w.dumps(doc)
    except (TypeError, ValueError):
        assume(False)  # not expressible as TOML
    path = tmp / "fuzz.toml"
    path.write_text(text, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    with _deadline(DEADLINE_S), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # numpy overflow or invalid value: a bug
        code = main([argv[0], str(path), *argv[1:]])
    return code, out.getvalue(), err.getvalue()


def check_outcome(command: str, code: int, out: str, err: str) -> None:
    assert "Traceback" not in err, err
    if code == 2:
        assert out == "", out
        assert err.count("\n") == 1 and err.startswith(f"overlay {command}: error: "), repr(err)
        return
    assert code == 0 or (command == "simulate" and code == 1), (code, err)
    payload = json.loads(out, parse_constant=_reject_constant)
    assert isinstance(payload, dict)
    if code == 1:
        assert err.strip().splitlines()[-1].startswith("overlay simulate: failed: "), err


def _examples(ci: int) -> int:
    """``ci`` examples in CI; the active profile's count under ``--hypothesis-profile``."""
    return ci if settings.get_current_profile_name() == "default" else settings.default.max_examples


FUZZ = dict(
    deadline=None,  # the alarm above bounds each example at DEADLINE_S
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
    derandomize=settings.get_current_profile_name() == "default",  # CI: the same examples every run
)


@settings(max_examples=_examples(200), **FUZZ)
@given(doc=mutated_configs())
def test_plan_never_crashes_hangs_or_prints_non_finite_json(tmp_path, doc):
    code, out, err = run_cli(tmp_path, doc, "plan", "--json", "--suggest-bands")
    check_outcome("plan", code, out, err)


@settings(max_examples=_examples(100), **FUZZ)
@given(doc=mutated_configs())
def test_simulate_never_crashes_hangs_or_prints_non_finite_json(tmp_path, doc):
    code, out, err = run_cli(tmp_path, doc, "simulate", "--json", "--seed", "1")
    check_outcome("simulate", code, out, err)


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_the_unmutated_examples_plan_and_simulate(tmp_path, name):
    for command, args in (("plan", ("--json",)), ("simulate", ("--json",))):
        code, out, err = run_cli(tmp_path, SOURCES[name], command, *args)
        assert code == 0, err
        check_outcome(command, code, out, err)
