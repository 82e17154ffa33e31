"""``aperture-proxy demo``: the whole flow against the simulated gateway.

Starts the simulated gateway and a real proxy on free loopback ports, sends one
streaming request with each official SDK (openai, anthropic, google-genai) exactly as
an agent would — through ``HTTPS_PROXY``, trusting the proxy CA — and checks what the
gateway recorded: the rewritten path, no key, a session id.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from aperture_proxy.agent_env import agent_environment
from aperture_proxy.sim import SimulatedGateway

DEMO_KEYS = {
    "openai": "sk-demo-openai-NOT-A-REAL-KEY",
    "anthropic": "sk-ant-api03-demo-NOT-A-REAL-KEY",
    "google": "AIzaDemo-NOT-A-REAL-KEY",
}
READY_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the proxy exited with status {process.returncode}")
        with contextlib.suppress(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        time.sleep(0.1)
    raise RuntimeError(f"the proxy did not listen on port {port} within {timeout:g} s")


@contextlib.contextmanager
def running_proxy(
    gateway: str,
    confdir: Path,
    *,
    config: Path | None = None,
    extra: Sequence[str] = (),
) -> Iterator[tuple[int, subprocess.Popen[bytes], Path]]:
    """A real ``aperture-proxy run`` process on a free port; yields (port, process,
    log file)."""
    port = free_port()
    log_path = confdir / f"proxy-{port}.log"
    env = {**os.environ}
    env.setdefault("APERTURE_PROXY_CONFIG", str(confdir / "no-config.yaml"))
    command = [
        sys.executable, "-m", "aperture_proxy", "run",
        "--gateway", gateway,
        "--listen", f"127.0.0.1:{port}",
        "--confdir", str(confdir),
        *(["--config", str(config)] if config else []),
        *extra,
    ]  # fmt: skip
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            command, stdout=log_file, stderr=subprocess.STDOUT, env=env
        )
        try:
            wait_for_port(port, process, READY_TIMEOUT)
            yield port, process, log_path
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@dataclass
class RoundTrip:
    name: str
    call: Callable[[], str]
    expected_path: str
    key: str


def _openai_call() -> str:
    from openai import OpenAI

    client = OpenAI(api_key=DEMO_KEYS["openai"], max_retries=0)
    stream = client.chat.completions.create(
        model="gpt-5.1",
        messages=[{"role": "user", "content": "Say hello."}],
        stream=True,
    )
    return "".join(
        chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices
    )


def _anthropic_call() -> str:
    from anthropic import Anthropic

    client = Anthropic(api_key=DEMO_KEYS["anthropic"], max_retries=0)
    with client.messages.stream(
        model="claude-sonnet-4-5",
        max_tokens=64,
        messages=[{"role": "user", "content": "Say hello."}],
    ) as stream:
        return "".join(stream.text_stream)


def _google_call() -> str:
    from google import genai

    client = genai.Client(api_key=DEMO_KEYS["google"])
    stream = client.models.generate_content_stream(
        model="gemini-2.5-flash", contents="Say hello."
    )
    return "".join(chunk.text or "" for chunk in stream)


ROUND_TRIPS = (
    RoundTrip(
        "openai chat.completions (stream)",
        _openai_call,
        "/v1/chat/completions",
        DEMO_KEYS["openai"],
    ),
    RoundTrip(
        "anthropic messages (stream)",
        _anthropic_call,
        "/v1/messages",
        DEMO_KEYS["anthropic"],
    ),
    RoundTrip(
        "google-genai streamGenerateContent",
        _google_call,
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent",
        DEMO_KEYS["google"],
    ),
)


def _check(gateway: SimulatedGateway, trip: RoundTrip) -> list[str]:
    """What the gateway recorded for ``trip``, as printable check lines."""
    records = [r for r in gateway.requests() if r.path.startswith(trip.expected_path)]
    if not records:
        return [f"✗ the gateway recorded no request to {trip.expected_path}"]
    record = records[-1]
    headers = {k.lower(): v for k, v in record.headers}
    leaked = trip.key in record.path or any(trip.key in v for v in headers.values())
    session = headers.get("x-session-id")
    return [
        f"✓ gateway got  {record.method} {record.path}",
        "✗ the client's key reached the gateway" if leaked else "✓ client key removed",
        f"✓ x-session-id {session}" if session else "✗ no x-session-id",
    ]


def run_demo(verbose: bool = False) -> int:
    failures = 0
    with (
        tempfile.TemporaryDirectory(prefix="aperture-demo-") as tmp,
        SimulatedGateway() as gateway,
    ):
        confdir = Path(tmp)
        print(f"simulated gateway  {gateway.url}")
        with running_proxy(gateway.url, confdir) as (port, _, log_path):
            env = agent_environment(f"127.0.0.1:{port}", confdir, gateway.url)
            print(f"proxy              http://127.0.0.1:{port}  (CA in {confdir})\n")
            saved = dict(os.environ)
            os.environ.update(env)
            try:
                for trip in ROUND_TRIPS:
                    print(trip.name)
                    try:
                        text = trip.call()
                    except ImportError as exc:
                        lines = [f"✗ {exc.name} is not installed: pip install "
                                 "'aperture-proxy[demo]'"]  # fmt: skip
                    except Exception as exc:  # noqa: BLE001 - reported, demo goes on
                        lines = [f"✗ the client failed: {type(exc).__name__}: {exc}"]
                    else:
                        lines = [f"✓ client got   {text!r}", *_check(gateway, trip)]
                    failures += sum(line.startswith("✗") for line in lines)
                    print("\n".join(f"    {line}" for line in lines))
            finally:
                os.environ.clear()
                os.environ.update(saved)
            if verbose or failures:
                print("\nproxy log:\n" + log_path.read_text(errors="replace"))
    print(
        f"\n{'all round trips held' if not failures else f'{failures} checks failed'}"
    )
    return 0 if not failures else 1
