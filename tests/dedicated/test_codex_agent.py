"""The real Codex (npm) uses the generated provider table to reach the gateway.

Codex runs `exec` with `-c model_provider=aperture -m MODEL`, as the output of
`generate codex` tells a user to, against the simulated gateway; where the
machine allows it, everything runs in a network namespace of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.dedicated.agents import roundtrip
from tests.dedicated.conftest import NPM_CACHE
from tests.helpers.npm import npm_bin

pytestmark = pytest.mark.npm

CODEX_PACKAGE = "@openai/codex"
CODEX_VERSION = "0.171.0"
REPLY = "Hello from the simulated Aperture gateway.\n"


@pytest.fixture(scope="module")
def codex() -> Iterator[Path]:
    yield npm_bin(CODEX_PACKAGE, CODEX_VERSION, "codex", cache_root=NPM_CACHE)


def test_codex_answers_through_the_responses_api(codex: Path, tmp_path: Path) -> None:
    answers = roundtrip("codex", codex, tmp_path / "roundtrip")
    assert [
        (a["model"], a["status"], a["answer"], a["paths"], a["asked"]) for a in answers
    ] == [
        ("aperture/gpt-5.1", 0, REPLY, ["/v1/responses"], ["gpt-5.1"]),
        ("aperture/gpt-5.1-codex", 0, REPLY, ["/v1/responses"], ["gpt-5.1-codex"]),
    ]
