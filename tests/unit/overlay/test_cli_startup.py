"""The ``overlay`` script's start: OpenBLAS starts no worker threads and pydantic
looks for no plugins unless the user chose otherwise; a command line that names its subcommand
builds that subcommand's parser alone."""

import sys

import pytest

from overlay import cli as command


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


@pytest.mark.parametrize(("before", "after"), [(None, "__all__"), ("", ""), ("logfire", "logfire")])
def test_the_script_turns_pydantic_plugins_off_unless_the_user_chose(monkeypatch, before, after):
    from overlay import cli

    monkeypatch.setenv("PYDANTIC_DISABLE_PLUGINS", "x")  # recorded: the teardown restores it
    if before is None:
        monkeypatch.delenv("PYDANTIC_DISABLE_PLUGINS")
    else:
        monkeypatch.setenv("PYDANTIC_DISABLE_PLUGINS", before)
    monkeypatch.setattr(cli, "main", lambda: 0)
    monkeypatch.setattr(cli.gc, "freeze", lambda: None)  # the script's heap freeze: not the test session's
    with pytest.raises(SystemExit) as exit_:
        cli.entry()
    assert exit_.value.code == 0
    assert cli.os.environ["PYDANTIC_DISABLE_PLUGINS"] == after


@pytest.mark.parametrize(("argv", "named"), [
    (["simulate", "x.toml"], "simulate"), (["-v", "plan", "x.toml"], "plan"), (["-vv", "--verbose", "cost"], "cost"),
    (["--help"], None), (["simulat", "x.toml"], None), (["--print-completion", "bash"], None), ([], None),
    (["x.toml", "simulate"], None),
])
def test_a_command_line_naming_its_subcommand_is_parsed_by_that_subcommand_alone(argv, named):
    from overlay import cli

    assert cli._named_command(argv) == named


def test_a_subcommand_alone_has_the_same_usage_and_help_as_in_the_whole_parser():
    from overlay import cli

    def subparser(parser, name):
        return parser._subparsers._group_actions[0].choices[name]

    whole = cli.build_parser()
    for name in cli.COMMANDS:
        alone = cli.build_parser(commands=(name,))
        assert subparser(alone, name).format_help() == subparser(whole, name).format_help()
        assert alone.format_usage() == whole.format_usage()
