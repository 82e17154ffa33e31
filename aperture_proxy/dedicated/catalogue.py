"""The dedicated model catalogue: gateway models with API, base URL, capabilities, cost.

Built from discovery (SPEC §4.1) for every writer alike::

    >>> from aperture_proxy.upstreams import Api
    >>> provider_apis({"openai_chat": True, "openai_responses": True})
    (<Api.OPENAI_COMPLETIONS: 'openai-completions'>, \
<Api.OPENAI_RESPONSES: 'openai-responses'>)
    >>> per_million(ModelPricing(input=Decimal("0.0000003")))
    {'input': Decimal('0.3')}
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from urllib.parse import urlsplit

from aperture_proxy.catalogue_cache import Catalogue, GatewayProvider, ModelPricing
from aperture_proxy.config import DedicatedSettings
from aperture_proxy.dedicated.capabilities import (
    COST_NAMES,
    Capabilities,
    CapabilityResolver,
)
from aperture_proxy.providers import COMPATIBILITY_ORDER, api_from_compatibility
from aperture_proxy.routing import gateway_base
from aperture_proxy.upstreams import Api

__all__ = [
    "DedicatedModel",
    "ModelCatalogue",
    "build_catalogue",
    "per_million",
    "provider_apis",
    "select_providers",
]

# Gateway pricing field → cost name in USD per million tokens (SPEC §4.1).
PRICING_FIELDS = {
    "input": "input",
    "output": "output",
    "cacheRead": "input_cache_read",
    "cacheWrite": "input_cache_write",
}
MILLION = Decimal(1_000_000)


def provider_apis(compatibility: dict[str, bool]) -> tuple[Api, ...]:
    """The APIs a gateway provider speaks: the chosen one first, then the others.

    The first is `api_from_compatibility`'s choice; a writer whose agent cannot
    speak it takes the next one in this order.
    """
    chosen = api_from_compatibility(compatibility)
    others = [
        api
        for flag, api in COMPATIBILITY_ORDER
        if compatibility.get(flag) and api is not chosen
    ]
    return (chosen, *dict.fromkeys(others))


def per_million(pricing: ModelPricing | None) -> dict[str, Decimal]:
    """Gateway prices (USD per token) as USD per million tokens, exactly."""
    if pricing is None:
        return {}
    costs: dict[str, Decimal] = {}
    for name, attribute in PRICING_FIELDS.items():
        price = getattr(pricing, attribute)
        if price is not None:
            # normalize() drops the zeros the multiplication leaves behind.
            costs[name] = (price * MILLION).normalize()
    return costs


@dataclass(frozen=True)
class DedicatedModel:
    """One model of one gateway provider, ready for any writer."""

    id: str
    provider: str
    provider_name: str
    apis: tuple[Api, ...]
    gateway: str
    base_path: str
    capabilities: Capabilities
    cost: dict[str, Decimal]
    shared_with: tuple[str, ...] = ()
    first_of_id: bool = True

    @property
    def api(self) -> Api:
        """The API chosen from the provider's compatibility (SPEC §4.1)."""
        return self.apis[0]

    def base_url(self, api: Api | None = None) -> str:
        """The gateway base for `api` (SPEC §3.4 rule 1), no trailing slash."""
        return gateway_base(self.gateway, api or self.api, self.base_path)

    def api_for(self, speaks: Sequence[Api]) -> Api | None:
        """The first API of this model's provider that an agent speaks."""
        return next((api for api in self.apis if api in speaks), None)

    def complete_cost(self) -> dict[str, Decimal] | None:
        """All four costs per million (unknown ones 0), or None when none is known."""
        if not self.cost:
            return None
        return {name: self.cost.get(name, Decimal(0)) for name in COST_NAMES}


@dataclass
class ModelCatalogue:
    """The dedicated provider's models, in gateway order."""

    gateway: str
    models: list[DedicatedModel]
    fetched_at: datetime
    from_cache: bool = False
    warnings: list[str] = field(default_factory=list)

    def shared_ids(self) -> dict[str, list[str]]:
        """Model ids served by more than one gateway provider → those providers."""
        owners: dict[str, list[str]] = {}
        for model in self.models:
            owners.setdefault(model.id, []).append(model.provider)
        return {mid: ps for mid, ps in owners.items() if len(ps) > 1}


def select_providers(
    catalogue: Catalogue, settings: DedicatedSettings
) -> tuple[list[GatewayProvider], list[str]]:
    """The gateway providers `dedicated.providers` keeps, and warnings.

    An empty list keeps every provider; a non-empty one keeps only those listed
    with `enabled: true`, so providers the gateway adds later stay out.
    """
    if not settings.providers:
        return list(catalogue.providers), []
    wanted = [p.id for p in settings.providers if p.enabled]
    offered = {p.id for p in catalogue.providers}
    warnings = [
        f"dedicated.providers lists {ident!r}, which the gateway does not offer "
        "(or grants no models of)"
        for ident in wanted
        if ident not in offered
    ]
    return [p for p in catalogue.providers if p.id in wanted], warnings


def _base_path(provider: GatewayProvider) -> str:
    if not provider.base_url:
        return ""
    return urlsplit(provider.base_url).path


def build_catalogue(
    catalogue: Catalogue,
    settings: DedicatedSettings,
    resolver: CapabilityResolver,
) -> ModelCatalogue:
    """Discovery → provider filter → per-model API, base URL, capabilities, cost.

    Costs come from gateway pricing field by field; a field the gateway does not
    price keeps the capability catalogue's value. `/v1/models` describes a model
    id once, so providers sharing an id share its gateway price.
    """
    providers, warnings = select_providers(catalogue, settings)
    owners: dict[str, list[str]] = {}
    for provider in providers:
        for model_id in provider.models:
            owners.setdefault(model_id, []).append(provider.id)

    models: list[DedicatedModel] = []
    for provider in providers:
        apis = provider_apis(provider.compatibility)
        for model_id in provider.models:
            capabilities = resolver.resolve(provider.id, model_id)
            gateway_model = catalogue.models.get(model_id)
            priced = per_million(gateway_model.pricing if gateway_model else None)
            cost = {**capabilities.cost, **priced}
            others = tuple(p for p in owners[model_id] if p != provider.id)
            models.append(
                DedicatedModel(
                    id=model_id,
                    provider=provider.id,
                    provider_name=provider.name,
                    apis=apis,
                    gateway=catalogue.gateway,
                    base_path=_base_path(provider),
                    capabilities=capabilities,
                    cost={n: cost[n] for n in COST_NAMES if n in cost},
                    shared_with=others,
                    first_of_id=owners[model_id][0] == provider.id,
                )
            )
    return ModelCatalogue(
        gateway=catalogue.gateway,
        models=models,
        fetched_at=catalogue.fetched_at,
        from_cache=catalogue.from_cache,
        warnings=[*catalogue.warnings, *warnings],
    )
