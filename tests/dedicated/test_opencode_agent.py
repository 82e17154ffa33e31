"""The real opencode (npm) loads the generated opencode.json and uses every route.

opencode validates its config strictly (unknown keys are errors), lists the
aperture providers' models, and answers a prompt through the simulated gateway
with each AI SDK package the file names. It runs with the models.dev fetch and
auto-update off and, where the machine allows it, in a network namespace of its
own.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aperture_proxy.sim import SimulatedGateway
from tests.dedicated.agents import offline_prefix, roundtrip
from tests.dedicated.conftest import NPM_CACHE, Home
from tests.helpers.npm import npm_bin

pytestmark = pytest.mark.npm

OPENCODE_PACKAGE = "opencode-ai"
OPENCODE_VERSION = "1.18.33"
REPLY = "Hello from the simulated Aperture gateway.\n"
GEMINI_PATH = "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"


@pytest.fixture(scope="module")
def opencode() -> Iterator[Path]:
    yield npm_bin(OPENCODE_PACKAGE, OPENCODE_VERSION, "opencode", cache_root=NPM_CACHE)


def test_opencode_lists_the_generated_models(
    opencode: Path, gw: SimulatedGateway, home: Home, run: Any
) -> None:
    assert run("generate", "opencode", "--gateway", gw.url).code == 0
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home.root),
        "XDG_CONFIG_HOME": str(home.root / "config"),
        "XDG_DATA_HOME": str(home.root / "data"),
        "XDG_CACHE_HOME": str(home.root / "cache"),
        "XDG_STATE_HOME": str(home.root / "state"),
        "OPENCODE_DISABLE_MODELS_FETCH": "1",
        "OPENCODE_DISABLE_AUTOUPDATE": "1",
    }
    listed = subprocess.run(
        [*offline_prefix(), str(opencode), "models"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
        stdin=subprocess.DEVNULL,
        cwd=home.root,
    )
    assert listed.returncode == 0, listed.stderr
    ours = [line for line in listed.stdout.splitlines() if line.startswith("aperture")]
    assert ours == [
        "aperture/claude-haiku-4-5",
        "aperture/claude-opus-4-1",
        "aperture/claude-sonnet-4-5",
        "aperture/glm-4.6",
        "aperture/gpt-4.1-mini",
        "aperture/gpt-5.1",
        "aperture/gpt-5.1-codex",
        "aperture-gemini/gemini-2.5-flash",
        "aperture-gemini/gemini-2.5-pro",
        "aperture-openai-codex/gpt-5.1-codex",
    ]


def test_opencode_talks_to_the_gateway_through_each_sdk_package(
    opencode: Path, tmp_path: Path
) -> None:
    answers = roundtrip("opencode", opencode, tmp_path / "roundtrip")
    # opencode asks once for the answer and once for a session title.
    assert [(a["model"], a["status"], a["answer"], a["paths"]) for a in answers] == [
        ("aperture/claude-sonnet-4-5", 0, REPLY, ["/v1/messages"] * 2),
        ("aperture/gpt-5.1", 0, REPLY, ["/v1/chat/completions"] * 2),
        ("aperture-openai-codex/gpt-5.1-codex", 0, REPLY, ["/v1/responses"] * 2),
        ("aperture-gemini/gemini-2.5-flash", 0, REPLY, [GEMINI_PATH] * 2),
    ]
