"""The ``aperture-proxy`` command: env, exec, providers, simulate, config, errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from aperture_proxy.cli import main
from aperture_proxy.sim import SimulatedGateway

GW = "http://ai.example-tailnet.ts.net"


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("APERTURE_URL", raising=False)
    monkeypatch.delenv("APERTURE_PROXY_CONFIG", raising=False)


def cli(
    *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aperture_proxy", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
        check=False,
    )


def test_env_prints_proxy_and_ca_exports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    confdir = tmp_path / "mitm"
    assert (
        main(
            [
                "env",
                "--gateway",
                GW,
                "--listen",
                "127.0.0.1:9999",
                "--confdir",
                str(confdir),
            ]
        )
        == 0
    )
    lines = capsys.readouterr().out.splitlines()
    exports = dict(line.removeprefix("export ").split("=", 1) for line in lines)
    assert exports["HTTPS_PROXY"] == "http://127.0.0.1:9999"
    assert exports["NO_PROXY"] == "localhost,127.0.0.1,::1,ai.example-tailnet.ts.net"
    assert exports["NODE_USE_ENV_PROXY"] == "1"
    ca = confdir / "mitmproxy-ca-cert.pem"
    assert exports["NODE_EXTRA_CA_CERTS"] == exports["CODEX_CA_CERTIFICATE"] == str(ca)
    bundle = Path(exports["SSL_CERT_FILE"])
    assert exports["REQUESTS_CA_BUNDLE"] == str(bundle)
    text = bundle.read_text()
    assert ca.read_text().strip() in text
    # The system roots stay trusted: the bundle holds more than our one CA.
    assert text.count("BEGIN CERTIFICATE") > 1


def test_env_for_fish(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["env", "--gateway", GW, "--confdir", str(tmp_path), "--shell", "fish"])
    first = capsys.readouterr().out.splitlines()[0]
    assert first == "set -gx HTTPS_PROXY http://127.0.0.1:8080"


def test_exec_runs_the_command_with_the_environment(tmp_path: Path) -> None:
    script = "import os, json; print(json.dumps({k: os.environ.get(k) for k in "
    script += "('HTTPS_PROXY', 'SSL_CERT_FILE', 'NODE_EXTRA_CA_CERTS')}))"
    result = cli(
        "exec",
        "--gateway",
        GW,
        "--listen",
        "127.0.0.1:9",
        "--confdir",
        str(tmp_path),
        "--",
        sys.executable,
        "-c",
        script,
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert seen["HTTPS_PROXY"] == "http://127.0.0.1:9"
    assert seen["NODE_EXTRA_CA_CERTS"] == str(tmp_path / "mitmproxy-ca-cert.pem")
    assert "nothing listens on 127.0.0.1:9" in result.stderr


def test_exec_passes_the_exit_status_on(tmp_path: Path) -> None:
    result = cli(
        "exec",
        "--gateway",
        GW,
        "--confdir",
        str(tmp_path),
        "--",
        sys.executable,
        "-c",
        "raise SystemExit(7)",
    )
    assert result.returncode == 7


def test_exec_without_a_command_explains_usage(tmp_path: Path) -> None:
    result = cli("exec", "--gateway", GW, "--confdir", str(tmp_path))
    assert result.returncode == 2
    assert "exec needs a command" in result.stderr


def test_exec_of_a_missing_program_names_it(tmp_path: Path) -> None:
    result = cli("exec", "--gateway", GW, "--confdir", str(tmp_path), "--", "no-such-x")
    assert result.returncode == 2
    assert "command not found: no-such-x" in result.stderr


def test_providers_prints_the_routing_table(capsys: pytest.CaptureFixture[str]) -> None:
    with SimulatedGateway() as gateway:
        assert main(["providers", "--gateway", gateway.url]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines()[1:]}
    assert rows["anthropic"][:4] == [
        "anthropic",
        "id",
        "anthropic-messages",
        gateway.url,
    ]
    assert rows["gemini"][:4] == [
        "google",
        "id",
        "google-generative-ai",
        f"{gateway.url}/v1beta",
    ]
    assert "legacy" not in rows


def test_providers_with_the_gateway_down_says_so(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from aperture_proxy.demo import free_port

    url = f"http://127.0.0.1:{free_port()}"
    assert main(["providers", "--gateway", url]) == 1
    err = capsys.readouterr().err
    assert "gateway catalogue unavailable" in err
    assert f"{url}/api/providers" in err


def test_simulate_serves_on_the_port_it_prints() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "aperture_proxy", "simulate", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line.startswith("simulated Aperture gateway on http://127.0.0.1:")
        url = line.rsplit(" ", 1)[1]
        providers = httpx.get(f"{url}/api/providers", timeout=10).json()
        assert "anthropic" in [p["id"] for p in providers]
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_run_without_a_gateway_explains_how_to_set_one() -> None:
    result = cli("run")
    assert result.returncode == 2
    assert "no Aperture gateway configured" in result.stderr
    assert "--gateway" in result.stderr
    assert "run `aperture-proxy onboard` (it writes baseUrl to " in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("listen", ["8080", "127.0.0.1:", "127.0.0.1:70000", "h:p"])
def test_run_with_a_bad_listen_address_names_it(listen: str) -> None:
    result = cli("run", "--gateway", GW, "--listen", listen)
    assert result.returncode == 2
    assert f"--listen {listen!r}: expected HOST:PORT" in result.stderr


def test_run_with_a_bad_gateway_url_names_it() -> None:
    result = cli("run", "--gateway", "ftp://x")
    assert result.returncode == 2
    assert "ftp://x" in result.stderr
    assert "Traceback" not in result.stderr


def test_config_path_follows_the_environment(tmp_path: Path) -> None:
    target = tmp_path / "c.yaml"
    result = cli("config", "path", env={"APERTURE_PROXY_CONFIG": str(target)})
    assert result.stdout.strip() == str(target)


def test_config_show_prints_the_effective_file(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("baseUrl: ai\nproxy:\n  listen: 127.0.0.1:9000\n")
    result = cli("config", "--config", str(config), "show")
    assert result.returncode == 0, result.stderr
    assert "baseUrl: http://ai\n" in result.stdout
    assert "listen: 127.0.0.1:9000" in result.stdout


def test_config_import_writes_the_seed_settings(tmp_path: Path) -> None:
    seed = tmp_path / "aperture.json"
    seed.write_text(
        json.dumps(
            {
                "baseUrl": "http://ai.example-tailnet.ts.net/v1",
                "proxy": {"enabled": True},
            }
        )
    )
    target = tmp_path / "out" / "config.yaml"
    result = cli("config", "--config", str(target), "import", str(seed))
    assert result.returncode == 0, result.stderr
    assert f"wrote {target}" in result.stdout
    assert "baseUrl: http://ai.example-tailnet.ts.net\n" in target.read_text()
    again = cli("config", "--config", str(target), "import", str(seed))
    assert again.returncode == 2
    assert "--force" in again.stderr


def test_a_broken_config_file_is_reported_without_a_traceback(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(
        "proxy:\n  upstreamProviders:\n    - {id: anthropic, credentials: keep}\n"
    )
    result = cli("run", "--config", str(config), "--gateway", GW)
    assert result.returncode == 2
    assert str(config) in result.stderr
    assert "proxy.upstreamProviders[0].credentials (line 3)" in result.stderr
    assert "Traceback" not in result.stderr


def test_run_refuses_an_unknown_mitmproxy_option_before_listening() -> None:
    from aperture_proxy.demo import free_port

    listen = f"127.0.0.1:{free_port()}"
    result = cli("run", "--gateway", GW, "--listen", listen, "--set", "nonsense=1")
    assert result.returncode == 2
    assert "the proxy did not start" in result.stderr
    assert "nonsense" in result.stderr


def test_run_reports_a_port_in_use(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cli(
            "run",
            "--gateway",
            GW,
            "--listen",
            f"127.0.0.1:{port}",
            "--confdir",
            str(tmp_path),
        )
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "listening on" not in result.stdout


def test_run_with_an_unwritable_confdir_names_it(tmp_path: Path) -> None:
    afile = tmp_path / "afile"
    afile.write_text("")
    result = cli("run", "--gateway", GW, "--confdir", str(afile / "sub"))
    assert result.returncode == 2
    assert f"--confdir {afile / 'sub'}" in result.stderr
    assert "Traceback" not in result.stderr


def test_env_brackets_an_ipv6_listen_address(tmp_path: Path) -> None:
    result = cli("env", "--listen", "[::1]:8091", "--confdir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "export HTTPS_PROXY='http://[::1]:8091'\n" in result.stdout


def test_exec_keeps_a_double_dash_meant_for_the_command(tmp_path: Path) -> None:
    script = "import sys; print(sys.argv[1:])"
    result = cli(
        "exec",
        "--confdir",
        str(tmp_path),
        "--",
        sys.executable,
        "-c",
        script,
        "--",
        "x",
    )
    assert result.stdout.strip() == "['--', 'x']"


def test_demo_holds_every_round_trip() -> None:
    """The README's first command: three SDKs through a proxy started with no
    extra options at all."""
    result = cli("demo")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("✓ client key removed") == 3
    assert result.stdout.rstrip().endswith("all round trips held")
