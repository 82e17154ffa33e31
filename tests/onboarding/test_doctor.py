"""`aperture-proxy doctor`: a good setup, then each thing that can be wrong."""

from __future__ import annotations

import os
import shutil
import socket
import stat
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import certifi
import pytest

from aperture_proxy.agent_env import CA_CERT
from aperture_proxy.ca_trust import read_certificates
from aperture_proxy.doctor import check_system_store
from aperture_proxy.listener_probe import probe_listener
from aperture_proxy.sim import SimulatedGateway
from tests.helpers.proxy_fixtures import Proxy, start_proxy
from tests.onboarding.conftest import CLEARED, Home


@pytest.fixture(scope="module")
def running(
    gateway: SimulatedGateway, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Proxy]:
    """A real proxy whose CA and address the good setup uses."""
    root = tmp_path_factory.mktemp("doctor-proxy")
    with pytest.MonkeyPatch.context() as patch:
        # The proxy process must not write into the real home either.
        for name in ("HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
            patch.setenv(name, str(root / name.lower()))
        for name in CLEARED:
            patch.delenv(name, raising=False)
        with start_proxy(gateway.url, root / "confdir") as proxy:
            yield proxy


def fake_node(directory: Path, version: str) -> Path:
    """A `node` that only says its version, on a PATH of its own."""
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / "node"
    script.write_text(f"#!/bin/sh\necho {version}\n", encoding="utf-8")
    script.chmod(0o755)
    return directory


@dataclass
class Setup:
    home: Home
    proxy: Proxy
    gateway: SimulatedGateway
    monkeypatch: pytest.MonkeyPatch
    run: Any

    @property
    def ca(self) -> Path:
        return self.proxy.confdir / CA_CERT

    def doctor(self, *extra: str, confdir: Path | None = None) -> tuple[int, list[str]]:
        result = self.run(
            "doctor", "--confdir", str(confdir or self.proxy.confdir), *extra
        )
        assert result.err == ""
        return result.code, result.out.splitlines()

    def node(self, version: str | None) -> None:
        directory = self.home.root / f"bin-{version or 'none'}"
        if version is not None:
            fake_node(directory, version)
        else:
            directory.mkdir(exist_ok=True)
        self.monkeypatch.setenv("PATH", str(directory))


@pytest.fixture
def setup(
    home: Home,
    running: Proxy,
    gateway: SimulatedGateway,
    monkeypatch: pytest.MonkeyPatch,
    run: Any,
) -> Setup:
    """Everything right: config, CA variables, HTTPS_PROXY, Node 24."""
    home.write_config(
        f"baseUrl: {gateway.url}\nproxy:\n  listen: 127.0.0.1:{running.port}\n"
    )
    for name in (
        "HTTPS_PROXY",
        "https_proxy",
        "NODE_EXTRA_CA_CERTS",
        "NODE_USE_ENV_PROXY",
        "SSL_CERT_FILE",
        "CODEX_CA_CERTIFICATE",
    ):
        monkeypatch.setenv(name, running.env[name])
    fake_node(home.root / "bin", "v24.3.0")
    monkeypatch.setenv("PATH", f"{home.root / 'bin'}{os.pathsep}{os.environ['PATH']}")
    return Setup(home, running, gateway, monkeypatch, run)


def line(lines: list[str], start: str) -> str:
    found = [entry for entry in lines if entry.startswith(start)]
    assert len(found) == 1, f"one line starting {start!r} in:\n" + "\n".join(lines)
    return found[0]


def fix_after(lines: list[str], start: str) -> str:
    index = lines.index(line(lines, start))
    return lines[index + 1]


def test_a_good_setup_passes_every_check(setup: Setup) -> None:
    code, lines = setup.doctor()

    port, bundle = setup.proxy.port, setup.proxy.bundle
    bundle_count = len(read_certificates(Path(bundle)))
    assert code == 0, lines
    assert lines[0] == f"✓ config: {setup.home.config} is valid"
    assert lines[1] == f"✓ gateway: {setup.gateway.url} answers: 7 providers, 11 models"
    assert lines[2] == "    anthropic     Anthropic         3 models"
    assert line(lines, "✓ CA:") == f"✓ CA: {setup.ca} and its key are present"
    assert (
        line(lines, "– system store:").endswith(
            "does not trust the proxy CA (only tools that read none of the variables "
            "below need it)"
        )
        or line(lines, "– system store:") == "– system store: none found"
    )
    assert line(lines, "✓ Node agents:") == (
        f"✓ Node agents: NODE_EXTRA_CA_CERTS={setup.ca} holds the proxy CA"
    )
    assert line(lines, "✓ Python:") == (
        f"✓ Python: SSL_CERT_FILE={bundle} holds the proxy CA among "
        f"{bundle_count} certificates"
    )
    assert line(lines, "✓ Codex:") == (
        f"✓ Codex: CODEX_CA_CERTIFICATE={setup.ca} holds the proxy CA"
    )
    assert line(lines, "✓ listen:").startswith(
        f"✓ listen: 127.0.0.1:{port} is held by a running proxy (mitmproxy "
    )
    assert line(lines, "✓ HTTPS_PROXY") == (
        f"✓ HTTPS_PROXY=http://127.0.0.1:{port} points at the running proxy"
    )
    assert line(lines, "✓ node:") == "✓ node: v24.3.0 honours NODE_USE_ENV_PROXY=1"
    assert not [entry for entry in lines if entry.startswith("✗")]
    assert lines[-1] == "all good"


# --- the config and the gateway ---


def test_an_invalid_config_is_a_failure_with_its_problems(setup: Setup) -> None:
    setup.home.write_config("proxy:\n  listn: 127.0.0.1:1\n")

    code, lines = setup.doctor()

    assert code == 1
    assert lines[:4] == [
        f"✗ config: {setup.home.config}: 1 problem:",
        "    proxy.listn (line 2): unknown key; did you mean 'listen'?",
        "  fix: correct it (`aperture-proxy config set KEY VALUE`) or rerun "
        "`aperture-proxy onboard`",
        "– gateway: not checked, the config is not valid",
    ]
    assert lines[-1] == "1 problem found" or lines[-1].endswith("problems found")


def test_no_gateway_is_a_failure(setup: Setup) -> None:
    setup.home.write_config(f"proxy:\n  listen: 127.0.0.1:{setup.proxy.port}\n")

    code, lines = setup.doctor()

    assert code == 1
    assert lines[1:3] == [
        "✗ gateway: none configured",
        "  fix: run `aperture-proxy onboard`, or set APERTURE_URL",
    ]
    assert lines[-1] == "1 problem found"


def test_an_unreachable_gateway_is_a_failure(setup: Setup, closed_port: int) -> None:
    code, lines = setup.doctor("--gateway", f"http://127.0.0.1:{closed_port}")

    assert code == 1
    assert lines[1] == (
        f"✗ gateway: GET http://127.0.0.1:{closed_port}/api/providers failed: "
        "connection refused. Check the gateway URL and that this machine is "
        "connected to the tailnet (`tailscale status`)."
    )
    assert lines[2] == (
        "  fix: check the URL (`aperture-proxy config show --sources`) and "
        "`tailscale status`"
    )


# --- the CA ---


def test_a_missing_ca_is_a_failure_and_trust_is_not_judged(
    setup: Setup, home: Home
) -> None:
    empty = home.root / "no-ca"

    code, lines = setup.doctor(confdir=empty)

    assert code == 1
    assert line(lines, "✗ CA:") == f"✗ CA: no {CA_CERT} in {empty}"
    assert fix_after(lines, "✗ CA:") == (
        "  fix: run `aperture-proxy env` or `aperture-proxy run` once; either "
        "creates it"
    )
    assert not [e for e in lines if e.startswith(("✓ Node", "✗ Node", "✗ Python"))]
    assert not (empty / CA_CERT).exists()


def test_a_ca_key_others_can_read_is_a_failure(setup: Setup, home: Home) -> None:
    confdir = home.root / "shared-ca"
    shutil.copytree(setup.proxy.confdir, confdir)
    key = confdir / "mitmproxy-ca.pem"
    key.chmod(0o644)
    setup.monkeypatch.setenv("NODE_EXTRA_CA_CERTS", str(confdir / CA_CERT))

    code, lines = setup.doctor(confdir=confdir)

    assert code == 1
    assert line(lines, "✗ CA:") == (
        f"✗ CA: its private key {key} is readable by other users"
    )
    assert fix_after(lines, "✗ CA:") == f"  fix: chmod 600 {key}"
    assert stat.S_IMODE(key.stat().st_mode) == 0o644  # reported, not changed


# --- who trusts the CA ---


ENV_FIX = (
    '  fix: eval "$(aperture-proxy env)" in this shell, or start agents with '
    "`aperture-proxy exec -- AGENT`"
)


def test_node_without_its_variable_is_a_failure(setup: Setup) -> None:
    setup.monkeypatch.delenv("NODE_EXTRA_CA_CERTS")

    code, lines = setup.doctor()

    assert code == 1
    assert line(lines, "✗ Node agents") == (
        "✗ Node agents: NODE_EXTRA_CA_CERTS is not set"
    )
    assert fix_after(lines, "✗ Node agents") == ENV_FIX


def test_a_variable_naming_another_bundle_is_a_failure(setup: Setup) -> None:
    setup.monkeypatch.setenv("NODE_EXTRA_CA_CERTS", certifi.where())

    code, lines = setup.doctor()

    assert code == 1
    assert line(lines, "✗ Node agents") == (
        f"✗ Node agents: NODE_EXTRA_CA_CERTS={certifi.where()} does not hold the "
        "proxy CA"
    )


def test_a_variable_naming_a_missing_file_is_a_failure(
    setup: Setup, home: Home
) -> None:
    missing = home.root / "gone.pem"
    setup.monkeypatch.setenv("SSL_CERT_FILE", str(missing))
    setup.monkeypatch.setenv("CODEX_CA_CERTIFICATE", str(setup.ca))

    code, lines = setup.doctor()

    assert code == 1
    assert line(lines, "✗ Python") == (
        f"✗ Python: SSL_CERT_FILE={missing}: No such file or directory"
    )


def test_python_with_the_lone_ca_is_a_failure(setup: Setup) -> None:
    setup.monkeypatch.setenv("SSL_CERT_FILE", str(setup.ca))

    code, lines = setup.doctor()

    assert code == 1
    assert line(lines, "✗ Python") == (
        f"✗ Python: SSL_CERT_FILE={setup.ca} holds only the proxy CA, so every "
        "other site fails"
    )
    assert fix_after(lines, "✗ Python") == (
        "  fix: point it at the bundle `aperture-proxy env` writes "
        "(aperture-proxy-ca-bundle.pem)"
    )


def test_codex_falls_back_to_ssl_cert_file(setup: Setup) -> None:
    setup.monkeypatch.delenv("CODEX_CA_CERTIFICATE")

    code, lines = setup.doctor()

    assert code == 0, lines
    assert line(lines, "✓ Codex").startswith(
        f"✓ Codex: SSL_CERT_FILE={setup.proxy.bundle} holds the proxy CA among "
    )


def test_a_system_store_holding_the_ca_trusts_it(setup: Setup, home: Home) -> None:
    store = home.root / "ca-certificates.crt"
    store.write_bytes(Path(certifi.where()).read_bytes() + setup.ca.read_bytes())
    ca = read_certificates(setup.ca)[0]

    finding = check_system_store(ca, store, setup.ca)

    assert finding.ok is True
    assert finding.text == f"system store: {store} trusts the proxy CA"


def test_a_system_store_without_the_ca_is_a_note_naming_the_file_to_add(
    setup: Setup,
) -> None:
    ca = read_certificates(setup.ca)[0]

    finding = check_system_store(ca, Path(certifi.where()), setup.ca)

    assert finding.ok is None
    assert finding.fix == (
        f"on Debian/Ubuntu: sudo cp {setup.ca} /usr/local/share/ca-certificates/"
        "aperture-proxy.crt && sudo update-ca-certificates"
    )


# --- the listener and HTTPS_PROXY ---


@pytest.fixture
def impostor() -> Iterator[int]:
    """A listener that answers every connection like a web server, not mitmproxy."""
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                conn.recv(4096)
                conn.sendall(b"HTTP/1.1 404 Not Found\r\nServer: nginx\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield port
    # shutdown wakes the blocked accept(); close alone does not on Linux.
    server.shutdown(socket.SHUT_RDWR)
    server.close()
    thread.join(timeout=5)
    assert not thread.is_alive()


def test_a_port_held_by_something_else_is_a_failure(
    setup: Setup, impostor: int
) -> None:
    setup.home.write_config(
        f"baseUrl: {setup.gateway.url}\nproxy:\n  listen: 127.0.0.1:{impostor}\n"
    )
    setup.monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{impostor}")
    setup.monkeypatch.setenv("https_proxy", f"http://127.0.0.1:{impostor}")

    code, lines = setup.doctor()

    assert code == 1
    assert line(lines, "✗ listen") == (
        f"✗ listen: 127.0.0.1:{impostor} is in use by something that is not "
        "mitmproxy (HTTP/1.1 404 Not Found)"
    )
    assert fix_after(lines, "✗ listen") == (
        "  fix: stop it, or pick another address: aperture-proxy config set "
        "proxy.listen 127.0.0.1:8090"
    )
    assert line(lines, "✗ HTTPS_PROXY") == (
        f"✗ HTTPS_PROXY=http://127.0.0.1:{impostor} points at 127.0.0.1:{impostor}, "
        "where something else listens"
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_https_proxy_at_a_free_port_is_a_failure(setup: Setup) -> None:
    closed_port = free_port()
    setup.monkeypatch.setenv("HTTPS_PROXY", f"http://localhost:{closed_port}")
    setup.monkeypatch.delenv("https_proxy")

    code, lines = setup.doctor("--listen", f"127.0.0.1:{closed_port}")

    assert code == 1
    assert line(lines, "✓ listen") == (
        f"✓ listen: 127.0.0.1:{closed_port} is free; `aperture-proxy run` can "
        "listen there"
    )
    assert line(lines, "✗ HTTPS_PROXY") == (
        f"✗ HTTPS_PROXY=http://localhost:{closed_port} points at the proxy, but "
        "nothing listens there"
    )
    assert fix_after(lines, "✗ HTTPS_PROXY") == "  fix: start it: aperture-proxy run"


@pytest.mark.parametrize(
    ("upper", "lower", "expected"),
    [
        (None, None, "✗ HTTPS_PROXY is not set: agents started here go straight to "
         "the providers"),
        ("http://127.0.0.1:1", None, "✗ HTTPS_PROXY=http://127.0.0.1:1 is not the "
         "proxy's address 127.0.0.1:{port}"),
        ("http://127.0.0.1:{port}", "http://127.0.0.1:1",
         "✗ HTTPS_PROXY and https_proxy differ; tools pick either"),
        ("https://127.0.0.1:{port}", None, "✗ HTTPS_PROXY=https://127.0.0.1:{port}: "
         "the proxy speaks plain http://"),
        ("http://user:secret@127.0.0.1:1", None, "✗ HTTPS_PROXY=http://127.0.0.1:1 "
         "is not the proxy's address 127.0.0.1:{port}"),
    ],
)  # fmt: skip
def test_https_proxy_that_misses_the_proxy_is_a_failure(
    setup: Setup, upper: str | None, lower: str | None, expected: str
) -> None:
    port = setup.proxy.port
    for name, value in (("HTTPS_PROXY", upper), ("https_proxy", lower)):
        if value is None:
            setup.monkeypatch.delenv(name, raising=False)
        else:
            setup.monkeypatch.setenv(name, value.format(port=port))

    code, lines = setup.doctor()

    assert code == 1
    assert line(lines, "✗ HTTPS_PROXY") == expected.format(port=port)
    assert fix_after(lines, "✗ HTTPS_PROXY") == ENV_FIX
    assert "secret" not in "\n".join(lines)


# --- Node ---


@pytest.mark.parametrize(
    ("version", "node_use_env_proxy", "expected"),
    [
        ("v20.20.2", "1", "– node: v20.20.2 ignores NODE_USE_ENV_PROXY (Node 24 "
         "reads it); agents must use their own proxy support (Claude Code, Codex, "
         "Gemini CLI, Pi and opencode do)"),
        ("v24.3.0", None, "– node: v24.3.0 honours NODE_USE_ENV_PROXY=1, which is "
         "not set: Node tools without their own proxy support go around the proxy"),
        (None, "1", "– node: not found (only Node-based agents need it)"),
    ],
)  # fmt: skip
def test_node_notes_are_not_failures(
    setup: Setup, version: str | None, node_use_env_proxy: str | None, expected: str
) -> None:
    setup.node(version)
    if node_use_env_proxy is None:
        setup.monkeypatch.delenv("NODE_USE_ENV_PROXY")

    code, lines = setup.doctor()

    assert code == 0, lines
    assert line(lines, "– node") == expected


def test_a_port_bound_but_not_listening_counts_as_taken(closed_port: int) -> None:
    assert probe_listener("127.0.0.1", closed_port) == (
        "other",
        "taken, but nothing accepts connections",
    )
