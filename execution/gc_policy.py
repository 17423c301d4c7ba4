"""The garbage-collector policy of an engine run (:class:`execution.host.GcPolicy`).

Runs may overlap (several engines on one loop): the first to start applies its policy and
the last to end restores what it found.
"""

from __future__ import annotations

import gc

from execution.host import GcPolicy

__all__ = ["gc_enter"]


def gc_enter(policy: GcPolicy):
    """Apply ``policy`` for a run; returns the function that restores the collector.

    Runs may overlap (several engines on one loop): the first to start applies the policy
    and the last to end restores what it found.
    """
    global _gc_runs, _gc_restore
    if policy is GcPolicy.LEAVE or (_gc_runs == 0 and not gc.isenabled()):
        return _nothing
    if _gc_runs == 0:
        thresholds = gc.get_threshold()
        owned = gc.get_freeze_count() == 0  # a caller's own freeze is theirs to undo
        gc.freeze()  # what exists now (modules, market paths, specs) lives all run
        suspend = policy is GcPolicy.SUSPEND
        if suspend:
            gc.disable()
        else:
            # young collections still reclaim short-lived cycles; full ones are suspended
            gc.set_threshold(max(thresholds[0], _GEN0_THRESHOLD), thresholds[1], _NO_FULL_COLLECTIONS)

        def undo() -> None:
            if suspend:
                gc.enable()
            else:
                gc.set_threshold(*thresholds)
            if owned:
                gc.unfreeze()

        _gc_restore = undo
    _gc_runs += 1

    def restore() -> None:
        global _gc_runs
        _gc_runs -= 1
        if _gc_runs == 0:
            _gc_restore()

    return restore


def _nothing() -> None:
    pass


_gc_runs = 0  # runs under GcPolicy.RUN or SUSPEND now working
_gc_restore = _nothing
_GEN0_THRESHOLD = 10_000  # allocations between young collections (CPython's default: 700)
_NO_FULL_COLLECTIONS = 1 << 30  # generation-1 collections before a full one: never, in a run
