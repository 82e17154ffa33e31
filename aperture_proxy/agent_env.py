"""The environment an agent needs to use the proxy: proxy variables and CA trust."""

from __future__ import annotations

import os
import shlex
import ssl
from collections.abc import Mapping
from pathlib import Path

from aperture_proxy.config import write_text_atomic
from aperture_proxy.routing import split_url

CA_CERT = "mitmproxy-ca-cert.pem"
BUNDLE = "aperture-proxy-ca-bundle.pem"
DEFAULT_CONFDIR = "~/.mitmproxy"
SHELLS = ("bash", "zsh", "fish")

# Where Debian, Fedora, Alpine and macOS (Homebrew) keep the system CA bundle.
_SYSTEM_BUNDLES = (
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/cert.pem",
    "/opt/homebrew/etc/ca-certificates/cert.pem",
)


def confdir_path(confdir: str | None) -> Path:
    return Path(confdir or DEFAULT_CONFDIR).expanduser()


def ensure_ca(confdir: Path) -> Path:
    """The proxy's CA certificate, created the way mitmproxy creates it if missing."""
    cert = confdir / CA_CERT
    if not cert.exists():
        from mitmproxy.certs import CertStore

        confdir.mkdir(parents=True, exist_ok=True)
        CertStore.from_store(confdir, "mitmproxy", 2048)
    return cert


def system_bundle() -> Path | None:
    """The system's CA bundle, or certifi's when the system has none."""
    default = ssl.get_default_verify_paths().cafile
    for candidate in (default, *_SYSTEM_BUNDLES):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    try:
        import certifi
    except ImportError:
        return None
    return Path(certifi.where())


def write_bundle(confdir: Path, ca: Path) -> Path:
    """System roots plus the proxy CA, for tools that read one bundle file."""
    roots = system_bundle()
    parts = [roots.read_text(encoding="utf-8")] if roots else []
    parts.append(ca.read_text(encoding="utf-8"))
    bundle = confdir / BUNDLE
    write_text_atomic(
        bundle, "\n".join(p.rstrip("\n") for p in parts) + "\n", mode=0o644
    )
    return bundle


def agent_environment(
    listen: str, confdir: Path, gateway: str | None = None
) -> dict[str, str]:
    """The variables to export, in the order they are printed."""
    host, _, port = listen.rpartition(":")
    if host in ("", "0.0.0.0", "::", "[::]"):
        host = "127.0.0.1"
    proxy = f"http://{host}:{port}"
    ca = ensure_ca(confdir)
    bundle = write_bundle(confdir, ca)
    no_proxy = ["localhost", "127.0.0.1", "::1"]
    if gateway:
        gateway_host = split_url(gateway)[1]
        if gateway_host and gateway_host not in no_proxy:
            no_proxy.append(gateway_host)
    return {
        "HTTPS_PROXY": proxy,
        "https_proxy": proxy,
        "NO_PROXY": ",".join(no_proxy),
        "no_proxy": ",".join(no_proxy),
        "NODE_EXTRA_CA_CERTS": str(ca),
        "NODE_USE_ENV_PROXY": "1",
        "CODEX_CA_CERTIFICATE": str(ca),
        "SSL_CERT_FILE": str(bundle),
        "REQUESTS_CA_BUNDLE": str(bundle),
        "CURL_CA_BUNDLE": str(bundle),
        # boto3 (Bedrock) reads its own variable and ignores the ones above.
        "AWS_CA_BUNDLE": str(bundle),
    }


def format_exports(env: Mapping[str, str], shell: str = "bash") -> str:
    if shell == "fish":
        return "\n".join(f"set -gx {k} {shlex.quote(v)}" for k, v in env.items())
    return "\n".join(f"export {k}={shlex.quote(v)}" for k, v in env.items())


def with_agent_env(env: Mapping[str, str]) -> dict[str, str]:
    """This process's environment with ``env`` laid over it."""
    return {**os.environ, **env}
