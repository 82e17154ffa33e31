"""`aperture-proxy check`: the models the gateway lacks, per configured upstream.

Which models are checked: the ones named with `--model` or, without any, every
model the shipped capability catalogue knows for the upstream. A named model is
checked against the upstream its name starts with (`anthropic/claude-x`), else
against the upstreams whose catalogue lists it; one that no catalogue places is
missing only when no gateway provider serves it at all. An upstream that no
gateway provider matches is checked against every provider, since the gateway
routes each request by its model.

Exit status: 0 every model is served, 1 some are missing, 2 the gateway could
not be asked or the config is unusable.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field

from aperture_proxy.catalogue_cache import Catalogue, DiscoveryError
from aperture_proxy.cli import _common, _load
from aperture_proxy.dedicated.capabilities import shipped_catalogue
from aperture_proxy.gateway_report import ask_gateway
from aperture_proxy.model_check import format_missing, missing_models
from aperture_proxy.prompts import printable
from aperture_proxy.providers import match_providers, provider_for
from aperture_proxy.upstreams import Upstream, select_upstreams, upstreams_from_config

__all__ = ["ANY_PROVIDER", "CheckPlan", "cmd_check", "plan_checks", "register"]

ANY_PROVIDER = "any provider"


@dataclass
class CheckPlan:
    """The models to ask about, by upstream id (ANY_PROVIDER for unplaced names)."""

    models: dict[str, list[str]] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)  # upstreams nothing is known of


def plan_checks(upstreams: Sequence[Upstream], named: Sequence[str]) -> CheckPlan:
    """Which models to check against which upstream.

    >>> from aperture_proxy.upstreams import builtin
    >>> plan = plan_checks(builtin(["anthropic", "openai"]),
    ...                    ["claude-opus-4-1", "openai/o9", "mine"])
    >>> plan.models
    {'anthropic': ['claude-opus-4-1'], 'openai': ['o9'], 'any provider': ['mine']}
    """
    known = shipped_catalogue().providers
    plan = CheckPlan()
    ids = {u.id for u in upstreams}
    if not named:
        for upstream in upstreams:
            models = list(known.get(upstream.id, {}))
            if models:
                plan.models[upstream.id] = models
            else:
                plan.unknown.append(upstream.id)
        return plan
    for name in dict.fromkeys(named):
        prefix, slash, rest = name.partition("/")
        if slash and prefix in ids and rest:
            plan.models.setdefault(prefix, []).append(rest)
            continue
        owners = [u.id for u in upstreams if name in known.get(u.id, {})]
        for owner in owners or [ANY_PROVIDER]:
            plan.models.setdefault(owner, []).append(name)
    return plan


def _label(upstream: str, provider: str | None) -> str:
    if provider is None:
        return f"{upstream} (no matching gateway provider)"
    if provider == upstream:
        return upstream
    return f"{upstream} (gateway {printable(provider, 40)})"


def find_missing(
    catalogue: Catalogue, upstreams: Sequence[Upstream], plan: CheckPlan
) -> tuple[dict[str, list[str]], int]:
    """Missing models by label, and how many models were checked."""
    rows = match_providers(catalogue, upstreams)
    served = {m for p in catalogue.providers for m in p.models}
    missing: dict[str, list[str]] = {}
    checked = 0
    for upstream, models in plan.models.items():
        checked += len(models)
        provider = provider_for(rows, upstream) if upstream != ANY_PROVIDER else None
        if provider is not None:
            lacking = missing_models(catalogue, provider, models)
            label = _label(upstream, provider)
        else:
            lacking = [m for m in models if m not in served]
            label = upstream if upstream == ANY_PROVIDER else _label(upstream, None)
        if lacking:
            missing[label] = lacking
    return missing, checked


def cmd_check(args: argparse.Namespace) -> int:
    """Print the models the gateway lacks; exit 1 when there are any."""
    config = _load(args)
    assert config.base_url
    upstreams = select_upstreams(upstreams_from_config(config))
    if not upstreams:
        print("no upstream is enabled in proxy.upstreamProviders; nothing to check")
        return 0
    try:
        catalogue = ask_gateway(config.base_url)
    except DiscoveryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for warning in catalogue.warnings:
        print(f"warning: {printable(warning, 300)}", file=sys.stderr)
    plan = plan_checks(upstreams, args.model or [])
    for upstream in plan.unknown:
        print(
            f"note: {upstream}: no models known for it; name some with "
            f"--model {upstream}/MODEL"
        )
    missing, checked = find_missing(catalogue, upstreams, plan)
    if not missing:
        print(f"the gateway serves all {checked} checked models")
        return 0
    count = sum(len(models) for models in missing.values())
    print(f"the gateway lacks {count} of {checked} checked models:")
    print(format_missing(missing))
    return 1


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `check` to the `aperture-proxy` parser."""
    check = sub.add_parser(
        "check",
        help="the models the gateway lacks, per configured upstream (exit 1 if any)",
    )
    check.add_argument(
        "--model",
        action="append",
        metavar="M",
        help="a model to check (repeat); UPSTREAM/M checks it against one upstream",
    )
    _common(check)
    check.set_defaults(func=cmd_check)
