"""The `connectors` and `mcp` commands: their arguments, and a lazy hand-off.

The commands themselves live in `actions`, which imports the MCP SDK; it is
loaded only when one of these commands runs, so the rest of the CLI starts
without paying for it.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable

from aperture_proxy.cli import _common
from aperture_proxy.connectors.search import DEFAULT_LIMIT
from aperture_proxy.connectors.stubs import FORMATS

__all__ = ["register"]


def _action(name: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        module = importlib.import_module("aperture_proxy.connectors.actions")
        command: Callable[[argparse.Namespace], int] = getattr(module, name)
        return command(args)

    return run


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number from 1")
    return number


def _seconds(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = 0.0
    if not number > 0:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds > 0")
    return number


def _options(parser: argparse.ArgumentParser) -> None:
    _common(parser)
    parser.add_argument(
        "--timeout",
        type=_seconds,
        default=60.0,
        metavar="SECONDS",
        help="how long to wait for each gateway answer (60)",
    )


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `connectors` (list, search, describe, call, stubs) and `mcp`."""
    connectors = sub.add_parser(
        "connectors", help="the gateway's MCP connectors and their tools"
    )
    commands = connectors.add_subparsers(
        dest="connectors_command", required=True, metavar="COMMAND"
    )

    listing = commands.add_parser("list", help="connectors, status and their tools")
    _options(listing)
    listing.set_defaults(func=_action("cmd_list"))

    find = commands.add_parser("search", help="find tools by name or description")
    find.add_argument("query", nargs="?", default="", help="text to look for")
    find.add_argument(
        "--limit", type=_positive, default=DEFAULT_LIMIT, help="most results (15)"
    )
    find.add_argument("--connector", help="only this connector's tools, e.g. github")
    _options(find)
    find.set_defaults(func=_action("cmd_search"))

    describe = commands.add_parser("describe", help="a tool's full input schema")
    describe.add_argument("tool", help="the tool's exact name")
    _options(describe)
    describe.set_defaults(func=_action("cmd_describe"))

    call = commands.add_parser("call", help="call a tool and print its result")
    call.add_argument("tool", help="the tool's exact name")
    call.add_argument(
        "--args",
        metavar="JSON|@FILE",
        help="arguments as a JSON object, or @file / @- to read them",
    )
    _options(call)
    call.set_defaults(func=_action("cmd_call"))

    stub = commands.add_parser(
        "stubs", help="register `aperture-proxy mcp` with an agent, or write files"
    )
    stub.add_argument("--format", required=True, choices=FORMATS)
    stub.add_argument("--output", metavar="PATH", help="file (directory for json)")
    stub.add_argument(
        "--command",
        metavar="CMD",
        help="how agents start aperture-proxy (default: its path on PATH)",
    )
    stub.add_argument(
        "--force", action="store_true", help="replace a Pi file we did not write"
    )
    _options(stub)
    stub.set_defaults(func=_action("cmd_stubs"))

    mcp = sub.add_parser(
        "mcp", help="serve the gateway's connectors as a stdio MCP server"
    )
    _options(mcp)
    mcp.set_defaults(func=_action("cmd_mcp"))
