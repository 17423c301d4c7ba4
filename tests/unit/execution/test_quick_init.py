"""The broker events' quick ``__init__`` makes the same instances as dataclasses' own."""

from __future__ import annotations

import dataclasses
import inspect
import pickle
from dataclasses import dataclass, field

import pytest
from hypothesis import given
from hypothesis import strategies as st

from execution import broker
from execution.quick_init import quick_init

EVENTS = [
    broker.OrderRequest, broker.OrderAccepted, broker.OrderRejected, broker.Execution, broker.OrderCancelled,
    broker.OrderFilled, broker.CancelRejected, broker.ConnectionChanged,
]


def plain_twin(cls: type) -> type:
    """The same dataclass with dataclasses' own ``__init__`` (and the same ``__post_init__``)."""
    namespace = {"__annotations__": {f.name: f.type for f in dataclasses.fields(cls)}, "__module__": cls.__module__}
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            namespace[f.name] = field(default=f.default, repr=f.repr)
    if hasattr(cls, "__post_init__"):
        namespace["__post_init__"] = cls.__post_init__
    return dataclass(frozen=True, slots=True)(type(cls.__name__, (), namespace))


@pytest.mark.parametrize("cls", EVENTS, ids=lambda c: c.__name__)
def test_every_event_keeps_its_signature(cls):
    assert str(inspect.signature(cls)) == str(inspect.signature(plain_twin(cls)))


@given(
    order_id=st.integers(1, 10**9), time=st.floats(0, 1e9), exec_id=st.text(max_size=8),
    quantity=st.integers(-10**6, 10**6).filter(bool), price=st.floats(0.01, 1e6), fee=st.floats(0, 100),
)
def test_an_execution_is_the_same_value_as_dataclasses_would_make(order_id, time, exec_id, quantity, price, fee):
    quick = broker.Execution(order_id, time, exec_id, quantity, price, fee)
    plain = plain_twin(broker.Execution)(order_id, time, exec_id, quantity, price, fee)
    values = dataclasses.astuple(quick)
    assert values == dataclasses.astuple(plain)
    assert quick == broker.Execution(*values) and hash(quick) == hash(broker.Execution(*values))
    assert repr(quick) == repr(plain)
    assert pickle.loads(pickle.dumps(quick)) == quick
    assert dataclasses.replace(quick, fee=fee + 1.0).fee == fee + 1.0


def test_events_stay_frozen_and_run_their_checks():
    event = broker.OrderFilled(7, 1.5, 3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.filled = 4
    assert broker.OrderRequest(1, "ES", 2).tif is broker.TimeInForce.DAY  # a default
    with pytest.raises(ValueError, match="non-zero int"):
        broker.OrderRequest(1, "ES", 0)  # __post_init__ still runs
    with pytest.raises(ValueError, match="finite limit price"):
        broker.OrderRequest(1, "ES", 2, broker.OrderType.LIMIT)
    with pytest.raises(TypeError):
        broker.OrderAccepted(1)  # a missing argument is refused as before


def test_classes_it_cannot_reproduce_are_refused():
    @dataclass(slots=True)
    class Mutable:
        a: int

    @dataclass(frozen=True)
    class NoSlots:
        a: int

    @dataclass(frozen=True, slots=True)
    class Factory:
        a: list = field(default_factory=list)

    @dataclass(frozen=True, slots=True, kw_only=True)
    class KeywordOnly:
        a: int

    @dataclass(frozen=True, slots=True)
    class NotInInit:
        a: int = field(default=0, init=False)

    for cls in (Mutable, NoSlots, Factory, KeywordOnly, NotInInit):
        with pytest.raises(TypeError):
            quick_init(cls)
