"""The Claude Code writer: the `env` block of `~/.claude/settings.json`.

Claude Code speaks only the Anthropic Messages API, so only models whose gateway
provider speaks it count. `ANTHROPIC_BASE_URL` is the gateway root (Claude Code
appends `/v1/messages` itself), `ANTHROPIC_AUTH_TOKEN` a placeholder (the
gateway authenticates by tailnet identity, and a token keeps Claude Code from
asking for a login), and the model tier variables name the newest Opus, Sonnet
and Haiku the gateway serves. A model id several gateway providers serve is the
same string here: the gateway picks the provider for it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aperture_proxy.dedicated.catalogue import DedicatedModel, ModelCatalogue
from aperture_proxy.dedicated.files import (
    dump_json,
    environ_path,
    json_section,
)
from aperture_proxy.dedicated.merge import Replaceable
from aperture_proxy.dedicated.writer import Plan, left_out_note, merge_owned, place
from aperture_proxy.upstreams import Api

__all__ = ["TIERS", "ClaudeCodeWriter", "newest"]

CONFIG_DIR_ENV = "CLAUDE_CONFIG_DIR"
PLACEHOLDER_TOKEN = "aperture"
TIERS = {
    "opus": "ANTHROPIC_DEFAULT_OPUS_MODEL",
    "sonnet": "ANTHROPIC_DEFAULT_SONNET_MODEL",
    "haiku": "ANTHROPIC_DEFAULT_HAIKU_MODEL",
}
OWNED = frozenset({"ANTHROPIC_BASE_URL", "ANTHROPIC_AUTH_TOKEN", *TIERS.values()})
_NUMBER = re.compile(r"\d+")


def _version(model_id: str) -> tuple[tuple[int, ...], int, int]:
    """(version numbers, release date, -length) for ordering a family's models.

    `claude-opus-4-1` → ((4, 1), 0, …); an 8-digit group is a date. A shorter
    id (an alias that moves with new releases) wins a tie.
    """
    numbers = _NUMBER.findall(model_id)
    date = max((int(n) for n in numbers if len(n) == 8), default=0)
    version = tuple(int(n) for n in numbers if len(n) < 8)
    return version, date, -len(model_id)


def newest(models: list[DedicatedModel], tier: str) -> str | None:
    """The id of the newest model of a tier (`opus`, `sonnet`, `haiku`)."""
    family = [m.id for m in models if tier in m.id.lower()]
    return max(family, key=_version) if family else None


class ClaudeCodeWriter:
    """Claude Code's `env` settings for the gateway."""

    name: str = "claude-code"
    speaks: tuple[Api, ...] = (Api.ANTHROPIC_MESSAGES,)

    def default_path(self, env: Mapping[str, str]) -> Path:
        """`$CLAUDE_CONFIG_DIR/settings.json`, else `~/.claude/settings.json`."""
        home = environ_path(env, CONFIG_DIR_ENV) or Path.home() / ".claude"
        return home / "settings.json"

    def variables(self, catalogue: ModelCatalogue) -> tuple[dict[str, Any], list[str]]:
        """The generated `env` variables, and notes for people."""
        placed, left_out = place(catalogue, self.speaks)
        notes = left_out_note("claude-code", left_out)
        if not placed:
            notes.append(
                "claude-code: the gateway serves no Anthropic-format model, so "
                "nothing is configured"
            )
            return {}, notes
        shared = sorted({e.model.id for e in placed if not e.primary})
        notes += [
            f"claude-code: {mid} is served by several gateway providers; the "
            "gateway picks one for each request"
            for mid in shared
        ]
        models = [entry.model for entry in placed]
        env: dict[str, Any] = {
            "ANTHROPIC_BASE_URL": placed[0].model.base_url(Api.ANTHROPIC_MESSAGES),
            "ANTHROPIC_AUTH_TOKEN": PLACEHOLDER_TOKEN,
        }
        for tier, variable in TIERS.items():
            chosen = newest(models, tier)
            if chosen is not None:
                env[variable] = chosen
        return env, notes

    def render(
        self,
        catalogue: ModelCatalogue,
        old: str | None,
        path: Path,
        base: Any,
        replaceable: Replaceable | None = None,
    ) -> Plan:
        """Merge the generated variables into the settings' `env`."""
        doc, env, lossy = json_section(old, path, "env")
        generated, notes = self.variables(catalogue)
        merged = merge_owned(env, OWNED.__contains__, generated, base, replaceable)
        if merged or "env" in doc:
            doc["env"] = merged
        if lossy:
            notes.append(f"claude-code: the comments in {path} cannot be kept")
        return Plan(path, old, dump_json(doc), generated, notes, lossy)
