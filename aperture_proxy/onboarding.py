"""`aperture-proxy onboard`: the setup wizard, or the same steps driven by flags.

The wizard asks for the gateway (checked live), the capabilities, the proxy's
upstreams, the dedicated provider filter and the connector pins, then writes
the config file and says what to run next. Every question has a flag; with
`--yes` the remaining questions take their defaults and nothing is asked, so a
script can onboard a machine. `--complete` is the dedicated-mode check that marks
onboarding done (aperture_proxy.dedicated.commands).
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

from aperture_proxy import config as config_mod
from aperture_proxy.cli import UsageError, _common
from aperture_proxy.config_sources import save_data
from aperture_proxy.dedicated.commands import complete_onboarding, onboarding_gaps
from aperture_proxy.dedicated.pi import pi_agent_dir
from aperture_proxy.prompts import Cancelled, Prompter
from aperture_proxy.setup_connectors import choose_connectors, parse_pin
from aperture_proxy.setup_steps import (
    CAPABILITIES,
    SetupFailed,
    choose_capabilities,
    choose_dedicated,
    choose_gateway,
    choose_upstreams,
)

__all__ = ["cmd_onboard", "next_steps", "register", "save_config", "terminal"]


def terminal() -> bool:
    """Whether a person can answer questions here."""
    return sys.stdin.isatty() and sys.stdout.isatty()


def _capabilities(values: list[str] | None) -> set[str] | None:
    if values is None:
        return None
    chosen = {v.strip() for value in values for v in value.split(",") if v.strip()}
    chosen.discard("none")
    unknown = sorted(chosen - set(CAPABILITIES))
    if unknown:
        raise UsageError(
            f"--enable {','.join(unknown)}: expected a comma-separated list of "
            f"{', '.join(CAPABILITIES)} (or none)"
        )
    return chosen


def _unused_flags(args: argparse.Namespace, config: config_mod.Config) -> None:
    needs = (
        ("--upstream", args.upstream, "proxy", config.proxy.enabled),
        (
            "--dedicated-provider",
            args.dedicated_provider,
            "dedicated",
            config.dedicated.enabled,
        ),
        ("--pin", args.pin, "connectors", config.connectors.enabled),
    )
    for flag, value, capability, enabled in needs:
        if value is not None and not enabled:
            raise UsageError(
                f"{flag} is a {capability} setting, but {capability} is not enabled; "
                f"add it to --enable"
            )


def save_config(config: config_mod.Config, path: Path, old_text: str) -> None:
    """Validate the whole config and write it; say where any backup went."""
    data = config.model_dump(mode="json", by_alias=True, exclude_none=True)
    config_mod.validate_config(data, path, "")
    backup = save_data(data, path, old_text)
    if backup is not None:
        print(f"the previous file (with its comments) is saved as {backup}")


def next_steps(
    config: config_mod.Config, path: Path, explicit: bool, gaps: list[str]
) -> list[tuple[str, str]]:
    """The commands to run next, with what each is for."""
    flag = f" --config {shlex.quote(str(path))}" if explicit else ""
    steps: list[tuple[str, str]] = []
    if config.proxy.enabled:
        steps += [
            (f"aperture-proxy run{flag}", "start the proxy"),
            (
                f'eval "$(aperture-proxy env{flag})"',
                "in the shell you start agents from",
            ),
        ]
    if config.dedicated.enabled:
        steps.append(
            (
                f"aperture-proxy generate pi{flag}",
                "or opencode, codex, claude-code, litellm",
            )
        )
        if gaps:
            steps.append(
                (
                    f"aperture-proxy onboard --complete{flag}",
                    "marks onboarding done once the Pi file validates",
                )
            )
    if config.connectors.enabled:
        steps += [
            (f"aperture-proxy connectors list{flag}", "the gateway's connector tools"),
            (f"aperture-proxy mcp{flag}", "the MCP server to register in your agent"),
        ]
    steps.append((f"aperture-proxy doctor{flag}", "check the whole setup"))
    return steps


def _wizard(args: argparse.Namespace, ui: Prompter) -> int:
    path = config_mod.resolve_config_path(args.config)
    data, old_text = config_mod.read_config_data(path)
    # The file's own values: APERTURE_URL is offered, not silently stored.
    config = config_mod.load_config(path, env={})
    ui.say(f"Setting up aperture-proxy; the answers go to {path}")

    from_env = os.environ.get(config_mod.GATEWAY_ENV) or None
    current = config.base_url or from_env
    given = args.gateway or (current if not ui.interactive else None)
    given_by = "--gateway" if args.gateway else config_mod.GATEWAY_ENV
    gateway, catalogue = choose_gateway(
        ui, current, given, check=not args.skip_check, given_by=given_by
    )
    config.base_url = gateway

    ui.say()
    choose_capabilities(ui, config, _capabilities(args.enable))
    _unused_flags(args, config)
    if config.proxy.enabled:
        ui.say("\nProxy")
        if "upstreamProviders" not in data.get("proxy", {}):
            # Nothing chosen yet: list only what is ticked now.
            config.proxy.upstream_providers = []
        choose_upstreams(
            ui, config, catalogue, args.upstream, check_models=args.check_models
        )
    if config.dedicated.enabled:
        ui.say("\nDedicated")
        choose_dedicated(ui, config, catalogue, args.dedicated_provider)
    if config.connectors.enabled:
        ui.say("\nConnectors")
        pins = [parse_pin(p) for p in args.pin] if args.pin is not None else None
        choose_connectors(
            ui,
            config,
            gateway,
            discovery=args.discovery_tools,
            pins=pins,
            ask_gateway_tools=not args.skip_check,
        )

    models = Path(args.models).expanduser() if args.models else None
    gaps = onboarding_gaps(config, models or pi_agent_dir() / "models.json")
    config.onboarding_done = not gaps
    save_config(config, path, old_text)
    ui.say(f"\nWrote {path}")
    ui.say("Next:")
    steps = next_steps(config, path, bool(args.config), gaps)
    width = max(len(command) for command, _ in steps)
    for command, why in steps:
        ui.say(f"  {command.ljust(width)}  # {why}")
    return 0


def cmd_onboard(args: argparse.Namespace) -> int:
    """Run the wizard (or its flags), or `--complete`."""
    if args.complete:
        return complete_onboarding(args)
    if not args.yes and not terminal():
        raise UsageError(
            "onboard asks its questions in a terminal; in a script pass --yes and "
            "answer with flags, e.g. `aperture-proxy onboard --yes --gateway ai "
            "--enable proxy --upstream anthropic`"
        )
    ui = Prompter(interactive=not args.yes)
    try:
        return _wizard(args, ui)
    except Cancelled:
        print("onboarding cancelled; nothing was written", file=sys.stderr)
        return 130
    except SetupFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `onboard` to the `aperture-proxy` parser."""
    onboard = sub.add_parser(
        "onboard",
        help="the setup wizard (every answer also a flag; --yes for scripts)",
        description="Walk through the gateway, capabilities, upstreams, dedicated "
        "providers and connector pins, then write the config file.",
    )
    _common(onboard)
    onboard.add_argument(
        "--enable",
        action="append",
        metavar="LIST",
        help="capabilities to switch on, e.g. proxy,dedicated (the rest go off)",
    )
    onboard.add_argument(
        "--upstream",
        action="append",
        metavar="ID",
        help="an upstream to reroute (repeat it); e.g. anthropic",
    )
    onboard.add_argument(
        "--check-models",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="verify each request's model against the gateway (default: on)",
    )
    onboard.add_argument(
        "--dedicated-provider",
        action="append",
        metavar="ID",
        help="a gateway provider for the aperture provider (repeat; none = all)",
    )
    onboard.add_argument(
        "--discovery-tools",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="offer the connector discovery tools (default: on)",
    )
    onboard.add_argument(
        "--pin",
        action="append",
        metavar="CONNECTOR/TOOL",
        help="pin a connector tool (repeat), e.g. github/github_list_repos",
    )
    onboard.add_argument(
        "--skip-check",
        action="store_true",
        help="do not ask the gateway (save the URL unchecked)",
    )
    onboard.add_argument(
        "--yes", "-y", action="store_true", help="never ask: take defaults for the rest"
    )
    onboard.add_argument(
        "--complete",
        action="store_true",
        help="only mark onboarding done, once the setup validates",
    )
    onboard.add_argument(
        "--models", metavar="PATH", help="the Pi models.json that --complete checks"
    )
    onboard.set_defaults(func=cmd_onboard)
