"""The `connectors` list, search, describe and call commands, end to end."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from aperture_proxy.cli import main
from aperture_proxy.sim import SimulatedGateway
from aperture_proxy.sim.mcp import HOSTILE_NAME, TOOLS


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_groups_tools_under_their_connectors(
    gw: SimulatedGateway, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(capsys, "connectors", "list", "--gateway", gw.url)

    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[:4] == [
        "github (GitHub) — Ready — 3 tools — Repositories, issues and pull "
        "requests on GitHub",
        "  github_list_repos  List the repositories of a GitHub user or organisation",
        "  github_get_issue  Get one issue of a repository",
        "  github_search_code  Search code across repositories",
    ]
    assert lines[-4:-1] == [
        "other — 3 tools with no known connector",
        "  github.list-repos  A second spelling that reduces to the same name as "
        "github_list_repos",
        "  weather_forecast  Tomorrow's weather for a city; served by no listed "
        "connector",
    ]
    assert lines[-1].startswith(f"  {HOSTILE_NAME}  Reads a file. */ </script>")


def test_search_ranks_and_limits(
    gw: SimulatedGateway, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(
        capsys, "connectors", "search", "issue", "--limit", "2", "--gateway", gw.url
    )

    assert code == 0
    assert out.splitlines() == [
        "github_get_issue  [github]  Get one issue of a repository",
        "linear_search_issues  [linear]  Search Linear issues by text",
    ]


def test_search_filters_by_connector(
    gw: SimulatedGateway, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(
        capsys, "connectors", "search", "--connector", "jira", "--gateway", gw.url
    )

    assert code == 0
    assert out.splitlines() == [
        "jira_create_issue  [jira]  Create a Jira issue (its connector is "
        "misconfigured, so it fails)"
    ]


def test_describe_prints_the_full_input_schema(
    gw: SimulatedGateway, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(
        capsys, "connectors", "describe", "github_get_issue", "--gateway", gw.url
    )

    assert code == 0
    head, _, schema = out.partition("\n\nInput schema:\n")
    assert head == "github_get_issue  [github]\n\nGet one issue of a repository"
    assert json.loads(schema) == next(
        t.input_schema for t in TOOLS if t.name == "github_get_issue"
    )


def test_describe_shows_control_characters_as_escapes(
    gw: SimulatedGateway, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(
        capsys, "connectors", "describe", HOSTILE_NAME, "--gateway", gw.url
    )

    assert code == 0
    assert "\x00" not in out and "\u2028" not in out and "\u2029" not in out
    assert "\\x00" in out and "\\u2028\\u2029" in out


def test_describe_an_unknown_tool_is_a_usage_error(
    gw: SimulatedGateway, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(capsys, "connectors", "describe", "nope", "--gateway", gw.url)

    assert (code, out) == (2, "")
    assert err == (
        "error: the gateway serves no tool named 'nope'; "
        "`aperture-proxy connectors search` finds tools\n"
    )


def test_call_prints_the_result(
    gw: SimulatedGateway, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(
        capsys,
        "connectors",
        "call",
        "github_list_repos",
        "--args",
        '{"owner": "octo"}',
        "--gateway",
        gw.url,
    )

    assert (code, out, err) == (0, "octo/hello-world\nocto/spoon-knife\n", "")


def test_call_reads_arguments_from_a_file(
    gw: SimulatedGateway, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    args = tmp_path / "args.json"
    args.write_text('{"city": "Tromsø"}', encoding="utf-8")

    code, out, _ = _run(
        capsys,
        "connectors",
        "call",
        "weather_forecast",
        "--args",
        f"@{args}",
        "--gateway",
        gw.url,
    )

    assert (code, out) == (0, 'weather_forecast called with {"city": "Tromsø"}\n')


def test_call_reads_arguments_from_standard_input(
    gw: SimulatedGateway,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO('{"city": "Oslo"}'))

    code, out, _ = _run(
        capsys,
        "connectors",
        "call",
        "weather_forecast",
        "--args",
        "@-",
        "--gateway",
        gw.url,
    )

    assert (code, out) == (0, 'weather_forecast called with {"city": "Oslo"}\n')


def test_a_tool_error_prints_its_content_and_exits_1(
    gw: SimulatedGateway, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(
        capsys, "connectors", "call", "jira_create_issue", "--gateway", gw.url
    )

    assert code == 1
    assert out.startswith("jira: the connector is misconfigured")
    assert err == "error: the tool 'jira_create_issue' reported an error\n"


def test_an_mcp_error_exits_3_with_the_gateway_message(
    gw: SimulatedGateway, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(
        capsys, "connectors", "call", "notion_search", "--gateway", gw.url
    )

    assert (code, out) == (3, "")
    assert err == (
        f"error: {gw.url}/v1/mcp: the gateway answered tools/call 'notion_search' "
        "with MCP error -32600: notion: this caller has no access to the connector "
        "(simulated gateway)\n"
    )


def test_an_unreachable_gateway_exits_3_naming_it(
    own_gw: SimulatedGateway, capsys: pytest.CaptureFixture[str]
) -> None:
    url = own_gw.url
    own_gw.stop()

    code, _, err = _run(capsys, "connectors", "list", "--gateway", url)

    assert code == 3
    assert err == (
        f"error: {url}/v1/mcp: connection refused. Check the gateway URL and that "
        "this machine is connected to the tailnet (`tailscale status`).\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            "{oops",
            "error: --args: line 1, column 2: Expecting property name enclosed in "
            'double quotes; expected a JSON object such as \'{"owner": "octo"}\'\n',
        ),
        (
            "[1, 2]",
            "error: --args: is a JSON list; expected an object such as "
            '\'{"owner": "octo"}\'\n',
        ),
        ("@/nonexistent/args.json", "error: --args @/nonexistent/args.json: cannot"),
    ],
)
def test_bad_arguments_are_a_usage_error_before_any_request(
    gw: SimulatedGateway, capsys: pytest.CaptureFixture[str], args: str, message: str
) -> None:
    code, _, err = _run(
        capsys,
        "connectors",
        "call",
        "weather_forecast",
        "--args",
        args,
        "--gateway",
        gw.url,
    )

    assert code == 2
    assert err.startswith(message)
    assert gw.requests() == []


def test_no_gateway_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "connectors", "list")

    assert code == 2
    assert err.startswith("error: no Aperture gateway configured: pass --gateway URL")
