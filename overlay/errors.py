"""User-facing errors.

An :class:`InputError` is bad input from the user: a missing file, broken TOML, an unknown key,
an impossible value. The CLI prints it as one line, ``FILE: KEY: PROBLEM``, exits with status 2,
prints no traceback and sends no order. Raise it before any side effect.
"""

from __future__ import annotations


class InputError(Exception):
    """Bad user input, reported as ``file: key: problem`` with exit status 2."""

    def __init__(self, file: str | None, key: str | None, problem: str) -> None:
        self.file = file
        self.key = key
        self.problem = problem
        super().__init__(str(self))

    def __str__(self) -> str:
        parts = [p for p in (self.file, self.key) if p]
        parts.append(self.problem)
        return one_line(": ".join(parts))


def one_line(text: str) -> str:
    """``text`` with line breaks and other control characters escaped, so it prints as one line."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


class JobFailed(Exception):
    """The job ran but did not succeed (an order left unfilled, a study cell failed): exit 1."""
