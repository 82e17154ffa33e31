"""mitmweb, as ``aperture-proxy run --web`` starts it, seen in a real browser.

A few requests are rerouted through the proxy, then Debian's Chromium, driven by
playwright-core from the npm registry (no browser download), opens the URL the
command printed and must list every flow with the comment the addon wrote on it.
The screenshot it takes is the one the README shows.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import socket
import ssl
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from aperture_proxy.demo import free_port
from aperture_proxy.sim import SimulatedGateway
from tests.e2e.conftest import start_proxy
from tests.helpers.npm import npm_install

from .conftest import REPORTS, AgentReport
from .harness import read_flows

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

PLAYWRIGHT_CORE = ("playwright-core", "1.65.2")
CHROMIUM = Path("/usr/bin/chromium")
PAGE_SCRIPT = Path(__file__).with_name("mitmweb_page.cjs")
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "img" / "mitmweb.png"
TOKEN = "aperture-test-token"
KEY = "sk-ant-api03-FAKE-mitmweb-0001"
# The comment column is not among mitmweb's default columns.
COLUMNS = ("tls", "icon", "path", "method", "status", "size", "time", "comment")


def chromium_version() -> str:
    done = subprocess.run(
        [str(CHROMIUM), "--version"], capture_output=True, text=True, check=False
    )
    return done.stdout.strip() or "chromium (version unknown)"


def wait_for_web(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        time.sleep(0.1)
    raise AssertionError(f"mitmweb did not listen on port {port} within {timeout:g} s")


def send_requests(proxy_url: str, bundle: str) -> None:
    """Three model calls and a WebSocket attempt, as agents make them."""
    trust = ssl.create_default_context(cafile=bundle)
    with httpx.Client(proxy=proxy_url, verify=trust, timeout=30) as client:
        anthropic = client.post(
            "https://api.anthropic.com/v1/messages",
            headers={"x-api-key": KEY, "anthropic-version": "2023-06-01"},
            json={
                "model": "claude-sonnet-4-5",
                "max_tokens": 64,
                "messages": [{"role": "user", "content": "hi"}],
            },
        )
        openai = client.post(
            "https://api.openai.com/v1/chat/completions",
            headers={"authorization": "Bearer sk-proj-FAKE-mitmweb-0002"},
            json={"model": "gpt-5.1", "messages": [{"role": "user", "content": "hi"}]},
        )
        gemini = client.post(
            "https://generativelanguage.googleapis.com/v1beta/models/"
            "gemini-2.5-flash:generateContent",
            headers={"x-goog-api-key": "AIzaFAKE-mitmweb-0003"},
            json={"contents": [{"parts": [{"text": "hi"}]}]},
        )
        websocket = client.get(
            "https://api.openai.com/v1/responses",
            headers={
                "connection": "Upgrade",
                "upgrade": "websocket",
                "sec-websocket-version": "13",
                "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
            },
        )
    assert [r.status_code for r in (anthropic, openai, gemini)] == [200, 200, 200]
    assert websocket.status_code == 426


def test_mitmweb_lists_rerouted_flows_with_their_comments(
    gateway: SimulatedGateway, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert CHROMIUM.exists(), (
        "Debian's chromium is not installed: apt-get install -y chromium"
    )
    assert shutil.which("node"), "node is not installed"
    playwright = npm_install(*PLAYWRIGHT_CORE) / "node_modules" / "playwright-core"
    gateway.clear()
    web_port = free_port()
    monkeypatch.setenv("APERTURE_PROXY_WEB_TOKEN", TOKEN)
    extra = ["--web", "--web-port", str(web_port)]
    for column in COLUMNS:
        extra += ["--set", f"web_columns={column}"]

    with start_proxy(gateway.url, tmp_path / "proxy", extra=extra) as proxy:
        printed = re.search(r"mitmweb\s+(\S+)", proxy.log_text())
        assert printed, proxy.log_text()
        url = printed.group(1)
        assert url == f"http://127.0.0.1:{web_port}/?token={TOKEN}"
        wait_for_web(web_port)
        send_requests(proxy.url, proxy.bundle)

        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        done = subprocess.run(
            ["node", str(PAGE_SCRIPT), url, str(SCREENSHOT), str(tmp_path / "p"), "4"],
            env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
                 "PLAYWRIGHT_CORE": str(playwright)},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )  # fmt: skip
        seconds = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    page = json.loads(done.stdout)

    assert page["problems"] == []
    assert page["commentsShown"], page["rows"]
    assert "Comment" in page["headers"]
    rows = page["rows"]
    assert len(rows) == 4, rows
    # Which gateway provider serves Gemini depends on how the proxy pairs them.
    expected = [
        r"anthropic → anthropic /v1/messages",
        r"openai → openai /v1/chat/completions",
        r"google → \S+ /v1beta/models/gemini-2\.5-flash:generateContent",
        r"openai: WebSocket refused \(426\), use HTTP",
    ]
    saved = read_flows(proxy.flows)
    assert [f.comment for f in saved if f.comment] == [f.comment for f in saved]
    for row, pattern, flow in zip(rows, expected, saved, strict=True):
        assert re.search(pattern, row), (pattern, rows)
        assert row.endswith(flow.comment), (flow.comment, rows)
    assert all(KEY not in row for row in rows)
    assert SCREENSHOT.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    notes = f"screenshot {SCREENSHOT.relative_to(SCREENSHOT.parents[2])}"
    REPORTS.append(
        AgentReport("mitmweb", chromium_version(), seconds, "passed", "-", notes)
    )
