"""Changing the simulated gateway's settings in-process and over /_sim/settings."""

import httpx
import pydantic
import pytest

from aperture_proxy.sim import SimSettings, SimulatedGateway


def test_get_settings_returns_the_defaults(client: httpx.Client) -> None:
    assert client.get("/_sim/settings").json() == {
        "chunks": 5,
        "delay": 0.0,
        "reply": "Hello from the simulated Aperture gateway.",
        "fault": "none",
        "fault_after": 2,
        "stall_seconds": 30.0,
        "retry_after": 7,
        "stamp_events": False,
        "mcp_fault": "none",
        "mcp_session_requests": None,
    }


def test_put_changes_only_the_given_fields(
    gw: SimulatedGateway, client: httpx.Client
) -> None:
    response = client.put("/_sim/settings", json={"chunks": 3, "fault": "cut"})

    assert response.status_code == 200
    assert response.json()["chunks"] == 3
    assert (gw.settings.chunks, gw.settings.fault, gw.settings.delay) == (3, "cut", 0)


def test_put_updates_the_object_a_test_holds(
    gw: SimulatedGateway, client: httpx.Client
) -> None:
    held = gw.settings
    client.put("/_sim/settings", json={"reply": "changed"})

    assert held.reply == "changed"


def test_put_rejects_a_bad_value_naming_it(
    gw: SimulatedGateway, client: httpx.Client
) -> None:
    response = client.put("/_sim/settings", json={"delay": -1})

    assert response.status_code == 422
    assert response.json() == {
        "error": {
            "message": "simulated gateway: invalid settings: delay: Input should be "
            "greater than or equal to 0 (got -1)"
        }
    }
    assert gw.settings.delay == 0.0


def test_put_rejects_an_unknown_fault(client: httpx.Client) -> None:
    response = client.put("/_sim/settings", json={"fault": "explode"})

    assert response.status_code == 422
    assert (
        "fault: Input should be 'none', 'status_429'"
        in (response.json()["error"]["message"])
    )


def test_put_rejects_an_unknown_key(client: httpx.Client) -> None:
    response = client.put("/_sim/settings", json={"chunk": 3})

    assert response.status_code == 422
    assert response.json()["error"]["message"] == (
        "simulated gateway: invalid settings: chunk: Extra inputs are not "
        "permitted (got 3)"
    )


def test_put_leaves_everything_unchanged_when_one_field_is_bad(
    gw: SimulatedGateway, client: httpx.Client
) -> None:
    client.put("/_sim/settings", json={"chunks": 9, "retry_after": "soon"})

    assert gw.settings.chunks == 5


def test_put_rejects_a_body_that_is_not_an_object(client: httpx.Client) -> None:
    response = client.put("/_sim/settings", json=[1])

    assert response.status_code == 422
    assert response.json() == {
        "error": {"message": "simulated gateway: settings must be a JSON object"}
    }


def test_put_rejects_a_body_that_is_not_json(client: httpx.Client) -> None:
    response = client.put("/_sim/settings", content=b"chunks=3")

    assert response.status_code == 400


def test_assignment_in_process_is_validated(gw: SimulatedGateway) -> None:
    with pytest.raises(pydantic.ValidationError):
        gw.settings.chunks = 0


def test_constructor_settings_are_used() -> None:
    gateway = SimulatedGateway(settings=SimSettings(reply="custom"))

    assert gateway.settings.reply == "custom"
