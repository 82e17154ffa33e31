"""What the `connectors` and `mcp` commands do, once their arguments are parsed.

Exit codes: 0 done; 1 the tool reported an error (`isError`); 2 a usage or
configuration mistake; 3 the gateway could not be asked or answered with an
MCP error.
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import os
import shlex
import shutil
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio

from aperture_proxy.cli import UsageError, _load
from aperture_proxy.config import CONFIG_ENV, GATEWAY_ENV, Config
from aperture_proxy.connectors import stubs
from aperture_proxy.connectors.catalogue import ConnectorCatalogue
from aperture_proxy.connectors.client import ConnectorError, GatewayMcp
from aperture_proxy.connectors.loading import load_catalogue
from aperture_proxy.connectors.pins import ResolvedPin, resolve_pins
from aperture_proxy.connectors.search import search
from aperture_proxy.connectors.server import serve_stdio
from aperture_proxy.connectors.views import (
    format_catalogue,
    format_result,
    format_search,
    format_tool,
)

__all__ = [
    "cmd_call",
    "cmd_describe",
    "cmd_list",
    "cmd_mcp",
    "cmd_search",
    "cmd_stubs",
]

EXIT_TOOL_ERROR = 1
EXIT_GATEWAY = 3

# Pi's own tools; a pinned tool must not take one of their names.
_PI_TOOLS = ("read", "bash", "edit", "write", "grep", "find", "ls")


def _quiet_sdk(args: argparse.Namespace) -> None:
    # The SDK logs every transport failure with a traceback; ours say it better.
    if not getattr(args, "debug", False):
        logging.getLogger("mcp").setLevel(logging.CRITICAL)


def _warn(warnings: list[str]) -> None:
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)


def _gateway(args: argparse.Namespace) -> tuple[Config, str]:
    _quiet_sdk(args)
    cfg = _load(args)
    assert cfg.base_url
    return cfg, cfg.base_url


def _ask[T](
    gateway: str, timeout: float, ask: Callable[[GatewayMcp], Awaitable[T]]
) -> T:
    async def run() -> T:
        async with GatewayMcp(gateway, timeout=timeout) as mcp:
            return await ask(mcp)

    return anyio.run(run)


def _gateway_failures_exit(
    command: Callable[[argparse.Namespace], int],
) -> Callable[[argparse.Namespace], int]:
    """A command whose gateway or MCP failure prints one line and exits 3."""

    @functools.wraps(command)
    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except ConnectorError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_GATEWAY

    return run


def _catalogue(args: argparse.Namespace) -> ConnectorCatalogue:
    _, gateway = _gateway(args)
    return _ask(gateway, args.timeout, load_catalogue)


@_gateway_failures_exit
def cmd_list(args: argparse.Namespace) -> int:
    catalogue = _catalogue(args)
    _warn(catalogue.warnings)
    print(format_catalogue(catalogue, with_tools=True))
    return 0


@_gateway_failures_exit
def cmd_search(args: argparse.Namespace) -> int:
    catalogue = _catalogue(args)
    _warn(catalogue.warnings)
    found = search(
        catalogue.tools, args.query, limit=args.limit, connector=args.connector
    )
    print(format_search(found, args.query))
    return 0


@_gateway_failures_exit
def cmd_describe(args: argparse.Namespace) -> int:
    tool = _catalogue(args).tool(args.tool)
    if tool is None:
        raise UsageError(
            f"the gateway serves no tool named {args.tool!r}; "
            "`aperture-proxy connectors search` finds tools"
        )
    print(format_tool(tool))
    return 0


def _arguments(value: str | None) -> dict[str, Any]:
    """The tool arguments of `--args`: JSON, `@file` or `@-` for stdin."""
    if value is None:
        return {}
    source, text = "--args", value
    if value.startswith("@"):
        name = value[1:]
        source = "standard input" if name == "-" else name
        try:
            text = sys.stdin.read() if name == "-" else Path(name).read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"--args {value}: cannot be read ({exc})") from None
    example = 'such as \'{"owner": "octo"}\''
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"{source}: line {exc.lineno}, column {exc.colno}: {exc.msg}; "
            f"expected a JSON object {example}"
        ) from None
    if not isinstance(parsed, dict):
        raise UsageError(
            f"{source}: is a JSON {type(parsed).__name__}; expected an object {example}"
        )
    return parsed


@_gateway_failures_exit
def cmd_call(args: argparse.Namespace) -> int:
    arguments = _arguments(args.args)
    _, gateway = _gateway(args)
    result = _ask(
        gateway, args.timeout, lambda mcp: mcp.call_tool(args.tool, arguments)
    )
    text = format_result(result)
    if text:
        print(text)
    if result.is_error:
        print(f"error: the tool {args.tool!r} reported an error", file=sys.stderr)
        return EXIT_TOOL_ERROR
    return 0


def _base_command(args: argparse.Namespace) -> list[str]:
    if args.command:
        base = shlex.split(args.command)
        if not base:
            raise UsageError("--command is empty; give the program to run")
        return base
    found = shutil.which("aperture-proxy")
    if found:
        return [str(Path(found).resolve())]
    return [sys.executable, "-m", "aperture_proxy"]


def _passed_on(args: argparse.Namespace) -> list[str]:
    """The --config and --gateway the agent needs to find what we found."""
    options: list[str] = []
    config = args.config or os.environ.get(CONFIG_ENV)
    if config:
        options += ["--config", str(Path(config).expanduser().resolve())]
    gateway = args.gateway or os.environ.get(GATEWAY_ENV)
    if gateway:
        options += ["--gateway", gateway]
    return options


def _pins(cfg: Config, gateway: str, args: argparse.Namespace) -> list[ResolvedPin]:
    if not cfg.connectors.pinned_tools:
        _warn(
            [
                "connectors.pinnedTools is empty, so no tool is written; pin "
                "tools found with `aperture-proxy connectors search`"
            ]
        )
        return []

    catalogue = _ask(gateway, args.timeout, load_catalogue)
    reserved = _PI_TOOLS if args.format == "pi" else ()
    pins, warnings = resolve_pins(
        cfg.connectors.pinned_tools, catalogue, reserved=reserved
    )
    _warn(catalogue.warnings + warnings)
    return pins


@_gateway_failures_exit
def cmd_stubs(args: argparse.Namespace) -> int:
    fmt = args.format
    output = (
        Path(args.output).expanduser() if args.output else stubs.default_output(fmt)
    )
    base = _base_command(args)
    passed = _passed_on(args)
    try:
        if fmt not in stubs.PINNED_FORMATS:
            _load(args, need_gateway=False)
            written = stubs.write_registration(fmt, output, [*base, "mcp", *passed])
        else:
            cfg, gateway = _gateway(args)
            pins = _pins(cfg, gateway, args)
            if fmt == "pi":
                command = [*base, "connectors", "call", *passed]
                written = stubs.write_pi(output, pins, command, force=args.force)
            else:
                written = stubs.write_schemas(output, pins)
    except stubs.StubError as exc:
        raise UsageError(str(exc)) from None
    for path in written:
        print(f"wrote {path}")
    return 0


def cmd_mcp(args: argparse.Namespace) -> int:
    cfg, gateway = _gateway(args)
    anyio.run(lambda: serve_stdio(gateway, cfg.connectors, timeout=args.timeout))
    return 0
