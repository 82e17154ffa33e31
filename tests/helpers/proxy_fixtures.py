"""Fixtures for tests that need a real proxy: the simulated gateway, a real proxy
process, and client environments that trust the proxy CA the way the README tells
users to. Loaded for the whole suite by tests/conftest.py."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from aperture_proxy.agent_env import agent_environment
from aperture_proxy.demo import running_proxy
from aperture_proxy.sim import SimSettings, SimulatedGateway


@dataclass
class Proxy:
    port: int
    confdir: Path
    log: Path
    env: dict[str, str]
    flows: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def bundle(self) -> str:
        return self.env["SSL_CERT_FILE"]

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@contextlib.contextmanager
def start_proxy(
    gateway: str, confdir: Path, *, config: Path | None = None, extra: list[str] = ()
) -> Iterator[Proxy]:
    confdir.mkdir(parents=True, exist_ok=True)
    flows = confdir / "flows.mitm"
    args = ["--set", f"save_stream_file={flows}", *extra]
    with running_proxy(gateway, confdir, config=config, extra=args) as (port, _, log):
        env = agent_environment(f"127.0.0.1:{port}", confdir, gateway)
        yield Proxy(port, confdir, log, env, flows)


@pytest.fixture(scope="session")
def gateway() -> Iterator[SimulatedGateway]:
    with SimulatedGateway() as gw:
        yield gw


@pytest.fixture
def gw(gateway: SimulatedGateway) -> Iterator[SimulatedGateway]:
    """The suite's simulated gateway under a short name, reset like ``gateway``."""
    yield gateway


@pytest.fixture(autouse=True)
def _fresh_gateway(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test starts with an empty record and default simulator settings."""
    if "gateway" not in request.fixturenames:
        yield
        return
    gw = request.getfixturevalue("gateway")
    if not isinstance(gw, SimulatedGateway):
        # Some suites name their own stand-in gateway fixture "gateway".
        yield
        return
    gw.clear()
    gw.settings = SimSettings()
    yield
    gw.settings = SimSettings()


@pytest.fixture(scope="session")
def proxy(
    gateway: SimulatedGateway, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Proxy]:
    with start_proxy(gateway.url, tmp_path_factory.mktemp("proxy")) as running:
        yield running


@pytest.fixture
def client_env(proxy: Proxy, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The environment ``aperture-proxy env`` prints, applied to this process."""
    for key in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(key, raising=False)
    for key, value in proxy.env.items():
        monkeypatch.setenv(key, value)
    return proxy.env
