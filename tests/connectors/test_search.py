"""Search ranking over tool names and descriptions, table-driven from cases/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from aperture_proxy.connectors.catalogue import ConnectorTool
from aperture_proxy.connectors.search import DEFAULT_LIMIT, search

_CASES = yaml.safe_load(
    (Path(__file__).parent / "cases" / "search.yaml").read_text(encoding="utf-8")
)
_TOOLS = [
    ConnectorTool(t["name"], t["description"], {"type": "object"}, t["connector"])
    for t in _CASES["tools"]
]


@pytest.mark.parametrize(
    "case", _CASES["cases"], ids=[c["id"] for c in _CASES["cases"]]
)
def test_search_ranks(case: dict[str, Any]) -> None:
    found = search(
        _TOOLS,
        case["query"],
        limit=case.get("limit", DEFAULT_LIMIT),
        connector=case.get("connector"),
    )

    assert [t.name for t in found] == case["expected"]


def test_default_limit_is_15() -> None:
    tools = [ConnectorTool(f"tool_{i:02d}", "", {}) for i in range(40)]

    assert [t.name for t in search(tools, "tool")] == [
        f"tool_{i:02d}" for i in range(15)
    ]


@pytest.mark.parametrize("limit", [0, -3])
def test_a_limit_below_one_is_refused(limit: int) -> None:
    with pytest.raises(ValueError, match=f"at least 1, got {limit}"):
        search(_TOOLS, "repos", limit=limit)
