"""Starting and stopping the simulated gateway, in a thread and as a process."""

import signal
import subprocess
import sys
import threading
import time

import httpx
import pytest

from aperture_proxy.sim import SimSettings, SimulatedGateway

_SERVE = """
from aperture_proxy.sim import serve
serve("127.0.0.1", 0, ready=lambda url: print(url, flush=True))
print("stopped", flush=True)
"""


def test_url_is_on_the_loopback_with_the_bound_port() -> None:
    with SimulatedGateway() as gw:
        host, port = gw.url.removeprefix("http://").split(":")

        assert host == "127.0.0.1"
        assert int(port) > 0
        assert httpx.get(f"{gw.url}/v1/models", trust_env=False).status_code == 200


def test_url_before_start_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="no port until start"):
        _ = SimulatedGateway().url


def test_stopped_gateway_refuses_connections_then_restarts_on_the_same_port() -> None:
    gw = SimulatedGateway().start()
    url = gw.url
    gw.stop()

    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/v1/models", trust_env=False)

    with gw:
        assert gw.url == url
        assert httpx.get(f"{url}/v1/models", trust_env=False).status_code == 200


def test_starting_twice_is_an_error() -> None:
    with SimulatedGateway() as gw, pytest.raises(RuntimeError, match="already runs"):
        gw.start()


def test_stop_ends_a_stalled_request_at_once() -> None:
    gw = SimulatedGateway(settings=SimSettings(fault="stall", stall_seconds=30))
    gw.start()
    outcome: list[object] = []

    def call() -> None:
        try:
            body = {"model": "gpt-5.1", "messages": []}
            url = f"{gw.url}/v1/chat/completions"
            outcome.append(httpx.post(url, json=body, trust_env=False).status_code)
        except httpx.HTTPError as exc:
            outcome.append(type(exc))

    caller = threading.Thread(target=call)
    caller.start()
    while not gw.requests():
        time.sleep(0.02)

    started = time.monotonic()
    gw.stop()
    caller.join(5)

    assert time.monotonic() - started < 2
    assert outcome in ([500], [httpx.RemoteProtocolError])


def test_serve_prints_ready_and_stops_cleanly_on_ctrl_c() -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", _SERVE],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        providers = httpx.get(f"{url}/api/providers", trust_env=False)

        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=10)
    finally:
        process.kill()

    assert providers.status_code == 200
    assert rest == "stopped\n"
    assert process.returncode == 0
