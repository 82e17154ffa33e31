"""Three-way merge of generated entries into a user's file, and its saved base.

Every writer owns a few entries of an agent's file. To regenerate them without
losing the user's edits, the writer remembers what it wrote last time (the
*base*, kept under the state directory, never in the agent's file) and merges
field by field::

    >>> merge({"ctx": 64000, "out": 8192}, {"ctx": 128000, "out": 8192},
    ...       {"ctx": 200000, "out": 64000})
    {'ctx': 64000, 'out': 64000}

- a value the user changed (file ≠ base) is kept: user-defined values win;
- a value the user left alone (file = base) takes the newly generated value;
- without a base (first run, or state lost) every value in the file counts as
  the user's, and generation only fills what is missing;
- a key that was generated before, is no longer generated and was not edited is
  removed (a model the gateway dropped); keys the user added stay.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import platformdirs

from aperture_proxy.config import APP_NAME, write_text_atomic
from aperture_proxy.dedicated.files import dump_json

__all__ = ["MISSING", "GeneratedState", "Replaceable", "merge", "same"]

log = logging.getLogger(__name__)


class _Missing:
    """No value at all (distinct from JSON null)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()

# Decides, from a value's key path and the file's value, that a value the user
# did not demonstrably choose may be replaced anyway (sync's defaults rule).
Replaceable = Callable[[Sequence[str], Any], bool]


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, int | Decimal):
        return Decimal(value)
    return None


def same(a: Any, b: Any) -> bool:
    """Equal as the file means them: 3 = 3.0 = Decimal("3"), but True ≠ 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    left, right = _number(a), _number(b)
    if left is not None or right is not None:
        return left is not None and right is not None and left == right
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(type(a) is type(b) and a == b)


def merge(
    current: Any,
    base: Any,
    new: Any,
    *,
    replaceable: Replaceable | None = None,
    path: tuple[str, ...] = (),
) -> Any:
    """Merge `new` (generated now) into `current` (the file) given `base`.

    Mappings merge key by key, in the file's order with new keys appended; any
    other value (lists included) is replaced or kept whole.
    """
    if isinstance(current, dict) and isinstance(new, dict):
        known = isinstance(base, dict)
        result: dict[str, Any] = {}
        for key, value in current.items():
            was = base.get(key, MISSING) if known else MISSING
            if key in new:
                result[key] = merge(
                    value, was, new[key], replaceable=replaceable, path=(*path, key)
                )
            elif was is not MISSING and same(value, was):
                continue  # generated before, gone now, never edited
            else:
                result[key] = value
        for key, value in new.items():
            if key not in current:
                result[key] = value
        return result
    if current is MISSING:
        return new
    if base is not MISSING and same(current, base):
        return new
    if replaceable is not None and replaceable(path, current):
        return new
    return current


class GeneratedState:
    """What each writer last generated into each file: the merge base.

    Stored as JSON under `~/.local/state/aperture-proxy/generated/` (honours
    XDG_STATE_HOME), one file per output path and format.
    """

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or (
            platformdirs.user_state_path(APP_NAME) / "generated"
        )

    def _file(self, target: Path, fmt: str) -> Path:
        where = str(target.expanduser().absolute())
        digest = hashlib.sha256(where.encode()).hexdigest()[:16]
        slug = re.sub(r"[^A-Za-z0-9]+", "-", target.name).strip("-")[:40]
        return self.directory / f"{fmt}-{slug}-{digest}.json"

    def load(self, target: Path, fmt: str) -> Any:
        """The base for `target`, or MISSING when there is none usable."""
        path = self._file(target, fmt)
        try:
            document = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
        except FileNotFoundError:
            return MISSING
        except (OSError, ValueError) as exc:
            # Without a base the file's values all count as the user's: safe.
            log.warning("ignored the merge base %s: %s", path, exc)
            return MISSING
        if not isinstance(document, dict) or "generated" not in document:
            log.warning("ignored the merge base %s: not a merge base", path)
            return MISSING
        return document["generated"]

    def save(self, target: Path, fmt: str, generated: Any) -> None:
        """Remember `generated` as the base of the next merge; raises OSError."""
        document = {
            "format": fmt,
            "path": str(target.expanduser().absolute()),
            "generated": generated,
        }
        write_text_atomic(self._file(target, fmt), dump_json(document), mode=0o600)
