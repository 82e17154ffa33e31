"""`aperture-proxy doctor`: is this machine and this shell set up to use the proxy?

Each check prints ✓ (fine), ✗ (a problem, with a one-line fix) or – (a note
that needs no action). The exit status is 1 when any check is ✗. Nothing is
changed: a missing CA is reported, not created.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from aperture_proxy import config as config_mod
from aperture_proxy.agent_env import BUNDLE, CA_CERT, confdir_path
from aperture_proxy.ca_trust import expired, read_certificates, system_store
from aperture_proxy.catalogue_cache import DiscoveryError
from aperture_proxy.cli import _common, _hostport, _proxy_place
from aperture_proxy.gateway_report import ask_gateway, serves_line, summary_lines
from aperture_proxy.listener_probe import probe_listener

__all__ = [
    "Finding",
    "check_https_proxy",
    "check_node",
    "check_trust",
    "cmd_doctor",
    "register",
]

CA_KEY = "mitmproxy-ca.pem"
ENV_FIX = 'eval "$(aperture-proxy env)" in this shell, or start agents with ' + (
    "`aperture-proxy exec -- AGENT`"
)
NODE_ENV_PROXY_MAJOR = 24
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}
_WILDCARD = {"0.0.0.0", "::", ""}


@dataclass
class Finding:
    """One check's outcome: ok True (✓), False (✗) or None (a note)."""

    ok: bool | None
    text: str
    fix: str = ""
    details: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        mark = {True: "✓", False: "✗", None: "–"}[self.ok]
        out = [f"{mark} {self.text}"]
        out += [f"    {line}" for line in self.details]
        if self.fix and self.ok is not True:
            out.append(f"  fix: {self.fix}")
        return out


# --- config and gateway ---


def check_config(args: argparse.Namespace) -> tuple[Finding, config_mod.Config | None]:
    path = config_mod.resolve_config_path(args.config)
    try:
        config = config_mod.load_config(
            path, gateway=args.gateway, must_exist=bool(args.config)
        )
    except config_mod.ConfigError as exc:
        first, *rest = str(exc).splitlines()
        fix = (
            "correct it (`aperture-proxy config set KEY VALUE`) or rerun "
            "`aperture-proxy onboard`"
        )
        return Finding(False, f"config: {first}", fix, [r.strip() for r in rest]), None
    if not path.exists():
        return Finding(None, f"config: no file at {path}; defaults apply"), config
    return Finding(True, f"config: {path} is valid"), config


def check_gateway(config: config_mod.Config | None) -> Finding:
    if config is None:
        return Finding(None, "gateway: not checked, the config is not valid")
    if not config.base_url:
        return Finding(
            False,
            "gateway: none configured",
            "run `aperture-proxy onboard`, or set APERTURE_URL",
        )
    try:
        catalogue = ask_gateway(config.base_url)
    except DiscoveryError as exc:
        return Finding(
            False,
            f"gateway: {exc}",
            "check the URL (`aperture-proxy config show --sources`) and "
            "`tailscale status`",
        )
    details = [line.strip() for line in summary_lines(catalogue, indent="")]
    return Finding(True, f"gateway: {serves_line(catalogue)}", details=details)


# --- the CA and who trusts it ---


def check_ca(confdir: Path) -> tuple[Finding, bytes | None]:
    cert = confdir / CA_CERT
    fix = "run `aperture-proxy env` or `aperture-proxy run` once; either creates it"
    try:
        found = read_certificates(cert)
    except FileNotFoundError:
        return Finding(False, f"CA: no {CA_CERT} in {confdir}", fix), None
    except OSError as exc:
        return Finding(False, f"CA: {cert}: {exc.strerror or exc}", fix), None
    if len(found) != 1:
        return Finding(False, f"CA: {cert} holds no single certificate", fix), None
    if expired(found[0]):
        return Finding(
            False,
            f"CA: {cert} has expired",
            f"move {confdir} away and run `aperture-proxy env` to make a new CA",
        ), None
    key = confdir / CA_KEY
    if not key.is_file():
        return Finding(
            False, f"CA: {cert} is there but its key {key} is not", fix
        ), None
    if key.stat().st_mode & 0o077:
        return Finding(
            False,
            f"CA: its private key {key} is readable by other users",
            f"chmod 600 {key}",
        ), found[0]
    return Finding(True, f"CA: {cert} and its key are present"), found[0]


def _holds(path: Path, ca: bytes) -> tuple[bool, int]:
    certs = read_certificates(path)
    return ca in certs, len(certs)


def check_system_store(ca: bytes, store: Path | None, cert: Path) -> Finding:
    """Whether the system's bundle holds the proxy CA (`cert` is its file)."""
    if store is None:
        return Finding(None, "system store: none found")
    try:
        trusted, _ = _holds(store, ca)
    except OSError as exc:
        return Finding(None, f"system store: {store}: {exc.strerror or exc}")
    if trusted:
        return Finding(True, f"system store: {store} trusts the proxy CA")
    return Finding(
        None,
        f"system store: {store} does not trust the proxy CA (only tools that read "
        "none of the variables below need it)",
        f"on Debian/Ubuntu: sudo cp {cert} /usr/local/share/ca-certificates/"
        "aperture-proxy.crt && sudo update-ca-certificates",
    )


def check_trust(
    env: Mapping[str, str],
    ca: bytes,
    agents: str,
    variable: str,
    *,
    fallback: str | None = None,
    needs_roots: bool = False,
) -> Finding:
    """Whether the file `variable` names holds the proxy CA, for `agents`.

    `fallback` is a variable the agents read when `variable` is unset.
    `needs_roots`: the file replaces the system roots, so the proxy CA alone
    breaks every other site.
    """
    name = variable
    value = env.get(variable)
    if not value and fallback and env.get(fallback):
        name, value = fallback, env[fallback]
    if not value:
        return Finding(False, f"{agents}: {variable} is not set", ENV_FIX)
    path = Path(value).expanduser()
    try:
        trusted, count = _holds(path, ca)
    except OSError as exc:
        return Finding(
            False, f"{agents}: {name}={value}: {exc.strerror or exc}", ENV_FIX
        )
    if not trusted:
        return Finding(
            False, f"{agents}: {name}={value} does not hold the proxy CA", ENV_FIX
        )
    if needs_roots and count == 1:
        return Finding(
            False,
            f"{agents}: {name}={value} holds only the proxy CA, so every other "
            "site fails",
            f"point it at the bundle `aperture-proxy env` writes ({BUNDLE})",
        )
    what = "the proxy CA" if count == 1 else f"the proxy CA among {count} certificates"
    return Finding(True, f"{agents}: {name}={value} holds {what}")


# --- the listener and HTTPS_PROXY ---


def check_port(host: str, port: int) -> tuple[Finding, str]:
    where = _hostport(host, port)
    state, detail = probe_listener(host, port)
    if state == "free":
        return Finding(
            True, f"listen: {where} is free; `aperture-proxy run` can listen there"
        ), state
    if state == "mitmproxy":
        return Finding(
            True, f"listen: {where} is held by a running proxy ({detail})"
        ), state
    return Finding(
        False,
        f"listen: {where} is in use by something that is not mitmproxy ({detail})",
        "stop it, or pick another address: aperture-proxy config set proxy.listen "
        "127.0.0.1:8090",
    ), state


def _same_place(proxy_host: str, host: str) -> bool:
    if proxy_host == host:
        return True
    loopback = proxy_host in _LOOPBACK
    return loopback and (host in _LOOPBACK or host in _WILDCARD)


def check_https_proxy(
    env: Mapping[str, str], host: str, port: int, state: str
) -> Finding:
    """Whether HTTPS_PROXY sends this shell's agents to the proxy at host:port."""
    upper, lower = env.get("HTTPS_PROXY"), env.get("https_proxy")
    if upper and lower and upper != lower:
        return Finding(
            False,
            "HTTPS_PROXY and https_proxy differ; tools pick either",
            ENV_FIX,
        )
    value = upper or lower
    if not value:
        return Finding(
            False,
            "HTTPS_PROXY is not set: agents started here go straight to the providers",
            ENV_FIX,
        )
    parts = urlsplit(value if "://" in value else f"http://{value}")
    try:
        proxy_port = parts.port or 80
    except ValueError:
        proxy_port = 0
    shown = f"{parts.scheme}://{_hostport(parts.hostname or '', proxy_port)}"
    where = _hostport(host, port)
    if parts.scheme != "http":
        return Finding(
            False, f"HTTPS_PROXY={shown}: the proxy speaks plain http://", ENV_FIX
        )
    if proxy_port != port or not _same_place(parts.hostname or "", host):
        return Finding(
            False, f"HTTPS_PROXY={shown} is not the proxy's address {where}", ENV_FIX
        )
    if state == "free":
        return Finding(
            False,
            f"HTTPS_PROXY={shown} points at the proxy, but nothing listens there",
            "start it: aperture-proxy run",
        )
    if state != "mitmproxy":
        return Finding(
            False,
            f"HTTPS_PROXY={shown} points at {where}, where something else listens",
            "stop that program, then start aperture-proxy run",
        )
    return Finding(True, f"HTTPS_PROXY={shown} points at the running proxy")


# --- Node ---


def _node_version(node: str) -> str | None:
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        done = subprocess.run(
            [node, "--version"], capture_output=True, text=True, timeout=10
        )
        return done.stdout.strip() or None
    return None


def check_node(env: Mapping[str, str]) -> Finding:
    """Node's version against NODE_USE_ENV_PROXY, which Node 24 and later honour."""
    node = shutil.which("node", path=env.get("PATH"))
    if node is None:
        return Finding(None, "node: not found (only Node-based agents need it)")
    version = _node_version(node)
    match = re.match(r"v(\d+)\.", version or "")
    if version is None or match is None:
        return Finding(None, f"node: {node} did not say its version")
    if int(match[1]) < NODE_ENV_PROXY_MAJOR:
        return Finding(
            None,
            f"node: {version} ignores NODE_USE_ENV_PROXY (Node 24 reads it); agents "
            "must use their own proxy support (Claude Code, Codex, Gemini CLI, Pi "
            "and opencode do)",
        )
    if env.get("NODE_USE_ENV_PROXY") == "1":
        return Finding(True, f"node: {version} honours NODE_USE_ENV_PROXY=1")
    return Finding(
        None,
        f"node: {version} honours NODE_USE_ENV_PROXY=1, which is not set: Node "
        "tools without their own proxy support go around the proxy",
        ENV_FIX,
    )


# --- the command ---


def run_checks(
    args: argparse.Namespace, env: Mapping[str, str], store: Path | None
) -> list[Finding]:
    """Every check, in the order a person would fix them."""
    config_finding, config = check_config(args)
    findings = [config_finding, check_gateway(config)]

    confdir = confdir_path(args.confdir)
    ca_finding, ca = check_ca(confdir)
    findings.append(ca_finding)
    if ca is not None:
        findings += [
            check_system_store(ca, store, confdir / CA_CERT),
            check_trust(env, ca, "Node agents", "NODE_EXTRA_CA_CERTS"),
            check_trust(env, ca, "Python", "SSL_CERT_FILE", needs_roots=True),
            check_trust(
                env, ca, "Codex", "CODEX_CA_CERTIFICATE", fallback="SSL_CERT_FILE"
            ),
        ]

    listen = args.listen or (config.proxy.listen if config else "127.0.0.1:8080")
    try:
        place = config_mod.ProxySettings(listen=listen)
        host, port = place.listen_host, place.listen_port
    except ValueError:
        findings.append(
            Finding(
                False,
                f"listen: {listen!r} is not HOST:PORT",
                "pass --listen 127.0.0.1:8080",
            )
        )
        return findings
    port_finding, state = check_port(host, port)
    findings += [
        port_finding,
        check_https_proxy(env, host, port, state),
        check_node(env),
    ]
    return findings


def cmd_doctor(args: argparse.Namespace) -> int:
    """Print every check; exit 1 when any failed."""
    findings = run_checks(args, os.environ, system_store())
    for finding in findings:
        for line in finding.lines():
            print(line)
    failed = sum(1 for f in findings if f.ok is False)
    print()
    print(
        f"{failed} problem{'s' if failed != 1 else ''} found" if failed else "all good"
    )
    return 1 if failed else 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `doctor` to the `aperture-proxy` parser."""
    doctor = sub.add_parser(
        "doctor", help="check the config, gateway, CA trust, port and this shell's env"
    )
    _common(doctor)
    _proxy_place(doctor)
    doctor.set_defaults(func=cmd_doctor)
