"""The catalogue endpoints: /api/providers, /v1/models, /api/connectors."""

from decimal import Decimal

import httpx


def test_providers_lists_every_provider_in_order(client: httpx.Client) -> None:
    providers = client.get("/api/providers").json()

    assert [p["id"] for p in providers] == [
        "anthropic",
        "openai",
        "openai-codex",
        "gemini",
        "vertex",
        "bedrock",
        "zai",
        "legacy",
    ]


def test_provider_entry_has_the_documented_shape(client: httpx.Client) -> None:
    openai = client.get("/api/providers").json()[1]

    assert openai == {
        "id": "openai",
        "name": "OpenAI",
        "description": "OpenAI models through Chat Completions and Responses",
        "models": ["gpt-5.1", "gpt-5.1-codex", "gpt-4.1-mini"],
        "compatibility": {"openai_chat": True, "openai_responses": True},
    }


def test_models_omits_the_disabled_provider(client: httpx.Client) -> None:
    data = client.get("/v1/models").json()["data"]

    assert "old-model" not in {m["id"] for m in data}
    assert "legacy" not in {m["metadata"]["provider"]["id"] for m in data}


def test_models_lists_a_shared_model_once_per_provider(client: httpx.Client) -> None:
    data = client.get("/v1/models").json()["data"]

    owners = [
        m["metadata"]["provider"]["id"] for m in data if m["id"] == "gpt-5.1-codex"
    ]
    assert owners == ["openai", "openai-codex"]


def test_models_entry_carries_pricing_per_single_token(client: httpx.Client) -> None:
    body = client.get("/v1/models").json()
    sonnet = body["data"][0]

    assert body["object"] == "list"
    assert sonnet == {
        "id": "claude-sonnet-4-5",
        "object": "model",
        "created": 1735689600,
        "owned_by": "anthropic",
        "pricing": {
            "input": "0.000003",
            "output": "0.000015",
            "input_cache_read": "0.0000003",
            "input_cache_write": "0.00000375",
        },
        "metadata": {"provider": {"id": "anthropic", "name": "Anthropic"}},
    }


def test_every_price_is_a_plain_decimal_string(client: httpx.Client) -> None:
    data = client.get("/v1/models").json()["data"]

    prices = [value for m in data for value in m["pricing"].values()]
    assert prices
    assert all("e" not in p.lower() and Decimal(p) >= 0 for p in prices)


def test_models_covers_every_enabled_provider_model(client: httpx.Client) -> None:
    providers = client.get("/api/providers").json()
    data = client.get("/v1/models").json()["data"]

    served = {(m["metadata"]["provider"]["id"], m["id"]) for m in data}
    expected = {
        (p["id"], m) for p in providers if p["id"] != "legacy" for m in p["models"]
    }
    assert served == expected


def test_connectors_cover_every_status_aperture_reports(client: httpx.Client) -> None:
    from aperture_proxy.sim.mcp import connectors_body

    response = client.get("/api/connectors")

    assert response.status_code == 200
    assert response.json() == connectors_body()
    statuses = {c["status"] for c in response.json()["connectors"]}
    assert statuses == {"Ready", "Needs auth", "Misconfigured", "No access"}
