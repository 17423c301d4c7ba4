"""The engine's exceptions, kept in a module of their own.

They derive from :class:`RuntimeError`, which a class compiled by mypyc cannot subclass
(see ``docs/architecture.md``, the compiled build): the modules that raise them are compiled
in that build, this one never is. :mod:`execution.orders` and :mod:`execution.vtime` export
them under their old names.
"""

from __future__ import annotations

__all__ = ["IllegalTransition", "TimeTravelError"]


class IllegalTransition(RuntimeError):
    """A message that the order's current state cannot accept."""


class TimeTravelError(RuntimeError):
    """Raised when asked to move virtual time backwards."""
