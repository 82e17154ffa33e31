"""What every writer shares: the plan of one file change, and applying it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from aperture_proxy.dedicated.catalogue import DedicatedModel, ModelCatalogue
from aperture_proxy.dedicated.files import read_existing, unified_diff, write_output
from aperture_proxy.dedicated.merge import MISSING, GeneratedState, Replaceable, merge
from aperture_proxy.upstreams import Api

__all__ = [
    "Placed",
    "Plan",
    "Writer",
    "apply_plan",
    "left_out_note",
    "make_plan",
    "merge_owned",
    "place",
    "shared_note",
]

log = logging.getLogger(__name__)


@dataclass
class Plan:
    """One output file before and after generation."""

    path: Path
    old: str | None
    new: str
    generated: Any
    notes: list[str] = field(default_factory=list)
    lossy: bool = False  # the old file had comments that cannot be kept

    @property
    def changed(self) -> bool:
        """Whether writing would change the file."""
        return self.old != self.new

    def diff(self) -> str:
        """The change as a unified diff."""
        return unified_diff(self.path, self.old, self.new)


class Writer(Protocol):
    """One output format: where its file lives and how to render it."""

    name: str
    speaks: tuple[Api, ...]

    def default_path(self, env: Mapping[str, str]) -> Path:
        """The agent's own file for this format."""
        ...

    def render(
        self,
        catalogue: ModelCatalogue,
        old: str | None,
        path: Path,
        base: Any,
        replaceable: Replaceable | None = None,
    ) -> Plan:
        """The new file text; raises OutputError when `old` is unusable."""
        ...


def make_plan(
    writer: Writer,
    catalogue: ModelCatalogue,
    path: Path,
    state: GeneratedState,
    replaceable: Replaceable | None = None,
) -> Plan:
    """Read the file and its merge base, and render the new file. Writes nothing."""
    old = read_existing(path)
    base = state.load(path, writer.name) if old is not None else MISSING
    return writer.render(catalogue, old, path, base, replaceable)


def apply_plan(plan: Plan, writer: Writer, state: GeneratedState) -> Path | None:
    """Write the planned file (atomically) and remember its base.

    Returns the backup path when the old file had comments that could not be
    kept. Raises OutputError when the file cannot be written.
    """
    backup = None
    if plan.changed:
        backup = write_output(plan.path, plan.new, backup=plan.lossy)
    try:
        state.save(plan.path, writer.name, plan.generated)
    except OSError as exc:
        # The file is fine; the next run just treats all its values as the user's.
        log.warning("could not remember what was generated into %s: %s", plan.path, exc)
    return backup


def merge_owned(
    container: dict[str, Any],
    owned: Callable[[str], bool],
    generated: dict[str, Any],
    base: Any,
    replaceable: Replaceable | None = None,
) -> dict[str, Any]:
    """Merge `generated` into the keys of `container` this writer owns.

    Keys it does not own keep their value and place; owned keys merge three-way
    (see `merge`); new ones are appended.
    """
    current = {k: v for k, v in container.items() if owned(k)}
    merged = merge(current, base, generated, replaceable=replaceable)
    result: dict[str, Any] = {}
    for key, value in container.items():
        if not owned(key):
            result[key] = value
        elif key in merged:
            result[key] = merged[key]
    for key, value in merged.items():
        if key not in result:
            result[key] = value
    return result


def left_out_note(fmt: str, models: list[DedicatedModel]) -> list[str]:
    """One line naming the models an agent cannot reach through the gateway."""
    if not models:
        return []
    by_provider: dict[str, list[str]] = {}
    for model in models:
        by_provider.setdefault(f"{model.provider} ({model.api})", []).append(model.id)
    parts = [f"{p}: {', '.join(ids)}" for p, ids in by_provider.items()]
    return [
        f"{fmt}: left out models whose provider speaks no API {fmt} can use here — "
        + "; ".join(parts)
    ]


@dataclass(frozen=True)
class Placed:
    """A model an agent can reach, in the API it will use."""

    model: DedicatedModel
    api: Api
    primary: bool  # the first reachable model with this id, in gateway order


def place(
    catalogue: ModelCatalogue, speaks: tuple[Api, ...]
) -> tuple[list[Placed], list[DedicatedModel]]:
    """The models an agent speaking `speaks` can use, and those it cannot."""
    placed: list[Placed] = []
    left_out: list[DedicatedModel] = []
    seen: set[str] = set()
    for model in catalogue.models:
        api = model.api_for(speaks)
        if api is None:
            left_out.append(model)
            continue
        placed.append(Placed(model, api, model.id not in seen))
        seen.add(model.id)
    return placed, left_out


def shared_note(
    fmt: str, placed: list[Placed], how: Callable[[Placed], str]
) -> list[str]:
    """One line per model id several gateway providers serve: where each went."""
    by_id: dict[str, list[Placed]] = {}
    for entry in placed:
        by_id.setdefault(entry.model.id, []).append(entry)
    return [
        f"{fmt}: {mid} is served by {', '.join(e.model.provider for e in group)}: "
        + "; ".join(f"{e.model.provider} → {how(e)}" for e in group)
        for mid, group in by_id.items()
        if len(group) > 1
    ]
