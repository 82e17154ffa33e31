"""Plain-text views of connectors, tools and results, for the CLI and the MCP server.

Names and descriptions come from the network, so every control or format
character in them is shown as an escape (``\\x1b``, ``\\u202e``): a listing
can then never move the cursor, recolour the terminal or reorder text.
Tool results are data and are printed as the tool returned them.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Sequence

import mcp.types as types

from aperture_proxy.connectors.catalogue import ConnectorCatalogue, ConnectorTool

__all__ = [
    "format_catalogue",
    "format_result",
    "format_search",
    "format_tool",
    "printable",
]

_SHORT = 100


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str, *, lines: bool = False) -> str:
    r"""`text` with control and format characters shown as escapes.

    With `lines`, newlines and tabs are kept; otherwise whitespace runs
    become one space.

    >>> printable("red\x1b[31m text\u202e")
    'red\\x1b[31m text\\u202e'
    >>> printable("two\nlines")
    'two lines'
    """
    if not lines:
        text = " ".join(text.split())
    return "".join(
        _escape(c)
        if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") and c not in "\n\t"
        else c
        for c in text
    )


def _short(text: str, limit: int = _SHORT) -> str:
    flat = printable(text)
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def format_catalogue(catalogue: ConnectorCatalogue, *, with_tools: bool) -> str:
    """Connectors with status and tool count; with `with_tools`, their tools too."""
    lines: list[str] = []
    known = {c.id: c for c in catalogue.connectors}
    for ident, tools in catalogue.groups().items():
        info = known.get(ident)
        if info is None:
            head = f"{ident} — {_count(len(tools), 'tool')} with no known connector"
        else:
            provider = f" ({printable(info.provider)})" if info.provider else ""
            status = printable(info.status) or "status unknown"
            head = f"{printable(ident)}{provider} — {status} — " + _count(
                len(tools), "tool"
            )
            if info.description:
                head += f" — {_short(info.description, 80)}"
        lines.append(head)
        if with_tools:
            lines += [f"  {printable(t.name)}  {_short(t.description)}" for t in tools]
    if not lines:
        return "The gateway serves no connectors and no tools."
    return "\n".join(lines)


def format_search(found: Sequence[ConnectorTool], query: str) -> str:
    """Search results, best first, each with its connector."""
    if not found:
        shown = f" matching {printable(query)!r}" if query.strip() else ""
        return f"No tools found{shown}. `aperture_connector_list` shows every tool."
    return "\n".join(
        f"{printable(t.name)}  [{printable(t.connector)}]  {_short(t.description)}"
        for t in found
    )


def format_tool(tool: ConnectorTool) -> str:
    """One tool in full: name, connector, description and input schema."""
    schema = json.dumps(tool.input_schema, indent=2, ensure_ascii=True)
    description = printable(tool.description, lines=True) or "(no description)"
    return (
        f"{printable(tool.name)}  [{printable(tool.connector)}]\n\n"
        f"{description}\n\nInput schema:\n{schema}"
    )


def _block(block: types.ContentBlock) -> str:
    if isinstance(block, types.TextContent):
        return block.text
    if isinstance(block, types.ImageContent | types.AudioContent):
        return f"[{block.type} {block.mime_type}, {len(block.data)} base64 characters]"
    if isinstance(block, types.EmbeddedResource):
        resource = block.resource
        if isinstance(resource, types.TextResourceContents):
            return resource.text
        return f"[resource {resource.uri}, {len(resource.blob)} base64 characters]"
    return f"[resource link {block.uri}]"


def format_result(result: types.CallToolResult) -> str:
    """The content of a tool result as text, one block after another.

    Non-text blocks are described in one line; structured content is shown
    as JSON when there is no content at all.
    """
    parts = [_block(block) for block in result.content]
    if not parts and result.structured_content is not None:
        parts.append(json.dumps(result.structured_content, indent=2))
    return "\n".join(parts)
