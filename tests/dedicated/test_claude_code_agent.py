"""The real Claude Code (npm) reaches the gateway through the generated settings.

`claude -p --model sonnet|haiku` resolves each tier through the env block
`generate claude-code` writes and asks the simulated gateway's Messages API;
where the machine allows it, everything runs in a network namespace of its own,
so Claude Code's own telemetry calls go nowhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.dedicated.agents import roundtrip
from tests.dedicated.conftest import NPM_CACHE
from tests.helpers.npm import npm_bin

pytestmark = pytest.mark.npm

CLAUDE_PACKAGE = "@anthropic-ai/claude-code"
CLAUDE_VERSION = "2.1.332"
REPLY = "Hello from the simulated Aperture gateway.\n"


@pytest.fixture(scope="module")
def claude() -> Iterator[Path]:
    yield npm_bin(CLAUDE_PACKAGE, CLAUDE_VERSION, "claude", cache_root=NPM_CACHE)


def test_each_tier_reaches_its_model_on_the_gateway(
    claude: Path, tmp_path: Path
) -> None:
    answers = roundtrip("claude-code", claude, tmp_path / "roundtrip")
    asked = [
        (a["model"], a["status"], a["answer"], [m for m in a["asked"] if m])
        for a in answers
    ]
    assert asked == [
        ("sonnet", 0, REPLY, ["claude-sonnet-4-5"]),
        ("haiku", 0, REPLY, ["claude-haiku-4-5"]),
    ]
    for answer in answers:
        assert "/v1/messages?beta=true" in answer["paths"]
