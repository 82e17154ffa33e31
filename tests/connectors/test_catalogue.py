"""The connector catalogue: reading `/api/connectors` and grouping tools."""

from __future__ import annotations

import re

import pytest

from aperture_proxy.catalogue_cache import DiscoveryError
from aperture_proxy.connectors.catalogue import (
    ConnectorCatalogue,
    ConnectorInfo,
    parse_connectors,
)

_GITHUB = {
    "id": "github",
    "description": "GitHub",
    "protocol": "mcp",
    "provider": "GitHub",
    "category": "developer",
    "status": "Ready",
    "auth_type": "oauth",
}


def test_connectors_are_read_with_every_field() -> None:
    connectors, warnings = parse_connectors({"connectors": [_GITHUB]})

    assert connectors == [
        ConnectorInfo(
            id="github",
            description="GitHub",
            protocol="mcp",
            provider="GitHub",
            category="developer",
            status="Ready",
            auth_type="oauth",
        )
    ]
    assert warnings == []


def test_a_bare_list_and_a_map_by_id_are_accepted() -> None:
    listed, _ = parse_connectors([{"id": "a"}])
    mapped, _ = parse_connectors({"connectors": {"a": {"status": "Ready"}}})

    assert listed == [ConnectorInfo(id="a")]
    assert mapped == [ConnectorInfo(id="a", status="Ready")]


def test_bad_entries_are_dropped_with_a_warning_each() -> None:
    connectors, warnings = parse_connectors(
        {"connectors": [{"id": 7}, "github", {"id": "ok", "status": 3}, {"id": "ok"}]}
    )

    assert connectors == [ConnectorInfo(id="ok")]
    assert warnings == [
        'connector entry 0 dropped: expected an object with a string id, got {"id": 7}',
        'connector entry 1 dropped: expected an object with a string id, got "github"',
        'connector entry 3 dropped: id "ok" is empty or listed twice',
    ]


@pytest.mark.parametrize("raw", [None, "text", 3])
def test_another_shape_is_a_discovery_error(raw: object) -> None:
    with pytest.raises(
        DiscoveryError, match=re.escape('expected {"connectors": [...]}')
    ):
        parse_connectors(raw)


def _catalogue() -> ConnectorCatalogue:
    return ConnectorCatalogue.build(
        [ConnectorInfo(id="git"), ConnectorInfo(id="github"), ConnectorInfo("idle")],
        [
            ("github_list_repos", "", {}),
            ("weather_forecast", "", {}),
            ("GIT_log", "", {}),
            ("github", "", {}),
        ],
    )


def test_a_tool_goes_under_the_longest_connector_id_it_starts_with() -> None:
    catalogue = _catalogue()

    assert [(t.name, t.connector) for t in catalogue.tools] == [
        ("github_list_repos", "github"),
        ("weather_forecast", "other"),
        ("GIT_log", "git"),
        ("github", "other"),
    ]


def test_groups_list_every_connector_then_other() -> None:
    groups = _catalogue().groups()

    assert {k: [t.name for t in v] for k, v in groups.items()} == {
        "git": ["GIT_log"],
        "github": ["github_list_repos"],
        "idle": [],
        "other": ["weather_forecast", "github"],
    }


def test_tool_finds_only_the_exact_name() -> None:
    catalogue = _catalogue()

    assert catalogue.tool("github_list_repos") is catalogue.tools[0]
    assert catalogue.tool("GitHub_List_Repos") is None
