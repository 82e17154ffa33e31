"""Fixtures for the real-agent and mitmweb tests.

The agents come from the npm registry at pinned versions, installed once into the
cache of ``tests/helpers/npm.py`` (``~/.cache/aperture-proxy-tests/npm`` or
``$APERTURE_TEST_NPM_CACHE``). The gateway is the simulated one and the proxy a
real ``aperture-proxy run`` process, both on 127.0.0.1; a fresh proxy per test
keeps each agent's log and saved flows apart.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from aperture_proxy.sim import SimSettings, SimulatedGateway
from tests.e2e.conftest import Proxy, start_proxy

from .harness import PROXY_DEBUG


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "agents: installs a real coding agent from the npm registry and runs it "
        "through a real proxy against the simulated gateway",
    )
    config.addinivalue_line(
        "markers", "browser: drives mitmweb in headless Chromium (Debian chromium)"
    )


@dataclass
class AgentReport:
    """One line of the summary printed at the end of the run."""

    agent: str
    version: str
    seconds: float
    result: str
    side_calls: str
    notes: str = ""


REPORTS: list[AgentReport] = []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not REPORTS:
        return
    terminalreporter.section("agents through aperture-proxy")
    for r in REPORTS:
        line = f"{r.agent} {r.version}: {r.result} in {r.seconds:.1f} s"
        terminalreporter.write_line(line)
        terminalreporter.write_line(f"    side calls: {r.side_calls}")
        if r.notes:
            terminalreporter.write_line(f"    {r.notes}")


@pytest.fixture(scope="session")
def gateway() -> Iterator[SimulatedGateway]:
    with SimulatedGateway() as gw:
        yield gw


@pytest.fixture
def reply(gateway: SimulatedGateway) -> Iterator[str]:
    """A reply unique to this test, so an agent can only print it if it asked
    the simulated gateway in this very test."""
    text = f"Hello from the simulated Aperture gateway ({uuid.uuid4().hex[:8]})."
    gateway.clear()
    gateway.settings = SimSettings(reply=text)
    yield text
    gateway.settings = SimSettings()


@pytest.fixture
def agent_proxy(gateway: SimulatedGateway, tmp_path: Path) -> Iterator[Proxy]:
    with start_proxy(gateway.url, tmp_path / "proxy", extra=PROXY_DEBUG) as proxy:
        yield proxy


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path
