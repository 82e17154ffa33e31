"""Whether a CA file or bundle holds the proxy's CA, certificate by certificate.

Two certificates are the same when their DER bytes are equal; a bundle trusts
the proxy when one of its certificates is the proxy CA.
"""

from __future__ import annotations

import base64
import binascii
import re
import ssl
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509

from aperture_proxy.agent_env import _SYSTEM_BUNDLES

__all__ = ["ca_expiry", "certificates", "expired", "read_certificates", "system_store"]

_PEM_RE = re.compile(
    rb"-----BEGIN CERTIFICATE-----(?P<body>[A-Za-z0-9+/=\s]+?)-----END CERTIFICATE-----"
)

# A CA bundle is a few hundred kilobytes; a file far larger is not one.
MAX_BUNDLE_BYTES = 16 * 1024 * 1024


def certificates(pem: bytes) -> list[bytes]:
    """Every PEM certificate in `pem`, as DER; unreadable blocks are skipped."""
    found = []
    for match in _PEM_RE.finditer(pem):
        try:
            found.append(
                base64.b64decode(b"".join(match["body"].split()), validate=True)
            )
        except (binascii.Error, ValueError):
            continue
    return found


def read_certificates(path: Path) -> list[bytes]:
    """The certificates in the file at `path`; raises OSError."""
    with path.open("rb") as handle:
        return certificates(handle.read(MAX_BUNDLE_BYTES))


def ca_expiry(der: bytes) -> datetime | None:
    """When the certificate stops being valid; None when it cannot be read."""
    try:
        return x509.load_der_x509_certificate(der).not_valid_after_utc
    except ValueError:
        return None


def expired(der: bytes, now: datetime | None = None) -> bool:
    """Whether the certificate's validity has ended."""
    until = ca_expiry(der)
    return until is not None and until < (now or datetime.now(UTC))


def system_store() -> Path | None:
    """The system's CA bundle as OpenSSL was built to read it (not SSL_CERT_FILE)."""
    paths = ssl.get_default_verify_paths()
    for candidate in (paths.openssl_cafile, *_SYSTEM_BUNDLES):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None
