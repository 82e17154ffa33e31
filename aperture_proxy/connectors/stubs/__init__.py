"""Files that let an agent use the gateway's connectors, one writer per format.

`claude-code`, `codex`, `opencode` and `gemini` register `aperture-proxy mcp`
in the agent's MCP configuration; `pi` writes a Pi extension with one tool
per pinned tool; `json` writes one JSON Schema file per pinned tool.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from aperture_proxy.config import write_text_atomic

if TYPE_CHECKING:
    from aperture_proxy.connectors.pins import ResolvedPin
from aperture_proxy.connectors.stubs import pi, schemas
from aperture_proxy.connectors.stubs.registration import (
    REGISTRATIONS,
    SERVER_NAME,
    StubError,
    register,
)
from aperture_proxy.connectors.stubs.registration import default_path as _registration

__all__ = [
    "FORMATS",
    "PINNED_FORMATS",
    "SERVER_NAME",
    "StubError",
    "default_output",
    "write_pi",
    "write_registration",
    "write_schemas",
]

PINNED_FORMATS = ("pi", "json")
"""Formats built from the pinned tools, so they need the gateway."""

FORMATS = (*REGISTRATIONS, *PINNED_FORMATS)


def default_output(fmt: str) -> Path:
    """Where `fmt` is written when no --output is given."""
    if fmt == "pi":
        return pi.default_path()
    if fmt == "json":
        return schemas.default_path()
    return _registration(fmt)


def write_registration(fmt: str, path: Path, command: Sequence[str]) -> list[Path]:
    """Merge the `aperture` MCP server entry running `command` into `path`."""
    register(fmt, path, command)
    return [path]


def write_pi(
    path: Path, pins: Sequence[ResolvedPin], command: Sequence[str], *, force: bool
) -> list[Path]:
    """Write the Pi extension; a file not written by us is kept unless `force`."""
    try:
        existing = path.read_text(encoding="utf-8") if path.exists() else None
    except (OSError, UnicodeDecodeError) as exc:
        raise StubError(f"{path}: cannot be read ({exc})") from None
    if existing is not None and not existing.startswith(pi.MARKER) and not force:
        raise StubError(
            f"{path}: exists and was not written by aperture-proxy; pass --force "
            "to replace it or --output to write elsewhere"
        )
    try:
        write_text_atomic(path, pi.render(pins, command), mode=0o644)
    except OSError as exc:
        raise StubError(f"{path}: cannot be written ({exc})") from None
    return [path]


def write_schemas(directory: Path, pins: Sequence[ResolvedPin]) -> list[Path]:
    """Write one schema file per pinned tool and the index into `directory`."""
    if directory.exists() and not directory.is_dir():
        raise StubError(f"{directory}: is not a directory; --output names one")
    written = []
    for name, text in schemas.render(pins).items():
        path = directory / name
        try:
            write_text_atomic(path, text, mode=0o644)
        except OSError as exc:
            raise StubError(f"{path}: cannot be written ({exc})") from None
        written.append(path)
    return written
