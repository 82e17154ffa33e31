"""Tool names from the gateway reduced to `[A-Za-z0-9_]`, with a map back."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

__all__ = ["MAX_NAME", "NameMap", "is_clean", "sanitise"]

MAX_NAME = 64
_CLEAN_RE = re.compile(r"[A-Za-z0-9_]{1,64}")
_UNSAFE_RE = re.compile(r"[^A-Za-z0-9]+")


def is_clean(name: str) -> bool:
    """Whether `name` is already a safe name: 1 to 64 of `[A-Za-z0-9_]`."""
    return _CLEAN_RE.fullmatch(name) is not None


def _tagged(name: str, digits: int) -> str:
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()
    base = _UNSAFE_RE.sub("_", name).strip("_")
    base = base[: MAX_NAME - digits - 1].rstrip("_") or "tool"
    return f"{base}_{digest[:digits]}"


def sanitise(name: str) -> str:
    """A safe name for `name`: kept when clean, else reduced and tagged with a hash.

    Runs of other characters become one `_` (leading and trailing ones are
    dropped), and the result ends in the first 8 hex digits of the SHA-256 of
    the original, so names that reduce alike still differ, and each keeps its
    safe name whatever else the gateway serves. At most 64 characters.

    >>> sanitise("github_list_repos")
    'github_list_repos'
    >>> sanitise("github.list-repos")
    'github_list_repos_5af4f9a3'
    >>> sanitise("../../.ssh/x\\"'$(id)")
    'ssh_x_id_bc9b6e82'
    >>> sanitise("")
    'tool_e3b0c442'
    """
    return name if is_clean(name) else _tagged(name, 8)


class NameMap:
    """Safe names for a set of gateway tool names, and the way back.

    A clean name is kept, any other is `sanitise`d. Should a safe name still
    be taken (by a reserved name, or a clean gateway name that looks like a
    reduced one), a longer hash is used. Clean names are placed first, so a
    reduced name never takes a name the gateway itself serves. The result
    depends only on the set of names, not on their order.

    >>> names = NameMap(["a.b", "a_b"], reserved=["x"])
    >>> names.safe("a_b")
    'a_b'
    >>> names.original(names.safe("a.b"))
    'a.b'
    """

    def __init__(self, originals: Iterable[str], reserved: Iterable[str] = ()) -> None:
        self._safe: dict[str, str] = {}
        self._original: dict[str, str] = {}
        taken = set(reserved)
        for name in sorted(set(originals), key=lambda n: (not is_clean(n), n)):
            safe = _free(name, taken)
            taken.add(safe)
            self._safe[name] = safe
            self._original[safe] = name

    def safe(self, original: str) -> str:
        """The safe name of a gateway tool name; KeyError if it was not given."""
        return self._safe[original]

    def original(self, safe: str) -> str | None:
        """The gateway tool name behind a safe name, if there is one."""
        return self._original.get(safe)

    def items(self) -> list[tuple[str, str]]:
        """(safe name, gateway name) pairs, sorted by safe name."""
        return sorted(self._original.items())


def _free(name: str, taken: set[str]) -> str:
    if is_clean(name) and name not in taken:
        return name
    for digits in (8, 16, 32, 64 - 2):
        candidate = _tagged(name, digits)
        if candidate not in taken:
            return candidate
    # 62 hex digits of SHA-256 colliding means the same name twice; sets rule that out.
    raise AssertionError(f"no free safe name for {name!r}")
