"""The dedicated-mode commands: `generate`, `sync`, `validate`, `onboard --complete`.

`onboard` itself is registered by aperture_proxy.onboarding, which hands
`--complete` to `complete_onboarding` here.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from aperture_proxy import config as config_mod
from aperture_proxy.catalogue_cache import Catalogue, DiscoveryError, load_cached
from aperture_proxy.cli import UsageError, _common, _load
from aperture_proxy.dedicated.capabilities import (
    CAPABILITIES_ENV,
    CapabilityError,
    resolver_for,
    user_catalogue_path,
)
from aperture_proxy.dedicated.catalogue import ModelCatalogue, build_catalogue
from aperture_proxy.dedicated.claude_code import ClaudeCodeWriter
from aperture_proxy.dedicated.codex import CodexWriter
from aperture_proxy.dedicated.files import OutputError, parse_json_document
from aperture_proxy.dedicated.litellm import LitellmWriter
from aperture_proxy.dedicated.merge import GeneratedState, Replaceable
from aperture_proxy.dedicated.opencode import OpencodeWriter
from aperture_proxy.dedicated.pi import PiWriter, aperture_models, pi_agent_dir
from aperture_proxy.dedicated.sync import format_table, on_defaults, replace_defaults
from aperture_proxy.dedicated.validate import validate_file
from aperture_proxy.dedicated.writer import Plan, Writer, apply_plan, make_plan
from aperture_proxy.gateway import discover_sync

__all__ = ["WRITERS", "complete_onboarding", "onboarding_gaps", "register"]

WRITERS: dict[str, Writer] = {
    "pi": PiWriter(),
    "opencode": OpencodeWriter(),
    "codex": CodexWriter(),
    "claude-code": ClaudeCodeWriter(),
    "litellm": LitellmWriter(),
}


class _Failure(Exception):
    """A command failed for a reason already worded for people; exit status 1."""


def _age(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def _discover(gateway: str, cached: bool) -> Catalogue:
    try:
        return discover_sync(gateway, use_cache=False)
    except DiscoveryError as exc:
        if not cached:
            raise _Failure(
                f"{exc}\nNothing was written. Pass --cached to use the last catalogue "
                "fetched from this gateway."
            ) from None
        catalogue = load_cached(gateway)
        if catalogue is None:
            raise _Failure(
                f"{exc}\nNothing was written: there is no cached catalogue of "
                f"{gateway} yet (one is saved whenever the gateway answers)."
            ) from None
        print(
            f"warning: the gateway did not answer ({exc.cause}); using the catalogue "
            f"cached {_age(catalogue.age_seconds())} ago",
            file=sys.stderr,
        )
        return catalogue


def _model_catalogue(args: argparse.Namespace) -> ModelCatalogue:
    cfg = _load(args)
    assert cfg.base_url
    try:
        resolver, notes = resolver_for(args.capabilities)
    except CapabilityError as exc:
        raise _Failure(f"{exc}\nNothing was written.") from None
    catalogue = build_catalogue(
        _discover(cfg.base_url, args.cached), cfg.dedicated, resolver
    )
    for warning in [*notes, *catalogue.warnings]:
        print(f"warning: {warning}", file=sys.stderr)
    return catalogue


def _run(
    writer: Writer,
    args: argparse.Namespace,
    replaceable: Replaceable | None = None,
) -> tuple[Plan, ModelCatalogue]:
    catalogue = _model_catalogue(args)
    path = Path(args.output).expanduser() if args.output else None
    path = path or writer.default_path(os.environ)
    state = GeneratedState()
    try:
        plan = make_plan(writer, catalogue, path, state, replaceable)
    except OutputError as exc:
        raise _Failure(str(exc)) from None
    for note in plan.notes:
        print(f"note: {note}", file=sys.stderr)
    if args.dry_run:
        if plan.changed:
            print(plan.diff(), end="")
        else:
            print(f"{path}: no changes", file=sys.stderr)
        return plan, catalogue
    try:
        backup = apply_plan(plan, writer, state)
    except OutputError as exc:
        raise _Failure(str(exc)) from None
    if backup is not None:
        print(f"saved the previous file as {backup}")
    print(f"wrote {path}" if plan.changed else f"{path}: up to date")
    return plan, catalogue


def _guarded(args: argparse.Namespace, command: str) -> int:
    try:
        if command == "sync":
            plan, catalogue = _run(WRITERS["pi"], args, replace_defaults)
            rows = on_defaults(plan, catalogue)
            if rows:
                print("\nmodels still on the safe defaults (no capability source knows")
                print(f"them; add them to {user_catalogue_path()}):\n")
                print(format_table(rows))
            else:
                print("every aperture model has real capability values")
        else:
            _run(WRITERS[args.format], args)
    except _Failure as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    """Write one agent's provider file from the gateway catalogue."""
    return _guarded(args, "generate")


def cmd_sync(args: argparse.Namespace) -> int:
    """Fill real capability values into Pi's models.json; list what is left."""
    return _guarded(args, "sync")


def cmd_validate(args: argparse.Namespace) -> int:
    """Check a Pi models.json against Pi's rules; one line per problem."""
    path = Path(args.path).expanduser() if args.path else None
    path = path or pi_agent_dir() / "models.json"
    problems = validate_file(path)
    for problem in problems:
        print(problem if problem.startswith(str(path)) else f"{path}: {problem}")
    if problems:
        return 1
    print(f"{path}: valid")
    return 0


def onboarding_gaps(cfg: config_mod.Config, models: Path) -> list[str]:
    """What still keeps onboarding from being complete, one line each."""
    gaps = []
    if not cfg.base_url:
        gaps.append("no gateway URL: pass --gateway URL or set baseUrl in the config")
    if not cfg.dedicated.enabled:
        return gaps
    problems = validate_file(models)
    gaps += [p if p.startswith(str(models)) else f"{models}: {p}" for p in problems]
    if not problems:
        doc, _ = parse_json_document(models.read_text(encoding="utf-8"), models)
        if not aperture_models(doc):
            gaps.append(
                f"{models}: has no aperture models; run `aperture-proxy generate pi`"
            )
    return gaps


def complete_onboarding(args: argparse.Namespace) -> int:
    """`onboard --complete`: mark onboarding done once the setup validates."""
    path = config_mod.resolve_config_path(args.config)
    # The file's own values: --gateway is stored below only when given here.
    cfg = config_mod.load_config(path, env={}, must_exist=bool(args.config))
    if args.gateway:
        try:
            cfg.base_url = config_mod.normalize_gateway_url(args.gateway)
        except ValueError as exc:
            raise UsageError(f"--gateway {args.gateway!r}: {exc}") from None
    elif not cfg.base_url and os.environ.get(config_mod.GATEWAY_ENV):
        cfg.base_url = config_mod.normalize_gateway_url(
            os.environ[config_mod.GATEWAY_ENV]
        )
    models = Path(args.models).expanduser() if args.models else None
    gaps = onboarding_gaps(cfg, models or pi_agent_dir() / "models.json")
    if gaps:
        print("onboarding is not complete:", file=sys.stderr)
        for gap in gaps:
            print(f"  {gap}", file=sys.stderr)
        return 1
    cfg.onboarding_done = True
    config_mod.write_config(cfg, path)
    print(f"onboarding complete: {path} now says onboardingDone: true")
    return 0


def _output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", "-o", metavar="PATH", help="write here instead")
    parser.add_argument(
        "--dry-run", action="store_true", help="print a unified diff, write nothing"
    )
    parser.add_argument(
        "--cached",
        action="store_true",
        help="use the last cached catalogue when the gateway does not answer",
    )
    parser.add_argument(
        "--capabilities",
        metavar="FILE|URL",
        help="a models.dev-style capability catalogue (or " + CAPABILITIES_ENV + ")",
    )
    _common(parser)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the dedicated-mode commands to the `aperture-proxy` parser."""
    gen = sub.add_parser(
        "generate", help="write an agent's provider file from the gateway catalogue"
    )
    gen.add_argument("format", choices=list(WRITERS), help="which agent's file")
    _output_options(gen)
    gen.set_defaults(func=cmd_generate)

    sync = sub.add_parser(
        "sync", help="fill real capabilities into Pi's models.json, list the rest"
    )
    _output_options(sync)
    sync.set_defaults(func=cmd_sync)

    val = sub.add_parser("validate", help="check a Pi models.json against Pi's rules")
    val.add_argument(
        "path", nargs="?", help="default: $PI_CODING_AGENT_DIR or ~/.pi/agent"
    )
    val.set_defaults(func=cmd_validate)
