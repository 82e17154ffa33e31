"""Fixtures for the connector tests: a simulated gateway, a private home, configs.

The gateway is one real server per session on 127.0.0.1, handed to each test
with default settings and an empty record. HOME and the XDG directories point
into the test's tmp_path, so nothing reads or writes the real home.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from aperture_proxy.sim import SimulatedGateway

_PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")
_HOME_VARIABLES = {
    "HOME": "home",
    "XDG_CONFIG_HOME": "home/.config",
    "XDG_CACHE_HOME": "home/.cache",
    "XDG_DATA_HOME": "home/.local/share",
    "XDG_STATE_HOME": "home/.local/state",
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "npm: installs a package from the npm registry into a cache"
    )


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private home directory; also clears proxy and aperture variables."""
    for name in _PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    for name in ("APERTURE_URL", "APERTURE_PROXY_CONFIG", "CODEX_HOME"):
        monkeypatch.delenv(name, raising=False)
    for name, relative in _HOME_VARIABLES.items():
        path = tmp_path / relative
        path.mkdir(parents=True, exist_ok=True)
        monkeypatch.setenv(name, str(path))
    return tmp_path / "home"


def child_env() -> dict[str, str]:
    """The environment for a child process: the test's home, no proxies."""
    return {
        k: v
        for k, v in os.environ.items()
        if k.upper() not in _PROXY_VARIABLES and not k.startswith("PYTEST_")
    }


@pytest.fixture
def own_gw() -> Iterator[SimulatedGateway]:
    """A simulated gateway of this test alone, free to be stopped and restarted."""
    gateway = SimulatedGateway()
    gateway.start()
    yield gateway
    gateway.stop()


def write_config(
    directory: Path,
    *,
    pins: Sequence[tuple[str, str]] = (),
    discovery: bool = True,
    enabled: bool = True,
    name: str = "config.yaml",
) -> Path:
    """A config file with the connectors section; pins are (connector, tool)."""
    data: dict[str, Any] = {
        "connectors": {
            "enabled": enabled,
            "discoveryTools": discovery,
            "pinnedTools": [{"connectorId": c, "toolName": t} for c, t in pins],
        }
    }
    path = directory / name
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def run_cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """`aperture-proxy ARGS…` as a real child process."""
    return subprocess.run(
        [sys.executable, "-m", "aperture_proxy", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=child_env(),
        timeout=60,
        check=False,
    )
