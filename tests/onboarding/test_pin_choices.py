"""The pin checklist shows names and descriptions from the gateway harmlessly."""

from __future__ import annotations

from aperture_proxy.config import PinnedTool
from aperture_proxy.connectors.catalogue import ConnectorCatalogue, ConnectorInfo
from aperture_proxy.setup_connectors import _pin_options
from aperture_proxy.sim.mcp import HOSTILE_DESCRIPTION, HOSTILE_NAME


def catalogue() -> ConnectorCatalogue:
    return ConnectorCatalogue.build(
        [ConnectorInfo("github")],
        [
            ("github_list_repos", "List repositories", {}),
            (HOSTILE_NAME, HOSTILE_DESCRIPTION + "\x1b]0;pwned\x07", {}),
        ],
    )


def test_titles_carry_no_control_characters() -> None:
    options = _pin_options(catalogue(), [])

    titles = [o.title for o in options]
    assert all(title.isprintable() for title in titles), titles
    hostile = next(o for o in options if o.value and o.value.tool_name == HOSTILE_NAME)
    assert hostile.title.startswith("../../.ssh/evil\"tool'$(id)  Reads a file.")
    assert hostile.value == PinnedTool(connector_id="other", tool_name=HOSTILE_NAME)


def test_groups_come_as_headings_and_current_pins_come_ticked() -> None:
    current = [
        PinnedTool(connector_id="github", tool_name="github_list_repos"),
        PinnedTool(connector_id="gone", tool_name="retired_tool"),
    ]

    options = _pin_options(catalogue(), current)

    assert [(o.title[:40], o.heading, o.checked) for o in options] == [
        ("— github —", True, False),
        ("github_list_repos  List repositories", False, True),
        ("— other —", True, False),
        (options[3].title[:40], False, False),
        ("— pinned, but not served by the gateway ", True, False),
        ("gone/retired_tool", False, True),
    ]
