"""Registering `aperture-proxy mcp` with Claude Code, Codex, opencode and Gemini CLI.

Each writer merges one entry, named `aperture`, into the agent's existing
config file: other servers, other keys and the user's own keys inside the
entry (such as `env` or timeouts) are kept; `command` and `args` are ours.
The entry holds only the command line, never anything the gateway sent, and
is written by the format's own serializer (`json`, `tomlkit`), so a path with
quotes or newlines cannot break out of its string.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import tomlkit
import tomlkit.exceptions
from tomlkit.items import Table

from aperture_proxy.config import write_text_atomic

__all__ = ["REGISTRATIONS", "SERVER_NAME", "StubError", "default_path", "register"]

SERVER_NAME = "aperture"


class StubError(Exception):
    """A stub that cannot be written; the message names the file and what to do."""


def _codex_home() -> Path:
    return Path(os.environ.get("CODEX_HOME") or Path.home() / ".codex")


_DEFAULT_PATHS: dict[str, Callable[[], Path]] = {
    "claude-code": lambda: Path(".mcp.json"),
    "codex": lambda: _codex_home() / "config.toml",
    "opencode": lambda: Path("opencode.json"),
    "gemini": lambda: Path.home() / ".gemini" / "settings.json",
}


def default_path(fmt: str) -> Path:
    """Where `fmt`'s registration goes when no --output is given."""
    return _DEFAULT_PATHS[fmt]()


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise StubError(f"{path}: cannot be read ({exc})") from None


def _mode(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        return 0o644


def _write(path: Path, text: str) -> None:
    try:
        write_text_atomic(path, text, mode=_mode(path))
    except OSError as exc:
        raise StubError(f"{path}: cannot be written ({exc})") from None


def _json_document(path: Path) -> dict[str, Any]:
    text = _read(path)
    if text is None or not text.strip():
        return {}
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise StubError(
            f"{path}: not valid JSON ({exc}); fix the file or write elsewhere "
            "with --output"
        ) from None
    if not isinstance(data, dict):
        raise StubError(f"{path}: the top level is not a JSON object")
    return data


def _section(data: dict[str, Any], key: str, path: Path) -> dict[str, Any]:
    section = data.setdefault(key, {})
    if not isinstance(section, dict):
        raise StubError(f"{path}: {key!r} is not an object; fix it by hand first")
    entry = section.setdefault(SERVER_NAME, {})
    if not isinstance(entry, dict):
        raise StubError(
            f"{path}: {key}.{SERVER_NAME} is not an object; fix it by hand first"
        )
    return entry


def _merge_json(
    path: Path, key: str, fields: dict[str, Any], new: dict[str, Any] | None = None
) -> None:
    data = _json_document(path) or dict(new or {})
    _section(data, key, path).update(fields)
    _write(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def _claude_code(path: Path, command: Sequence[str]) -> None:
    fields = {"type": "stdio", "command": command[0], "args": list(command[1:])}
    _merge_json(path, "mcpServers", fields)


def _gemini(path: Path, command: Sequence[str]) -> None:
    _merge_json(path, "mcpServers", {"command": command[0], "args": list(command[1:])})


def _opencode(path: Path, command: Sequence[str]) -> None:
    fields = {"type": "local", "command": list(command), "enabled": True}
    # A new file starts with the schema line of opencode's own examples.
    _merge_json(path, "mcp", fields, {"$schema": "https://opencode.ai/config.json"})


def _codex(path: Path, command: Sequence[str]) -> None:
    text = _read(path) or ""
    try:
        document = tomlkit.parse(text)
    except tomlkit.exceptions.ParseError as exc:
        raise StubError(
            f"{path}: not valid TOML ({exc}); fix the file or write elsewhere "
            "with --output"
        ) from None
    servers = document.get("mcp_servers")
    if servers is None:
        servers = tomlkit.table(is_super_table=True)
        document["mcp_servers"] = servers
    if not isinstance(servers, Table):
        raise StubError(f"{path}: mcp_servers is not a table; fix it by hand first")
    entry = servers.get(SERVER_NAME)
    if entry is None:
        entry = tomlkit.table()
        servers[SERVER_NAME] = entry
    if not isinstance(entry, Table):
        raise StubError(
            f"{path}: mcp_servers.{SERVER_NAME} is not a table; fix it by hand first"
        )
    entry["command"] = command[0]
    entry["args"] = list(command[1:])
    _write(path, tomlkit.dumps(document))


REGISTRATIONS: dict[str, Callable[[Path, Sequence[str]], None]] = {
    "claude-code": _claude_code,
    "codex": _codex,
    "opencode": _opencode,
    "gemini": _gemini,
}


def register(fmt: str, path: Path, command: Sequence[str]) -> None:
    """Merge the `aperture` server entry running `command` into `path`."""
    REGISTRATIONS[fmt](path, command)
