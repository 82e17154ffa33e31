"""`aperture-proxy settings`: the wizard's sections as a menu, to change one later.

Changes are kept in memory until "Save and quit", which validates the whole
config and writes the file atomically; "Quit without saving" leaves it as it
was. Scripts use `aperture-proxy config set` instead.
"""

from __future__ import annotations

import argparse
import sys

from pydantic import ValidationError

from aperture_proxy import config as config_mod
from aperture_proxy.catalogue_cache import Catalogue, DiscoveryError
from aperture_proxy.cli import UsageError, _common
from aperture_proxy.gateway_report import ask_gateway
from aperture_proxy.onboarding import save_config, terminal
from aperture_proxy.prompts import Cancelled, Option, Prompter
from aperture_proxy.setup_connectors import choose_connectors
from aperture_proxy.setup_steps import (
    CAPABILITIES,
    SetupFailed,
    choose_capabilities,
    choose_dedicated,
    choose_gateway,
    choose_upstreams,
)

__all__ = ["cmd_settings", "register"]


class _Menu:
    """The config being edited and the gateway catalogue, fetched once."""

    def __init__(self, ui: Prompter, config: config_mod.Config) -> None:
        self.ui = ui
        self.config = config
        self._catalogue: Catalogue | None = None
        self._asked = False

    def catalogue(self) -> Catalogue | None:
        if not self._asked and self.config.base_url:
            self._asked = True
            self.ui.say(f"Asking {self.config.base_url} for its providers …")
            try:
                self._catalogue = ask_gateway(self.config.base_url)
            except DiscoveryError as exc:
                self.ui.say(f"✗ {exc}")
        return self._catalogue

    def options(self) -> list[Option[str]]:
        c = self.config
        on = [name for name in CAPABILITIES if getattr(c, name).enabled]
        upstreams = [u.id for u in c.proxy.upstream_providers if u.enabled]
        dedicated = [p.id for p in c.dedicated.providers if p.enabled]
        rows = [
            ("gateway", "Gateway URL", c.base_url or "(not set)"),
            ("capabilities", "Capabilities", ", ".join(on) or "none"),
            ("upstreams", "Proxy upstreams", ", ".join(upstreams) or "none"),
            ("upstream", "One upstream's options", "credentials, missing models"),
            ("listen", "Proxy listen address", c.proxy.listen),
            ("dedicated", "Dedicated providers", ", ".join(dedicated) or "all"),
            (
                "connectors",
                "Connectors",
                f"discovery {'on' if c.connectors.discovery_tools else 'off'}, "
                f"{len(c.connectors.pinned_tools)} pinned",
            ),
        ]
        width = max(len(title) for _, title, _ in rows)
        options = [Option(f"{title:<{width}}  {now}", key) for key, title, now in rows]
        options += [
            Option("Save and quit", "save"),
            Option("Quit without saving", "quit"),
        ]
        return options

    def edit(self, section: str) -> None:
        ui, c = self.ui, self.config
        if section == "gateway":
            url, catalogue = choose_gateway(ui, c.base_url, None)
            c.base_url = url
            self._catalogue, self._asked = catalogue, catalogue is not None
        elif section == "capabilities":
            choose_capabilities(ui, c, None)
        elif section == "upstreams":
            enabled = {u.id for u in c.proxy.upstream_providers if u.enabled}
            checking = any(
                u.should_check_gateway_models
                for u in c.proxy.upstream_providers
                if u.enabled
            )
            choose_upstreams(
                ui,
                c,
                self.catalogue(),
                None,
                check_models=None,
                preselect=enabled,
                check_default=checking,
            )
        elif section == "upstream":
            self._one_upstream()
        elif section == "listen":
            c.proxy.listen = ui.text(
                "Listen address (HOST:PORT):", c.proxy.listen, _listen_problem
            )
        elif section == "dedicated":
            choose_dedicated(ui, c, self.catalogue(), None)
        elif section == "connectors":
            if not c.base_url:
                ui.say("set the gateway URL first")
                return
            choose_connectors(ui, c, c.base_url, discovery=None, pins=None)

    def _one_upstream(self) -> None:
        ui, entries = self.ui, self.config.proxy.upstream_providers
        if not entries:
            ui.say("no upstream is listed; pick some under Proxy upstreams first")
            return
        index = ui.select(
            "Which upstream?",
            [
                Option(f"{e.id}{'' if e.enabled else '  (off)'}", i)
                for i, e in enumerate(entries)
            ],
            default=0,
        )
        entry = entries[index]
        credentials = ui.select(
            f"{entry.id}: client credentials",
            [
                Option("auto — keep subscription logins, remove API keys", "auto"),
                Option("strip — remove every credential", "strip"),
                Option("passthrough — forward them unchanged", "passthrough"),
            ],
            default=entry.credentials,
        )
        check = ui.confirm(
            f"{entry.id}: check that the gateway serves each requested model?",
            default=entry.should_check_gateway_models,
        )
        action = entry.on_missing_model
        if check:
            action = ui.select(
                f"{entry.id}: when the gateway lacks the model",
                [
                    Option("warn — log it once and mark the flow", "warn"),
                    Option("block — answer with the provider's own 4xx", "block"),
                ],
                default=entry.on_missing_model,
            )
        entries[index] = entry.model_copy(
            update={
                "credentials": credentials,
                "should_check_gateway_models": check,
                "on_missing_model": action,
            }
        )
        self.config.proxy.upstream_providers = list(entries)


def _listen_problem(text: str) -> bool | str:
    try:
        config_mod.ProxySettings(listen=text)
    except ValidationError as exc:
        return str(exc.errors()[0].get("ctx", {}).get("error", exc.errors()[0]["msg"]))
    return True


def cmd_settings(args: argparse.Namespace) -> int:
    """The menu; writes the file only on "Save and quit"."""
    if not terminal():
        raise UsageError(
            "settings is a menu for a terminal; in a script use `aperture-proxy "
            "config set KEY VALUE` or `aperture-proxy onboard --yes` with flags"
        )
    path = config_mod.resolve_config_path(args.config)
    _, old_text = config_mod.read_config_data(path)
    config = config_mod.load_config(path, env={})
    before = config.model_dump(mode="json", by_alias=True)
    ui = Prompter(interactive=True)
    menu = _Menu(ui, config)
    ui.say(f"Settings in {path}")
    try:
        while True:
            section = ui.select("Change which section?", menu.options(), "gateway")
            if section == "quit":
                ui.say("nothing was written")
                return 0
            if section == "save":
                break
            try:
                menu.edit(section)
            except SetupFailed as exc:
                ui.say(f"✗ {exc}")
    except Cancelled:
        print("settings cancelled; nothing was written", file=sys.stderr)
        return 130
    if config.model_dump(mode="json", by_alias=True) == before:
        ui.say(f"no changes; {path} is untouched")
        return 0
    save_config(config, path, old_text)
    ui.say(f"Wrote {path}")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `settings` to the `aperture-proxy` parser."""
    settings = sub.add_parser(
        "settings", help="change any setting later, section by section (a menu)"
    )
    _common(settings, gateway=False)
    settings.set_defaults(func=cmd_settings)
