"""The examples in the simulated gateway's docstrings run and hold."""

import doctest
import importlib

import pytest


@pytest.mark.parametrize(
    "module", ["settings", "recording", "streaming", "eventstream", "server"]
)
def test_docstring_examples_hold(module: str) -> None:
    imported = importlib.import_module(f"aperture_proxy.sim.{module}")

    result = doctest.testmod(imported)

    assert result.failed == 0
