"""A gateway's catalogue: read from its answers, intersected, cached on disk."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

import platformdirs
from pydantic import AwareDatetime, BaseModel, ValidationError

from aperture_proxy.config import APP_NAME, normalize_gateway_url, write_text_atomic

__all__ = [
    "Catalogue",
    "DiscoveryError",
    "GatewayModel",
    "GatewayProvider",
    "ModelPricing",
    "cache_path",
    "default_cache_dir",
    "intersect",
    "load_cached",
    "parse_models",
    "parse_providers",
    "read_cache",
    "write_cache",
]

log = logging.getLogger(__name__)

# Bumped when the stored shape changes; older files are then ignored, not misread.
CACHE_FORMAT = 1

UNFILTERED = (
    "the providers are not filtered: disabled providers and models you are not "
    "granted may be listed"
)


class GatewayProvider(BaseModel):
    """One provider of `/api/providers`, with its models after the intersection."""

    id: str
    name: str
    description: str = ""
    models: list[str] = []
    compatibility: dict[str, bool] = {}
    base_url: str | None = None


class ModelPricing(BaseModel):
    """Gateway pricing in USD per single token (per call for `web_search`)."""

    input: Decimal | None = None
    output: Decimal | None = None
    input_cache_read: Decimal | None = None
    input_cache_write: Decimal | None = None
    input_cache_write_1h: Decimal | None = None
    web_search: Decimal | None = None


class GatewayModel(BaseModel):
    """One entry of `/v1/models`."""

    id: str
    pricing: ModelPricing | None = None
    provider_id: str | None = None
    provider_name: str | None = None


class Catalogue(BaseModel):
    """What a gateway offers this machine, as discovery found it."""

    gateway: str
    providers: list[GatewayProvider]
    models: dict[str, GatewayModel]
    fetched_at: AwareDatetime
    from_cache: bool = False
    warnings: list[str] = []

    def provider(self, id: str) -> GatewayProvider | None:
        """The provider with this id, if the catalogue has it."""
        return next((p for p in self.providers if p.id == id), None)

    def age_seconds(self, now: datetime | None = None) -> float:
        """Seconds since the catalogue was fetched from the gateway."""
        now = now or datetime.now(UTC)
        return max(0.0, (now - self.fetched_at).total_seconds())


class DiscoveryError(Exception):
    """The gateway could not be asked, or its answer was unusable.

    `url` is the address asked (None when only a document was judged), `cause`
    what went wrong and `hint` what a person can do about it.
    """

    def __init__(self, cause: str, *, url: str | None = None, hint: str = "") -> None:
        self.cause = cause
        self.url = url
        self.hint = hint
        text = f"GET {url} failed: {cause}" if url else cause
        super().__init__(f"{text}. {hint}" if hint else text)


# --- reading the gateway's answers ---


def _kind(value: object) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if value is None:
        return "null"
    return f"a {type(value).__name__}"


def _provider_entries(raw: object) -> list[tuple[str | None, object]]:
    """The (map key, entry) pairs of the three accepted `/api/providers` shapes."""
    if isinstance(raw, dict) and "providers" in raw:
        raw = raw["providers"]
        if isinstance(raw, dict):
            return list(raw.items())
    if isinstance(raw, list):
        return [(None, entry) for entry in raw]
    raise DiscoveryError(
        f"the provider list is {_kind(raw)}; expected an array of providers, "
        '{"providers": [...]} or {"providers": {"<id>": {...}}}'
    )


def _label(index: int, key: str | None, entry: object) -> str:
    label = f"entry {index}" if key is None else f"entry {key!r}"
    if isinstance(entry, dict):
        for field in ("id", "name"):
            if isinstance(entry.get(field), str) and entry[field] != key:
                return f"{label} ({field} {entry[field]!r})"
    return label


def parse_providers(raw: object) -> tuple[list[GatewayProvider], list[str]]:
    """Read `/api/providers` leniently (SPEC §2.1).

    Entries of the wrong shape are dropped with a warning naming them; only a
    document that is none of the accepted shapes raises DiscoveryError.
    """
    providers: list[GatewayProvider] = []
    warnings: list[str] = []
    seen: set[str] = set()
    for index, (key, entry) in enumerate(_provider_entries(raw)):
        label = _label(index, key, entry)
        problem, provider = _provider(key, entry)
        if provider is not None and provider.id in seen:
            problem, provider = f"the id {provider.id!r} is listed twice", None
        if provider is None:
            warnings.append(f"/api/providers: dropped {label}: {problem}")
            continue
        seen.add(provider.id)
        providers.append(provider)
    return providers, warnings


def _provider(key: str | None, entry: object) -> tuple[str, GatewayProvider | None]:
    if not isinstance(entry, dict):
        return f"expected an object, got {_kind(entry)}", None
    ident = entry.get("id", key)
    if not isinstance(ident, str) or not ident:
        return "it has no id", None
    base_url = next(
        (entry[k] for k in ("baseurl", "baseUrl", "base_url") if entry.get(k)), None
    )
    fields = {
        "id": ident,
        "name": entry.get("name") or ident,
        "description": entry.get("description") or "",
        "models": entry.get("models") or [],
        "compatibility": entry.get("compatibility") or {},
        "base_url": base_url,
    }
    try:
        return "", GatewayProvider.model_validate(fields, strict=True)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        return f"{where}: {first['msg'].lower()} (got {first['input']!r})", None


def _price(value: object) -> Decimal | None:
    """A non-negative finite price, kept exact; None when it is not one."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    try:
        price = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return price if price.is_finite() and price >= 0 else None


def _pricing(raw: object, label: str, warnings: list[str]) -> ModelPricing | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        warnings.append(f"/v1/models: ignored the pricing of {label}: not an object")
        return None
    prices: dict[str, Decimal | None] = {}
    for field in ModelPricing.model_fields:
        if raw.get(field) is None:
            continue
        prices[field] = _price(raw[field])
        if prices[field] is None:
            warnings.append(
                f"/v1/models: ignored pricing.{field} of {label}: "
                f"{raw[field]!r} is not a price"
            )
    return ModelPricing.model_validate(prices)


def parse_models(raw: object) -> tuple[dict[str, GatewayModel], list[str]]:
    """Read `/v1/models` (OpenAI list shape) into models by id, leniently."""
    entries = raw.get("data") if isinstance(raw, dict) else raw
    if not isinstance(entries, list):
        raise DiscoveryError(
            f"the model list is {_kind(raw)} without a data array; expected "
            '{"object": "list", "data": [...]}'
        )
    models: dict[str, GatewayModel] = {}
    warnings: list[str] = []
    for index, entry in enumerate(entries):
        ident = entry.get("id") if isinstance(entry, dict) else None
        if not isinstance(entry, dict) or not isinstance(ident, str) or not ident:
            warnings.append(f"/v1/models: dropped entry {index}: it has no id")
            continue
        if ident in models:
            # Providers may share a model id; the first entry describes it here.
            continue
        meta = entry.get("metadata")
        owner = meta.get("provider") if isinstance(meta, dict) else None
        owner = owner if isinstance(owner, dict) else {}
        models[ident] = GatewayModel(
            id=ident,
            pricing=_pricing(entry.get("pricing"), f"model {ident!r}", warnings),
            provider_id=_text(owner.get("id")),
            provider_name=_text(owner.get("name")),
        )
    return models, warnings


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def intersect(
    providers: list[GatewayProvider], models: dict[str, GatewayModel]
) -> tuple[list[GatewayProvider], list[str]]:
    """Keep each provider's models that `/v1/models` grants (SPEC §2.3).

    Provider order and model order are kept; providers left with no models are
    dropped. An empty `models` leaves the providers unfiltered, with a warning.
    """
    if not models:
        return list(providers), [f"/v1/models listed no models — {UNFILTERED}"]
    kept: list[GatewayProvider] = []
    for provider in providers:
        granted = [m for m in provider.models if m in models]
        if granted:
            kept.append(provider.model_copy(update={"models": granted}))
    kept_ids = {p.id for p in kept}
    left_out = [p.id for p in providers if p.id not in kept_ids]
    if left_out:
        log.info("providers without granted models left out: %s", ", ".join(left_out))
    if providers and not kept:
        return kept, [
            f"none of the {len(models)} models of /v1/models belongs to a provider "
            "of /api/providers, so the catalogue is empty"
        ]
    return kept, []


# --- the cache on disk ---


def default_cache_dir() -> Path:
    """`~/.cache/aperture-proxy/catalogue` on Linux (honours XDG_CACHE_HOME)."""
    return platformdirs.user_cache_path(APP_NAME) / "catalogue"


def cache_path(gateway: str, cache_dir: Path | None = None) -> Path:
    """The cache file of one gateway origin: a readable slug plus a hash."""
    origin = normalize_gateway_url(gateway)
    digest = hashlib.sha256(origin.encode()).hexdigest()[:16]
    slug = re.sub(r"[^a-z0-9]+", "-", origin).strip("-")[:60]
    return (cache_dir or default_cache_dir()) / f"{slug}-{digest}.json"


def write_cache(catalogue: Catalogue, cache_dir: Path | None = None) -> Path:
    """Store `catalogue` atomically as its gateway's cache file; raises OSError."""
    path = cache_path(catalogue.gateway, cache_dir)
    stored = catalogue.model_copy(update={"from_cache": False})
    document = {"format": CACHE_FORMAT, "catalogue": stored.model_dump(mode="json")}
    write_text_atomic(path, json.dumps(document, indent=1) + "\n", mode=0o600)
    return path


def read_cache(
    gateway: str, cache_dir: Path | None = None
) -> tuple[Catalogue | None, str | None]:
    """The cached catalogue of `gateway`, or None and why it is unusable.

    A missing file is (None, None); an unreadable or corrupt one is
    (None, reason), so callers can say why they could not fall back on it.
    """
    origin = normalize_gateway_url(gateway)
    path = cache_path(origin, cache_dir)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, None
    except (OSError, UnicodeDecodeError) as exc:
        return None, f"cannot read {path} ({exc})"
    try:
        document = json.loads(text)
        if not isinstance(document, dict) or "catalogue" not in document:
            raise ValueError("not a catalogue cache document")
        if document.get("format") != CACHE_FORMAT:
            raise ValueError(f"cache format {document.get('format')!r}")
        catalogue = Catalogue.model_validate(document["catalogue"])
    except ValueError as exc:
        reason = str(exc).splitlines()[0]
        return None, f"{path} is not a usable catalogue cache ({reason})"
    if catalogue.gateway != origin:
        return None, f"{path} holds the catalogue of {catalogue.gateway}"
    return catalogue.model_copy(update={"from_cache": True}), None


def load_cached(gateway: str, cache_dir: Path | None = None) -> Catalogue | None:
    """The cached catalogue of `gateway`, if there is a usable one.

    A corrupt cache file is logged as a warning and ignored. Raises ValueError
    when `gateway` is not an http(s) URL.
    """
    catalogue, problem = read_cache(gateway, cache_dir)
    if problem:
        log.warning("ignored the cached catalogue: %s", problem)
    return catalogue
