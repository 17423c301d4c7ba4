"""The last check of a plan: every number finite and every order tradable, or one clear error.

Inputs inside their domains (:mod:`overlay.config.bounds`) can still combine into a plan no
one can trade (a sleeve of 1e15 sized with a contract worth a cent); such a plan is refused
with an :class:`~overlay.errors.InputError` naming the field, never printed or executed.
"""

from __future__ import annotations

from overlay.config.bounds import MAX_CONTRACTS
from overlay.errors import InputError
from overlay.jsonout import first_non_finite
from overlay.plan.types import OrderKind, Plan, plan_to_dict


def check_plan(plan: Plan, file: str | None) -> None:
    """Raise :class:`InputError` for an order beyond :data:`MAX_CONTRACTS` contracts or a
    non-finite number anywhere in the plan."""
    for i, o in enumerate(plan.orders):
        if o.kind is OrderKind.FUTURE and abs(o.quantity) > MAX_CONTRACTS:
            raise InputError(
                file, f"instruments.{o.instrument}",
                f"the plan needs {float(o.quantity):.3g} contracts of {o.instrument} for {o.sleeve}, beyond the "
                f"{MAX_CONTRACTS:.0e} a plan may trade: check its price, multiplier and the sleeve's value",
            )
    where = first_non_finite(plan_to_dict(plan))
    if where:
        raise InputError(file, None, f"the plan's {where} is not a finite number: the inputs combine beyond float range")
