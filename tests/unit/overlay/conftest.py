"""Fixtures for the planner tests: write a config file."""

import pytest


@pytest.fixture
def write_config(tmp_path):
    """write_config(text) -> path of a config file holding ``text``."""

    def write(text: str, name: str = "portfolio.toml") -> str:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return str(path)

    return write
