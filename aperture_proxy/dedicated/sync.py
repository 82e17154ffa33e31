"""`sync`: real capability values into Pi's models.json, and what is left on defaults.

Generation keeps every value a user chose. A value equal to the safe default
(128000 / 8192 / text / no reasoning) is not a choice anyone is likely to have
made on purpose, so `sync` lets a capability source replace it even when the
file's history is unknown (a models.json written by the Pi extension, say).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aperture_proxy.dedicated.capabilities import (
    DEFAULT_CONTEXT,
    DEFAULT_INPUT,
    DEFAULT_MAX_OUTPUT,
    DEFAULT_REASONING,
    DEFAULTS_SOURCE,
)
from aperture_proxy.dedicated.catalogue import ModelCatalogue
from aperture_proxy.dedicated.files import parse_json_document
from aperture_proxy.dedicated.merge import same
from aperture_proxy.dedicated.pi import PiWriter, aperture_models
from aperture_proxy.dedicated.writer import Plan

__all__ = ["PI_DEFAULTS", "format_table", "on_defaults", "replace_defaults"]

# Pi's capability fields → the safe default and the capability it comes from.
PI_DEFAULTS: dict[str, tuple[Any, str]] = {
    "contextWindow": (DEFAULT_CONTEXT, "context"),
    "maxTokens": (DEFAULT_MAX_OUTPUT, "max_output"),
    "input": (list(DEFAULT_INPUT), "input"),
    "reasoning": (DEFAULT_REASONING, "reasoning"),
}


def replace_defaults(path: Sequence[str], current: Any) -> bool:
    """The merge rule of `sync`: a model's capability still on its default."""
    if len(path) != 4 or path[1] != "models" or path[3] not in PI_DEFAULTS:
        return False
    return same(current, PI_DEFAULTS[path[3]][0])


def on_defaults(
    plan: Plan, catalogue: ModelCatalogue
) -> list[tuple[str, str, list[str]]]:
    """(Pi provider, model id, fields) for models whose values are still defaults.

    A field counts when its value in the new file equals the safe default (or is
    missing) and no capability source knows the model's real value.
    """
    doc, _ = parse_json_document(plan.new, plan.path)
    placements = PiWriter().placements(catalogue)
    rows = []
    for provider, _, model in aperture_models(doc):
        ident = model.get("id")
        if not isinstance(ident, str):
            continue
        entry = placements.get((provider, ident))
        fields = []
        for field, (default, capability) in PI_DEFAULTS.items():
            if field in model and not same(model[field], default):
                continue
            known = entry is not None and (
                entry.model.capabilities.sources.get(capability) != DEFAULTS_SOURCE
            )
            if not known:
                fields.append(field)
        if fields:
            rows.append((provider, ident, fields))
    return rows


def format_table(rows: list[tuple[str, str, list[str]]]) -> str:
    """The models still on defaults as aligned columns."""
    lines = [("provider", "model", "on the safe defaults")]
    lines += [(p, m, ", ".join(f)) for p, m, f in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(2)]
    return "\n".join(
        f"{line[0].ljust(widths[0])}  {line[1].ljust(widths[1])}  {line[2]}"
        for line in lines
    )
