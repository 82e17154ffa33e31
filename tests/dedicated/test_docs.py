"""The README's dedicated-mode excerpts are what the writers really generate."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from aperture_proxy.sim import SimulatedGateway
from tests.dedicated.conftest import Home

DOC = Path(__file__).parents[2] / "README.md"
DOC_GATEWAY = "http://ai.example-tailnet.ts.net"
EXCERPT = re.compile(
    r"<!-- excerpt: (?P<fmt>[\w-]+) -->\n```\w*\n(?P<body>.*?)```", re.S
)


def excerpts() -> list[tuple[str, str]]:
    return [(m["fmt"], m["body"]) for m in EXCERPT.finditer(DOC.read_text("utf-8"))]


def test_every_format_has_an_excerpt() -> None:
    assert {fmt for fmt, _ in excerpts()} == {
        "pi",
        "opencode",
        "codex",
        "claude-code",
        "litellm",
    }


@pytest.mark.parametrize(("fmt", "body"), excerpts())
def test_the_excerpt_is_generated_output(
    fmt: str, body: str, gw: SimulatedGateway, home: Home, run: Any, tmp_path: Path
) -> None:
    assert run("generate", fmt, "--gateway", gw.url).code == 0
    written = {
        "pi": home.pi,
        "opencode": home.opencode,
        "codex": home.codex,
        "claude-code": home.claude,
        "litellm": tmp_path / "config.yaml",
    }[fmt]
    text = written.read_text(encoding="utf-8").replace(gw.url, DOC_GATEWAY)
    assert body in text
