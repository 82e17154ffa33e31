"""The real Pi agent (npm) loads the generated models.json and uses every route.

Pi runs with PI_OFFLINE=1 (no update check, no telemetry) and, where the machine
allows it (root, util-linux), inside a network namespace of its own, so it cannot
reach anything but what runs in that namespace. It lists the generated models,
rejects the files `aperture-proxy validate` rejects, and answers a prompt through
the simulated gateway in each API the file gives it.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aperture_proxy.dedicated.validate import validate_file
from aperture_proxy.sim import SimulatedGateway
from tests.dedicated.agents import offline_prefix, roundtrip
from tests.dedicated.conftest import NPM_CACHE, Home
from tests.helpers.npm import npm_bin

pytestmark = pytest.mark.npm

PI_PACKAGE = "@mariozechner/pi-coding-agent"
PI_VERSION = "0.73.1"
LOAD_WARNING = "Warning: errors loading models.json"
BEDROCK_SONNET = "anthropic.claude-sonnet-4-5-20250929-v1:0"
REPLY = "Hello from the simulated Aperture gateway.\n"


@pytest.fixture(scope="module")
def pi() -> Iterator[Path]:
    yield npm_bin(PI_PACKAGE, PI_VERSION, "pi", cache_root=NPM_CACHE)


def list_models(
    pi: Path, agent_dir: Path, home: Path
) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "PI_CODING_AGENT_DIR": str(agent_dir),
        "PI_OFFLINE": "1",
        "NO_COLOR": "1",
    }
    return subprocess.run(
        [*offline_prefix(), str(pi), "--list-models", "aperture"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def rows(output: str) -> list[list[str]]:
    return [line.split() for line in output.splitlines() if line.strip()]


def test_pi_lists_every_generated_model(
    pi: Path, gw: SimulatedGateway, home: Home, run: Any
) -> None:
    assert run("generate", "pi", "--gateway", gw.url).code == 0

    listed = list_models(pi, home.pi.parent, home.root)

    assert listed.returncode == 0, listed.stderr
    assert LOAD_WARNING not in listed.stderr
    # Pi keeps stdout for answers and prints the listing on stderr.
    assert rows(listed.stderr) == [
        ["provider", "model", "context", "max-out", "thinking", "images"],
        ["aperture", BEDROCK_SONNET, "200K", "64K", "yes", "yes"],
        ["aperture", "claude-haiku-4-5", "200K", "64K", "yes", "yes"],
        ["aperture", "claude-opus-4-1", "200K", "32K", "yes", "yes"],
        ["aperture", "claude-sonnet-4-5", "200K", "64K", "yes", "yes"],
        ["aperture", "gemini-2.5-flash", "1.0M", "65.5K", "yes", "yes"],
        ["aperture", "gemini-2.5-pro", "1.0M", "65.5K", "yes", "yes"],
        ["aperture", "glm-4.6", "204.8K", "131.1K", "yes", "no"],
        ["aperture", "gpt-4.1-mini", "1.0M", "32.8K", "no", "yes"],
        ["aperture", "gpt-5.1", "400K", "128K", "yes", "yes"],
        ["aperture", "gpt-5.1-codex", "400K", "128K", "yes", "yes"],
        ["aperture-openai-codex", "gpt-5.1-codex", "400K", "128K", "yes", "yes"],
    ]  # fmt: skip


BROKEN = {
    "a model without maxTokens > 0": {"maxTokens": 0},
    "a cost missing a field": {"cost": {"input": 1, "output": 2, "cacheRead": 0}},
    "a model id that is empty": {"id": ""},
    "an input kind Pi lacks": {"input": ["text", "audio"]},
}


@pytest.mark.parametrize("change", list(BROKEN.values()), ids=list(BROKEN))
def test_pi_and_validate_reject_the_same_files(
    change: dict[str, Any], pi: Path, gw: SimulatedGateway, home: Home, run: Any
) -> None:
    assert run("generate", "pi", "--gateway", gw.url).code == 0
    doc = json.loads(home.pi.read_text(encoding="utf-8"))
    doc["providers"]["aperture"]["models"][0].update(change)
    home.pi.write_text(json.dumps(doc), encoding="utf-8")

    listed = list_models(pi, home.pi.parent, home.root)

    assert LOAD_WARNING in listed.stderr
    assert validate_file(home.pi) != []


def test_pi_rejects_a_provider_without_base_url_as_validate_does(
    pi: Path, home: Home
) -> None:
    home.pi.parent.mkdir(parents=True)
    home.pi.write_text(
        json.dumps(
            {
                "providers": {
                    "aperture": {
                        "apiKey": "-",
                        "api": "openai-completions",
                        "models": [{"id": "m"}],
                    }
                }
            }
        ),
        encoding="utf-8",
    )
    listed = list_models(pi, home.pi.parent, home.root)
    assert '"baseUrl" is required when defining custom models' in listed.stderr
    assert "providers.aperture.baseUrl: required when the provider defines models" in (
        validate_file(home.pi)
    )


def test_pi_talks_to_the_gateway_in_every_api_it_was_given(
    pi: Path, tmp_path: Path
) -> None:
    answers = roundtrip("pi", pi, tmp_path / "roundtrip")
    assert [(a["model"], a["status"], a["answer"], a["paths"]) for a in answers] == [
        ("aperture/claude-sonnet-4-5", 0, REPLY, ["/v1/messages"]),
        ("aperture/gpt-5.1", 0, REPLY, ["/v1/chat/completions"]),
        ("aperture-openai-codex/gpt-5.1-codex", 0, REPLY, ["/v1/responses"]),
        (
            "aperture/gemini-2.5-flash",
            0,
            REPLY,
            ["/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"],
        ),
        (
            f"aperture/{BEDROCK_SONNET}",
            0,
            REPLY,
            [f"/bedrock/model/{BEDROCK_SONNET.replace(':', '%3A')}/converse-stream"],
        ),
    ]
