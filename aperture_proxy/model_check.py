"""Whether the gateway serves the model a request asks for (SPEC §3.7).

>>> from datetime import UTC, datetime
>>> from aperture_proxy.gateway import GatewayProvider
>>> catalogue = Catalogue(gateway="http://ai", fetched_at=datetime.now(UTC), models={},
...     providers=[GatewayProvider(id="anthropic", name="A", models=["claude-x"])])
>>> is_missing(catalogue, "anthropic", "claude-x")
False
>>> is_missing(catalogue, "anthropic", "other-model")
True
>>> is_missing(catalogue, None, "m") is None
True
>>> format_missing({"anthropic": ["a", "b", "c", "d", "e", "f", "g"]})
'anthropic: a, b, c, d, e and 2 more'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from aperture_proxy.gateway import Catalogue

SHOWN = 5


def is_missing(
    catalogue: Catalogue | None, provider_id: str | None, model: str | None
) -> bool | None:
    """True when the provider lacks the model; None when that cannot be told
    (no catalogue, no matching gateway provider, or no model in the request)."""
    if catalogue is None or provider_id is None or not model:
        return None
    provider = catalogue.provider(provider_id)
    if provider is None:
        return None
    return model not in provider.models


def missing_models(
    catalogue: Catalogue, provider_id: str, models: Iterable[str]
) -> list[str]:
    """The ``models`` the gateway provider does not serve, in the given order."""
    return [m for m in dict.fromkeys(models) if is_missing(catalogue, provider_id, m)]


def format_missing(missing: Mapping[str, list[str]], shown: int = SHOWN) -> str:
    """One line per provider: the first ``shown`` names, then "and N more"."""
    lines = []
    for provider, models in missing.items():
        names = ", ".join(models[:shown])
        if len(models) > shown:
            names += f" and {len(models) - shown} more"
        lines.append(f"{provider}: {names}")
    return "\n".join(lines)
