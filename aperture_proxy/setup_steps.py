"""The sections of the setup, shared by `onboard` and `settings`.

The gateway, the capabilities, the proxy's upstreams and the dedicated filter
live here; the connectors section is in setup_connectors.

Each step takes what a flag already answered (None when no flag did), asks the
rest through a Prompter, and changes the Config it is given. A non-interactive
Prompter answers every question with its default, so a step never blocks.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import ValidationError

from aperture_proxy.catalogue_cache import Catalogue, DiscoveryError
from aperture_proxy.config import (
    Config,
    DedicatedProvider,
    UpstreamSetting,
    normalize_gateway_url,
)
from aperture_proxy.gateway_report import (
    ask_gateway,
    plural,
    serves_line,
    summary_lines,
)
from aperture_proxy.prompts import Cancelled, Option, Prompter, printable
from aperture_proxy.providers import ProviderMatch, match_providers
from aperture_proxy.upstreams import (
    BUILTIN_UPSTREAMS,
    DEFAULT_SELECTION,
    Upstream,
    resolve_upstream,
    upstreams_from_config,
)

__all__ = [
    "CAPABILITIES",
    "SetupFailed",
    "choose_capabilities",
    "choose_dedicated",
    "choose_gateway",
    "choose_upstreams",
]

CAPABILITIES = {
    "proxy": "reroute agents' own provider traffic through HTTPS_PROXY",
    "dedicated": "an `aperture` provider written into agents' config files",
    "connectors": "the gateway's MCP tools for agents",
}


class SetupFailed(Exception):
    """A step cannot go on without a person; worded for them, exit status 1."""


# --- the gateway ---


def _url_problem(text: str) -> bool | str:
    try:
        normalize_gateway_url(text)
    except ValueError as exc:
        return str(exc)
    return True


def choose_gateway(
    ui: Prompter,
    current: str | None,
    given: str | None,
    *,
    check: bool = True,
    given_by: str = "--gateway",
) -> tuple[str, Catalogue | None]:
    """The gateway URL, checked live unless `check` is false.

    A failing check offers a retry, another URL, keeping the URL unchecked or
    quitting; without a person it is a SetupFailed. `given_by` names where
    `given` came from, for the error about a bad one.
    """
    url: str | None = None
    if given:
        try:
            url = normalize_gateway_url(given)
        except ValueError as exc:
            raise SetupFailed(f"{given_by} {given!r}: {exc}") from None
    while True:
        if url is None:
            if not ui.interactive:
                raise SetupFailed(
                    "no gateway URL: pass --gateway URL (a bare host such as ai works)"
                )
            typed = ui.text(
                "Aperture gateway URL (a bare host such as ai works):",
                default=current or "",
                validate=_url_problem,
            )
            url = normalize_gateway_url(typed)
            if typed.strip() != url:
                ui.say(f"  using {url}")
        if not check:
            return url, None
        ui.say(f"Checking {url}/api/providers and /v1/models …")
        try:
            catalogue = ask_gateway(url)
        except DiscoveryError as exc:
            if not ui.interactive:
                raise SetupFailed(
                    f"{exc}\nNothing was written. Pass --skip-check to save the URL "
                    "without asking the gateway."
                ) from None
            ui.say(f"✗ {exc}")
            what = ui.select(
                "What now?",
                [
                    Option("Try again", "retry"),
                    Option("Change the URL", "edit"),
                    Option("Keep this URL without checking", "keep"),
                    Option("Quit (nothing is written)", "quit"),
                ],
                default="retry",
            )
            if what == "quit":
                raise Cancelled from None
            if what == "keep":
                return url, None
            if what == "edit":
                current, url = url, None
            continue
        ui.say(f"✓ {serves_line(catalogue)}")
        for line in summary_lines(catalogue):
            ui.say(line)
        return url, catalogue


# --- capabilities ---


def choose_capabilities(ui: Prompter, config: Config, given: set[str] | None) -> None:
    """Switch proxy, dedicated and connectors on or off, each on its own."""
    if given is None:
        options = [
            Option(f"{name:<10}  {what}", name, getattr(config, name).enabled)
            for name, what in CAPABILITIES.items()
        ]
        given = set(ui.checkbox("Which capabilities should be on?", options))
    config.proxy.enabled = "proxy" in given
    config.dedicated.enabled = "dedicated" in given
    config.connectors.enabled = "connectors" in given
    on = [name for name in CAPABILITIES if name in given]
    ui.say(f"capabilities: {', '.join(on) or 'none'}")


# --- proxy upstreams ---


def _candidates(config: Config) -> list[Upstream]:
    """Every built-in upstream and every one the config defines, once each."""
    defined = {o.id: o for o in upstreams_from_config(config)}
    found: list[Upstream] = []
    for builtin in BUILTIN_UPSTREAMS:
        override = defined.pop(builtin.id, None)
        found.append(resolve_upstream(override) if override else builtin)
    found += [resolve_upstream(o) for o in defined.values()]
    return found


def _matched(
    catalogue: Catalogue | None, upstreams: Sequence[Upstream]
) -> dict[str, ProviderMatch]:
    if catalogue is None:
        return {}
    rows = match_providers(catalogue, upstreams)
    return {r.upstream.id: r for r in rows if r.upstream and r.provider}


def _match_note(row: ProviderMatch | None) -> str:
    if row is None or row.provider is None:
        return "no gateway provider matches; the gateway routes its requests by model"
    return f"← gateway {printable(row.provider.id, 40)} (matched by {row.how})"


def choose_upstreams(
    ui: Prompter,
    config: Config,
    catalogue: Catalogue | None,
    given: Sequence[str] | None,
    *,
    check_models: bool | None,
    preselect: set[str] | None = None,
    check_default: bool = True,
) -> None:
    """Which upstreams are rerouted, and whether requested models are verified.

    The checklist starts with `preselect` ticked; None ticks every upstream a
    gateway provider matches (the built-in default selection when the gateway
    was not asked). Entries the config already lists are kept (unticked ones
    with `enabled: false`, so their settings survive); new ones are appended.
    """
    candidates = _candidates(config)
    by_id = {u.id: u for u in candidates}
    matched = _matched(catalogue, candidates)
    if preselect is None:
        preselect = set(matched) if catalogue else set(DEFAULT_SELECTION)
    if given is not None:
        unknown = [name for name in given if name not in by_id]
        if unknown:
            raise SetupFailed(
                f"--upstream {', '.join(unknown)}: not a built-in upstream "
                f"({', '.join(u.id for u in BUILTIN_UPSTREAMS)}); define your own "
                "with `aperture-proxy config set proxy.upstreamProviders[N] "
                "'{id: NAME, baseUrl: URL, api: API}'`"
            )
        chosen = list(dict.fromkeys(given))
    else:
        width = max(len(u.id) for u in candidates)
        first = [u for u in candidates if u.id in matched]
        rest = [u for u in candidates if u.id not in matched]
        options: list[Option[str]] = [
            Option(
                f"{u.id:<{width}}  {_match_note(matched[u.id])}",
                u.id,
                u.id in preselect,
            )
            for u in first
        ]
        if rest and catalogue is not None:
            options.append(
                Option("— no gateway provider matches these —", heading=True)
            )
        options += [Option(u.id, u.id, u.id in preselect) for u in rest]
        chosen = ui.checkbox(
            "Which upstreams should be rerouted to the gateway?", options
        )
    ui.say(f"rerouted upstreams: {', '.join(chosen) or 'none'}")
    if catalogue is not None:
        for name in chosen:
            ui.say(f"  {name:<14} {_match_note(matched.get(name))}")
    if check_models is None:
        check_models = ui.confirm(
            "Check that the gateway serves the model each request asks for "
            "(a warning per missing model)?",
            default=check_default,
        )
    _apply_upstreams(config, chosen, check_models)


def _apply_upstreams(config: Config, chosen: Sequence[str], check: bool) -> None:
    entries: list[UpstreamSetting] = []
    for entry in config.proxy.upstream_providers:
        on = entry.id in chosen
        update = {"enabled": on}
        if on:
            update["should_check_gateway_models"] = check
        entries.append(entry.model_copy(update=update))
    listed = {e.id for e in entries}
    entries += [
        UpstreamSetting(id=name, should_check_gateway_models=check)
        for name in chosen
        if name not in listed
    ]
    config.proxy.upstream_providers = entries


# --- dedicated ---


def choose_dedicated(
    ui: Prompter,
    config: Config,
    catalogue: Catalogue | None,
    given: Sequence[str] | None,
) -> None:
    """The gateway providers the `aperture` provider takes models from."""
    current = [p.id for p in config.dedicated.providers if p.enabled]
    served = {p.id for p in catalogue.providers} if catalogue else set()
    if given is not None:
        chosen = list(dict.fromkeys(given))
    elif catalogue is None:
        typed = ui.text(
            "Gateway provider ids for the aperture provider, comma-separated "
            "(empty = every provider):",
            default=", ".join(current),
        )
        chosen = [p.strip() for p in typed.split(",") if p.strip()]
    else:
        options = [
            Option(
                f"{printable(p.id, 40)} — {printable(p.name, 40)} "
                f"({plural(len(p.models), 'model')})",
                p.id,
                p.id in current,
            )
            for p in catalogue.providers
        ]
        options += [
            Option(f"{name} — not served to this machine now", name, True)
            for name in current
            if name not in served
        ]
        chosen = ui.checkbox(
            "Which gateway providers become models of the aperture provider?",
            options,
            instruction="(none ticked = every provider, also ones added later)",
        )
    if catalogue is not None:
        for name in chosen:
            if name not in served:
                ui.say(
                    f"note: the gateway serves no provider {name!r} to this machine "
                    "now; it stays in the filter"
                )
    try:
        config.dedicated.providers = [DedicatedProvider(id=name) for name in chosen]
    except ValidationError as exc:
        error = exc.errors()[0]
        reason = (error.get("ctx") or {}).get("error", error["msg"])
        raise SetupFailed(f"--dedicated-provider: {reason}") from None
    ui.say(f"dedicated providers: {', '.join(chosen) or 'every gateway provider'}")
