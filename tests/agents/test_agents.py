"""The coding agents people run, installed from the npm registry, through the proxy.

Each agent runs non-interactively with only the environment ``aperture-proxy env``
prints, a temporary home, its own switches and a placeholder key, and must print
the simulated gateway's answer. The gateway must have received the agent's real
request, rewritten onto its own paths, with no credential. Side calls the agents
make besides the model API (telemetry, update checks, feature flags) are switched
off with each agent's own settings; those that cannot be are listed below per
agent, and any other connection the proxy opened for an agent fails the test.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pytest
from mitmproxy import http

from aperture_proxy.sim import SimulatedGateway
from tests.e2e.conftest import start_proxy
from tests.helpers.npm import npm_bin

from .conftest import REPORTS, AgentReport
from .harness import (
    PROXY_DEBUG,
    REGISTRY_NODE,
    AgentRun,
    SideCalls,
    agent_env,
    describe_env,
    leaked_credentials,
    llm_requests,
    node_bin_dir,
    node_version,
    read_flows,
    run_agent,
    side_calls,
    workspace,
)

pytestmark = [pytest.mark.agents, pytest.mark.timeout(900)]

PROMPT = "Say hello."
ANTHROPIC_KEY = "sk-ant-api03-FAKE-aperture-test-0001"
OPENAI_KEY = "sk-proj-FAKE-aperture-test-0002"
GOOGLE_KEY = "AIzaFAKE-aperture-test-0003"
RUN_TIMEOUT = 180.0

CLAUDE_CODE = ("@anthropic-ai/claude-code", "2.1.332")
CODEX = ("@openai/codex", "0.171.0")
GEMINI_CLI = ("@google/gemini-cli", "0.61.0")
PI = ("@mariozechner/pi-coding-agent", "0.73.1")
OPENCODE = ("opencode-ai", "1.18.33")

# Node-based agents run on the machine's Node and on a current one from the registry.
NODES = [
    pytest.param(None, id="machine-node"),
    pytest.param(REGISTRY_NODE[1], id=f"node-{REGISTRY_NODE[1]}"),
]


def check_side_calls(
    calls: SideCalls,
    hosts: frozenset[tuple[str, int]] = frozenset(),
    requests: frozenset[str] = frozenset(),
) -> None:
    """Only the side calls an agent is known to make that no switch turns off."""
    assert calls.hosts <= hosts, f"unexpected connections: {calls.describe()}"
    assert calls.requests <= requests, f"unexpected requests: {calls.describe()}"


def report(
    name: str, version: str, run: AgentRun, calls: SideCalls, notes: str = ""
) -> None:
    REPORTS.append(
        AgentReport(name, version, run.seconds, "passed", calls.describe(), notes)
    )


def run_through_proxy(
    gateway: SimulatedGateway,
    tmp_path: Path,
    argv: list[str],
    own_env: Mapping[str, str],
    *,
    node: str | None = None,
    files: Mapping[str, str] = {},
) -> tuple[AgentRun, SideCalls, list[http.HTTPFlow]]:
    """Start a proxy, run the agent through it, stop the proxy; return what
    happened: the run, the side calls and the saved flows."""
    home = tmp_path / "home"
    for relative, text in files.items():
        (home / relative).parent.mkdir(parents=True, exist_ok=True)
        (home / relative).write_text(text)
    node_dir = node_bin_dir(node)
    with start_proxy(gateway.url, tmp_path / "proxy", extra=PROXY_DEBUG) as proxy:
        env = agent_env(proxy.env, home, node_dir=node_dir, extra=own_env)
        run = run_agent(argv, env, workspace(tmp_path), RUN_TIMEOUT)
    flows = read_flows(proxy.flows)
    calls = side_calls(proxy.log_text(), flows)
    print(f"{argv[0]}: {describe_env(proxy.env, own_env)}")
    print(run.output())
    return run, calls, flows


def test_claude_code_print_mode(
    gateway: SimulatedGateway, reply: str, tmp_path: Path
) -> None:
    claude = npm_bin(*CLAUDE_CODE, "claude")
    own = {
        "ANTHROPIC_API_KEY": ANTHROPIC_KEY,
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_TELEMETRY": "1",
        "DISABLE_AUTOUPDATER": "1",
        "DISABLE_ERROR_REPORTING": "1",
    }
    argv = [str(claude), "-p", PROMPT, "--model", "claude-sonnet-4-5"]

    run, calls, _ = run_through_proxy(gateway, tmp_path, argv, own)

    assert run.returncode == 0, run.output()
    assert reply in run.stdout, run.output()
    records = gateway.requests()
    messages = llm_requests(records, "/v1/messages")
    assert [r.path for r in messages] == ["/v1/messages?beta=true"]
    body = messages[0].body_json()
    assert body["model"] == "claude-sonnet-4-5"
    assert body["stream"] is True
    assert {tool["name"] for tool in body["tools"]} >= {"Bash", "Read"}
    assert leaked_credentials(records, ANTHROPIC_KEY) == []
    session = json.loads(body["metadata"]["user_id"])["session_id"]
    assert messages[0].header("x-session-id") == session
    # Managed settings and policy limits are fetched from api.anthropic.com
    # whenever the base URL is Anthropic's own; no setting turns them off. The
    # proxy passes them through, so here they fail, and Claude Code retries them
    # for about 20 s before it sends the prompt.
    check_side_calls(
        calls,
        frozenset({("api.anthropic.com", 443)}),
        frozenset(
            {
                "GET https://api.anthropic.com/api/claude_code/settings",
                "GET https://api.anthropic.com/api/claude_code/policy_limits",
            }
        ),
    )
    report("Claude Code", CLAUDE_CODE[1], run, calls)


CODEX_CONFIG = """\
[analytics]
enabled = false

[features]
plugins = false
remote_plugin = false
apps = false
"""


def test_codex_exec_falls_back_from_websocket_at_once(
    gateway: SimulatedGateway, reply: str, tmp_path: Path
) -> None:
    codex = npm_bin(*CODEX, "codex")
    own = {"CODEX_API_KEY": OPENAI_KEY}
    argv = [
        str(codex), "exec", "--skip-git-repo-check", "-m", "gpt-5.1-codex", PROMPT,
    ]  # fmt: skip

    run, calls, flows = run_through_proxy(
        gateway, tmp_path, argv, own, files={".codex/config.toml": CODEX_CONFIG}
    )

    assert run.returncode == 0, run.output()
    assert reply in run.stdout, run.output()
    records = gateway.requests()
    responses = llm_requests(records, "/v1/responses")
    assert len(responses) == 1, [r.path for r in records]
    body = responses[0].body_json()
    assert body["model"] == "gpt-5.1-codex"
    assert body["stream"] is True
    assert body["tools"], "Codex sent no tools"
    assert responses[0].header("x-session-id")
    # The model list comes from the ChatGPT backend path, also rerouted.
    listings = [r.path for r in records if r.path.startswith("/codex/")]
    assert listings and all(p.startswith("/codex/models?") for p in listings)
    assert "Model metadata for" not in run.stderr
    assert leaked_credentials(records, OPENAI_KEY) == []

    refused = [f for f in flows if f.response and f.response.status_code == 426]
    posted = [f for f in flows if f.request.method == "POST" and f.marked]
    assert refused, "Codex made no WebSocket attempt"
    assert refused[0].request.pretty_url == "https://api.openai.com/v1/responses"
    assert refused[0].request.headers.get("upgrade", "").lower() == "websocket"
    assert "426" in refused[0].comment
    assert len(posted) == 1
    fallback = posted[0].request.timestamp_start - refused[0].response.timestamp_end
    assert 0 <= fallback < 2.0, f"Codex fell back to HTTP after {fallback:.2f} s"
    check_side_calls(calls)
    report(
        "Codex CLI",
        CODEX[1],
        run,
        calls,
        f"WebSocket 426 → HTTP/SSE POST after {fallback * 1000:.0f} ms "
        f"({len(refused)} WebSocket attempt(s))",
    )


GEMINI_SETTINGS = json.dumps(
    {
        "privacy": {"usageStatisticsEnabled": False},
        "general": {"enableAutoUpdate": False, "enableAutoUpdateNotification": False},
        "telemetry": {"enabled": False},
    }
)


@pytest.mark.parametrize("node", NODES)
def test_gemini_cli_api_key_mode(
    gateway: SimulatedGateway, reply: str, tmp_path: Path, node: str | None
) -> None:
    gemini = npm_bin(*GEMINI_CLI, "gemini")
    own = {"GEMINI_API_KEY": GOOGLE_KEY}
    argv = [str(gemini), "--skip-trust", "-m", "gemini-2.5-flash", "-p", PROMPT]

    run, calls, _ = run_through_proxy(
        gateway,
        tmp_path,
        argv,
        own,
        node=node,
        files={".gemini/settings.json": GEMINI_SETTINGS},
    )

    assert run.returncode == 0, run.output()
    assert reply in run.stdout, run.output()
    records = gateway.requests()
    calls_made = llm_requests(records, "/v1beta/models/")
    assert [r.path for r in calls_made] == [
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    ]
    body = calls_made[0].body_json()
    assert body["tools"][0]["functionDeclarations"], "Gemini CLI sent no tools"
    assert calls_made[0].header("x-session-id")
    assert leaked_credentials(records, GOOGLE_KEY) == []
    check_side_calls(calls)
    version = node_version(node_bin_dir(node))
    report(f"Gemini CLI (Node {version})", GEMINI_CLI[1], run, calls)


@pytest.mark.parametrize("node", NODES)
def test_pi_print_mode(
    gateway: SimulatedGateway, reply: str, tmp_path: Path, node: str | None
) -> None:
    pi = npm_bin(*PI, "pi")
    own = {"OPENAI_API_KEY": OPENAI_KEY, "PI_OFFLINE": "1", "PI_TELEMETRY": "0"}
    argv = [
        str(pi), "--provider", "openai", "--model", "gpt-5.1", "--no-session",
        "-p", PROMPT,
    ]  # fmt: skip

    run, calls, _ = run_through_proxy(gateway, tmp_path, argv, own, node=node)

    assert run.returncode == 0, run.output()
    assert reply in run.stdout, run.output()
    records = gateway.requests()
    responses = llm_requests(records, "/v1/responses")
    assert [r.path for r in responses] == ["/v1/responses"]
    body = responses[0].body_json()
    assert body["model"] == "gpt-5.1"
    assert {tool["name"] for tool in body["tools"]} >= {"bash", "read"}
    # Pi names its session; the proxy keeps that id.
    assert responses[0].header("x-session-id") == responses[0].header("session_id")
    assert leaked_credentials(records, OPENAI_KEY) == []
    check_side_calls(calls)
    version = node_version(node_bin_dir(node))
    report(f"Pi (Node {version})", PI[1], run, calls)


def test_opencode_run_mode(
    gateway: SimulatedGateway, reply: str, tmp_path: Path
) -> None:
    opencode = npm_bin(*OPENCODE, "opencode")
    own = {
        "ANTHROPIC_API_KEY": ANTHROPIC_KEY,
        "OPENCODE_DISABLE_AUTOUPDATE": "1",
        "OPENCODE_DISABLE_MODELS_FETCH": "1",
        "OPENCODE_DISABLE_SHARE": "1",
        "OPENCODE_DISABLE_DEFAULT_PLUGINS": "1",
        "OPENCODE_DISABLE_LSP_DOWNLOAD": "1",
        # opencode installs @opencode-ai/plugin into its config folder with npm
        # on every start; offline, that install fails quietly instead.
        "npm_config_offline": "true",
    }
    argv = [str(opencode), "run", "-m", "anthropic/claude-sonnet-4-5", PROMPT]

    run, calls, _ = run_through_proxy(gateway, tmp_path, argv, own)

    assert run.returncode == 0, run.output()
    assert reply in run.stdout, run.output()
    records = gateway.requests()
    messages = llm_requests(records, "/v1/messages")
    models = [r.body_json()["model"] for r in messages]
    # A small model titles the session; the prompt goes to the chosen one.
    assert "claude-sonnet-4-5" in models, models
    main = messages[models.index("claude-sonnet-4-5")]
    assert main.body_json()["tools"], "opencode sent no tools"
    # opencode names its session itself; the proxy keeps that id.
    assert main.header("x-session-id") == main.header("x-session-affinity")
    assert (main.header("x-session-id") or "").startswith("ses_")
    assert leaked_credentials(records, ANTHROPIC_KEY) == []
    check_side_calls(calls)
    report("opencode", OPENCODE[1], run, calls, f"models asked: {', '.join(models)}")
