"""The examples in the onboarding modules' docstrings run and hold."""

import doctest
import importlib

import pytest


@pytest.mark.parametrize(
    "module",
    ["prompts", "config_sources", "setup_connectors", "check", "gateway_report"],
)
def test_docstring_examples_hold(module: str) -> None:
    imported = importlib.import_module(f"aperture_proxy.{module}")

    result = doctest.testmod(imported)

    assert result.failed == 0
    assert result.attempted > 0 or module == "gateway_report"
