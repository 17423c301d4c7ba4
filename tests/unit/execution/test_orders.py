import pytest
from hypothesis import given
from hypothesis import strategies as st

from execution.orders import (
    TRANSITIONS,
    ChildOrder,
    IllegalTransition,
    OrderState,
    ParentOrder,
    Trigger,
    transition,
)

S, T = OrderState, Trigger


def _child(qty=10):
    parent = ParentOrder(1, "ES", qty)
    child = ChildOrder(7, parent, qty, 0.0, 100.0, 100.25)
    parent.children.append(child)
    parent.working += qty
    return parent, child


def test_happy_path_accept_partial_fill():
    parent, child = _child(10)
    child.apply(T.ACCEPT)
    assert child.state is S.WORKING
    parent.record_execution(child, 1.0, "e1", 4, 100.0, 0.0)
    assert child.state is S.PARTIALLY_FILLED and parent.filled == 4 and parent.working == 6
    parent.record_execution(child, 1.0, "e2", 6, 101.0, 0.0)
    assert child.state is S.FILLED and parent.filled == 10 and parent.working == 0
    assert parent.avg_price == pytest.approx(100.6)


def test_illegal_transitions_raise():
    _, child = _child()
    child.apply(T.REJECT)
    with pytest.raises(IllegalTransition):
        child.apply(T.ACCEPT)
    with pytest.raises(IllegalTransition):
        transition(S.FILLED, T.CANCELLED)
    with pytest.raises(IllegalTransition):
        transition(S.WORKING, T.CANCEL_REJECT)


def test_duplicate_execution_counts_once():
    parent, child = _child(10)
    assert parent.record_execution(child, 1.0, "e1", 5, 100.0, 1.0)
    assert not parent.record_execution(child, 1.0, "e1", 5, 100.0, 1.0)
    assert parent.filled == 5 and parent.fees == 1.0 and len(parent.fills) == 1


def test_late_execution_after_cancel_counts_and_is_held_as_working_until_it_arrives():
    parent, child = _child(10)
    child.apply(T.ACCEPT)
    child.apply(T.CANCEL_REQUEST)
    # the broker says 3 filled before the cancel, but the execution has not arrived yet
    child.report_terminal(T.CANCELLED, 3)
    assert child.state is S.CANCELLED
    assert parent.working == 3 and parent.remaining == 7  # never re-send what is about to fill
    parent.record_execution(child, 5.0, "late", 3, 100.0, 0.0)
    assert child.state is S.CANCELLED and parent.filled == 3 and parent.working == 0


def test_refused_cancel_resumes_a_part_filled_order():
    parent, child = _child(10)
    parent.record_execution(child, 1.0, "e1", 4, 100.0, 0.0)
    child.apply(T.CANCEL_REQUEST)
    child.apply(T.CANCEL_REJECT)
    assert child.state is S.PARTIALLY_FILLED


def test_fill_before_ack_is_legal():
    parent, child = _child(-5)
    parent.record_execution(child, 1.0, "e1", -5, 100.0, 0.0)
    assert child.state is S.FILLED
    child.apply(T.ACCEPT)  # a late acknowledgement changes nothing
    assert child.state is S.FILLED


@given(st.lists(st.sampled_from(list(Trigger)), max_size=12))
def test_table_is_the_only_way_and_terminal_states_are_absorbing(triggers):
    state = S.PENDING_SUBMIT
    for trig in triggers:
        if (state, trig) in TRANSITIONS:
            nxt = transition(state, trig)
            if state.terminal:
                assert nxt is state
            state = nxt
        else:
            with pytest.raises(IllegalTransition):
                transition(state, trig)
