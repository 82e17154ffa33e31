"""One JSON Schema file per pinned tool, and an index mapping safe names back.

Each `<name>.schema.json` is the gateway's input schema, unchanged. The file
name is the tool's safe name (`[A-Za-z0-9_]`), so no remote value can choose
a path. `tools.json` lists, per file, the safe name, the gateway's tool name,
its connector and its description.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from aperture_proxy.connectors.names import is_clean

if TYPE_CHECKING:
    from aperture_proxy.connectors.pins import ResolvedPin

__all__ = ["INDEX", "default_path", "render"]

INDEX = "tools.json"


def default_path() -> Path:
    """`./aperture-tools/`."""
    return Path("aperture-tools")


def _dump(value: object) -> str:
    # ASCII output: control and line-separator characters become escapes.
    return json.dumps(value, indent=2, ensure_ascii=True) + "\n"


def render(pins: Sequence[ResolvedPin]) -> dict[str, str]:
    """File name → text for every file of the directory."""
    files: dict[str, str] = {}
    index = []
    for pin in pins:
        if not is_clean(pin.name):
            raise ValueError(f"{pin.name!r} is not a safe name")
        file_name = f"{pin.name}.schema.json"
        files[file_name] = _dump(pin.tool.input_schema)
        index.append(
            {
                "name": pin.name,
                "toolName": pin.tool.name,
                "connectorId": pin.pin.connector_id,
                "description": pin.tool.description,
                "schema": file_name,
            }
        )
    files[INDEX] = _dump({"tools": index})
    return files
