"""Importing the Pi extension's seed `aperture.json` into a Config."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from aperture_proxy._config_errors import (
    fields_by_key,
    inner_model,
    key_path,
    known_keys,
    show,
)
from aperture_proxy.config import (
    Config,
    ConfigError,
    read_config_text,
    top_level_mapping,
    validate_config,
)

__all__ = ["import_seed_config"]


def import_seed_config(seed_path: Path) -> tuple[Config, list[str]]:
    """Convert the Pi extension's `aperture.json` into a Config.

    Returns the config and a list of warnings, one per seed key that
    aperture-proxy does not use (ignored, never fatal) or legacy key that was
    converted. Keys the seed leaves out take aperture-proxy's defaults, not the
    extension's (which had `proxy` off and `dedicated` on). Wrong types are
    ConfigErrors naming the seed file and the key, as for load_config.
    """
    hint = "Pass the path of the Pi extension's aperture.json."
    text = read_config_text(seed_path, hint) or ""
    try:
        raw = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{seed_path}: line {exc.lineno}, column {exc.colno}: {exc.msg} — "
            "this is not valid JSON",
            path=seed_path,
        ) from None
    data = top_level_mapping(raw, seed_path)
    notes: list[str] = []
    data = _migrate_seed(data, notes)
    unused: list[str] = []
    _prune_unknown(data, Config, (), unused)
    return validate_config(data, seed_path, text), notes + _collapse(unused)


def _section(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    if value is None:
        value = data[key] = {}
    return value if isinstance(value, dict) else {}


def _migrate_seed(data: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    """Rewrite the extension's older keys into today's (its own migrations)."""
    data = json.loads(json.dumps(data))  # a private deep copy
    mode = data.pop("mode", None)
    if mode in ("proxy", "dedicated"):
        _section(data, "proxy").setdefault("enabled", mode == "proxy")
        _section(data, "dedicated").setdefault("enabled", mode == "dedicated")
        notes.append(f"converted mode: {mode} into proxy.enabled/dedicated.enabled")
    elif mode is not None:
        notes.append(f"ignored mode: {show(mode)} (not proxy or dedicated)")

    legacy = data.pop("providers", None)
    checked = data.pop("checkGatewayModels", None)
    checked = checked if isinstance(checked, list) else []
    if isinstance(legacy, list):
        proxy = _section(data, "proxy")
        if "upstreamProviders" not in proxy:
            proxy["upstreamProviders"] = [
                {"id": p, "shouldCheckGatewayModels": p in checked}
                for p in legacy
                if isinstance(p, str)
            ]
            proxy.setdefault("enabled", True)
            notes.append("converted providers into proxy.upstreamProviders")
        else:
            notes.append("ignored providers: proxy.upstreamProviders is set")

    if isinstance(data.get("apertureProvider"), bool):
        _section(data, "dedicated").setdefault("enabled", data["apertureProvider"])
        notes.append("converted apertureProvider into dedicated.enabled")
    data.pop("apertureProvider", None)

    features = data.pop("features", None)
    if isinstance(features, dict) and isinstance(features.get("connectors"), bool):
        _section(data, "connectors").setdefault("enabled", features["connectors"])
        notes.append("converted features.connectors into connectors.enabled")

    upstreams = _section(data, "proxy").get("upstreamProviders")
    for entry in upstreams if isinstance(upstreams, list) else []:
        if not isinstance(entry, dict):
            continue
        for old in ("apertureProviderId", "gatewayId"):
            pinned = entry.pop(old, None)
            # The extension filled this with the id itself; only a real pin counts.
            if isinstance(pinned, str) and pinned != entry.get("id"):
                entry.setdefault("gatewayProvider", pinned)
    return data


def _prune_unknown(
    data: Any,
    model: type[BaseModel],
    loc: tuple[int | str, ...],
    unused: list[str],
) -> None:
    """Remove the keys `model` does not know, noting each one's path in `unused`."""
    if not isinstance(data, dict):
        return
    fields = fields_by_key(model)
    known = known_keys(model)
    for key in list(data):
        if key not in known:
            unused.append(key_path((*loc, key)))
            del data[key]
            continue
        inner = inner_model(fields[key].annotation) if key in fields else None
        if inner is None:
            continue
        value = data[key]
        items = enumerate(value) if isinstance(value, list) else [(None, value)]
        for index, item in items:
            where = (*loc, key) if index is None else (*loc, key, index)
            _prune_unknown(item, inner, where, unused)


def _collapse(unused: list[str]) -> list[str]:
    """One warning per ignored key, however many list entries carried it."""
    counts: dict[str, int] = {}
    for key in unused:
        generic = re.sub(r"\[\d+\]", "[*]", key)
        counts[generic] = counts.get(generic, 0) + 1
    return [
        f"ignored {key}{f' ({n} entries)' if n > 1 else ''}: aperture-proxy does "
        "not use it"
        for key, n in counts.items()
    ]
