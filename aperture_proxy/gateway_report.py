"""A live look at a gateway for people: what it serves, or why it did not answer."""

from __future__ import annotations

from aperture_proxy.catalogue_cache import Catalogue
from aperture_proxy.gateway import discover_sync
from aperture_proxy.prompts import printable

__all__ = ["ask_gateway", "model_count", "plural", "serves_line", "summary_lines"]

HEALTH_TIMEOUT = 10.0


def ask_gateway(gateway: str, timeout: float = HEALTH_TIMEOUT) -> Catalogue:
    """Ask `/api/providers` and `/v1/models` now, never the cached catalogue.

    Raises DiscoveryError naming the URL and the cause.
    """
    return discover_sync(gateway, timeout=timeout, use_cache=False)


def model_count(catalogue: Catalogue) -> int:
    """Distinct model ids the gateway grants this machine."""
    if catalogue.models:
        return len(catalogue.models)
    return len({m for p in catalogue.providers for m in p.models})


def plural(count: int, word: str) -> str:
    """`1 model`, `2 models`."""
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def serves_line(catalogue: Catalogue) -> str:
    """`http://ai answers: 3 providers, 7 models`."""
    providers = plural(len(catalogue.providers), "provider")
    models = plural(model_count(catalogue), "model")
    return f"{catalogue.gateway} answers: {providers}, {models}"


def summary_lines(catalogue: Catalogue, indent: str = "    ") -> list[str]:
    """One line per provider with its model count, then the gateway's warnings."""
    rows = [
        (printable(p.id, 40), printable(p.name, 40), plural(len(p.models), "model"))
        for p in catalogue.providers
    ]
    widths = [max((len(row[i]) for row in rows), default=0) for i in range(2)]
    lines = [
        f"{indent}{ident.ljust(widths[0])}  {name.ljust(widths[1])}  {count}"
        for ident, name, count in rows
    ]
    if not rows:
        lines.append(f"{indent}(no provider grants this machine any model)")
    lines += [f"{indent}note: {printable(w, 300)}" for w in catalogue.warnings]
    return lines
