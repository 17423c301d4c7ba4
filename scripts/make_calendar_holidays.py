"""Write ``pricing/calendar_holidays.py``: the weekdays each exchange calendar is closed.

``pricing.calendars`` builds business days from these tables instead of building each
``exchange-calendars`` calendar at run time (about a second with pandas, for every command
that checks an expiry). Run this after upgrading ``exchange-calendars``; the unit test
``tests/unit/pricing/test_calendar_holidays.py`` fails while the table and the package
disagree.

    python scripts/make_calendar_holidays.py
"""

from __future__ import annotations

import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from pricing.calendars import EXCHANGE_CALENDARS, FIRST_YEAR, LAST_YEAR, weekdays  # noqa: E402


def closed_weekdays(name: str) -> list[str]:
    """Weekdays of :data:`FIRST_YEAR`–:data:`LAST_YEAR` that are not sessions of ``name``."""
    from pricing.calendars import _from_package

    sessions = _from_package(name)
    if np.any((sessions.astype(np.int64) + 3) % 7 >= 5):
        raise SystemExit(f"{name} has weekend sessions: a table of closed weekdays cannot describe it")
    return [str(d) for d in np.setdiff1d(weekdays(), sessions)]


def main() -> int:
    names = sorted(set(EXCHANGE_CALENDARS.values()))
    lines = [
        '"""Weekdays each exchange calendar is closed, from ``exchange-calendars`` (generated).',
        "",
        "Written by ``scripts/make_calendar_holidays.py``; do not edit. ``pricing.calendars``",
        "derives each calendar's sessions from it: the weekdays of the years below, less these.",
        '"""',
        "",
        f"FIRST_YEAR = {FIRST_YEAR}",
        f"LAST_YEAR = {LAST_YEAR}",
        "",
        "CLOSED: dict[str, tuple[str, ...]] = {",
    ]
    for name in names:
        days = closed_weekdays(name)
        lines.append(f'    "{name}": (')
        for i in range(0, len(days), 6):
            lines.append("        " + " ".join(f'"{d}",' for d in days[i : i + 6]))
        lines.append("    ),")
    lines.append("}")
    with open(os.path.join(ROOT, "pricing", "calendar_holidays.py"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
