"""``overlay simulate``: OpenBLAS starts no worker threads unless the user chose a count."""

import sys

import pytest

from overlay.commands import simulate as command


def _unset(monkeypatch):
    for name in command.BLAS_THREAD_SETTINGS:
        monkeypatch.setenv(name, "")  # recorded, so that the teardown restores what the test sets
        monkeypatch.delenv(name)


@pytest.fixture
def numpy_not_loaded(monkeypatch):
    monkeypatch.delitem(sys.modules, "numpy", raising=False)
    _unset(monkeypatch)


def test_the_command_asks_openblas_for_one_thread_before_numpy_loads(numpy_not_loaded):
    command.single_threaded_blas()
    assert command.os.environ["OPENBLAS_NUM_THREADS"] == "1"


@pytest.mark.parametrize("name", ["OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"])
def test_a_thread_count_the_user_set_is_kept(numpy_not_loaded, monkeypatch, name):
    monkeypatch.setenv(name, "4")
    command.single_threaded_blas()
    assert command.os.environ[name] == "4"
    assert name == "OPENBLAS_NUM_THREADS" or "OPENBLAS_NUM_THREADS" not in command.os.environ


def test_nothing_is_set_once_numpy_is_loaded(monkeypatch):
    # a loaded OpenBLAS keeps its threads: setting the variable then would only mislead
    import numpy  # noqa: F401

    _unset(monkeypatch)
    command.single_threaded_blas()
    assert "OPENBLAS_NUM_THREADS" not in command.os.environ
