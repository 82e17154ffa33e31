"""Safe tool names: `[A-Za-z0-9_]`, at most 64 characters, a map back."""

from __future__ import annotations

import doctest
import hashlib
import importlib
import re
from types import ModuleType

import pytest

from aperture_proxy.connectors.names import NameMap, sanitise
from aperture_proxy.sim.mcp import HOSTILE_NAME

_SAFE = re.compile(r"[A-Za-z0-9_]{1,64}")


def _tag(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()[:8]


def test_a_clean_name_is_kept() -> None:
    assert sanitise("github_list_repos") == "github_list_repos"


@pytest.mark.parametrize(
    ("name", "base"),
    [
        ("github.list-repos", "github_list_repos"),
        (HOSTILE_NAME, "ssh_evil_tool_id"),
        ("a b\nc", "a_b_c"),
        ("名前", "tool"),
        ("", "tool"),
        ("-leading-and-trailing-", "leading_and_trailing"),
    ],
)
def test_other_names_are_reduced_and_tagged_with_a_hash(name: str, base: str) -> None:
    assert sanitise(name) == f"{base}_{_tag(name)}"


def test_underscores_alone_are_a_clean_name() -> None:
    assert sanitise("___") == "___"


def test_a_long_name_is_cut_to_64_characters() -> None:
    name = "x" * 100 + "."

    assert sanitise(name) == "x" * 55 + "_" + _tag(name)


def test_65_clean_characters_are_not_clean() -> None:
    name = "a" * 65

    assert sanitise(name) == "a" * 55 + "_" + _tag(name)


def test_hostile_names_give_safe_names_only() -> None:
    hostile = [HOSTILE_NAME, "../x", "x/../../y", "$(rm -rf ~)", "`id`", "a\0b"]

    mapping = NameMap(hostile)

    assert all(_SAFE.fullmatch(mapping.safe(name)) for name in hostile)


def test_names_that_reduce_alike_stay_apart_and_map_back() -> None:
    mapping = NameMap(["github_list_repos", "github.list-repos", "github list repos"])

    assert mapping.safe("github_list_repos") == "github_list_repos"
    assert len({mapping.safe(n) for n in mapping._safe}) == 3
    for safe, original in mapping.items():
        assert mapping.original(safe) == original


def test_the_mapping_does_not_depend_on_the_gateway_order() -> None:
    names = ["b.c", "a_b", "a-b", "z", "b_c", HOSTILE_NAME]

    forward = NameMap(names)
    backward = NameMap(reversed(names))

    assert forward.items() == backward.items()


def test_a_clean_name_never_loses_to_a_reduced_one() -> None:
    # "a.b" reduces to "a_b_<tag>"; a gateway tool really called that keeps it.
    taken = sanitise("a.b")

    mapping = NameMap(["a.b", taken])

    assert mapping.safe(taken) == taken
    assert mapping.safe("a.b") == f"a_b_{hashlib.sha256(b'a.b').hexdigest()[:16]}"


def test_reserved_names_are_avoided() -> None:
    mapping = NameMap(["bash", "read_file"], reserved=["bash"])

    assert mapping.safe("bash") == f"bash_{_tag('bash')}"
    assert mapping.safe("read_file") == "read_file"
    assert mapping.original("bash") is None


@pytest.mark.parametrize("name", ["names", "catalogue", "search", "views", "stubs.pi"])
def test_docstring_examples_hold(name: str) -> None:
    module: ModuleType = importlib.import_module(f"aperture_proxy.connectors.{name}")

    result = doctest.testmod(module)

    assert result.attempted > 0
    assert result.failed == 0
