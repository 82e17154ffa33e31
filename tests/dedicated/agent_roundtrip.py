"""Generate Pi's models.json against a simulated gateway and ask Pi each model once.

Run as a script, usually inside a fresh network namespace (`unshare --net`), so
the simulated gateway, aperture-proxy and Pi share a loopback of their own and
nothing can reach anything else:

    python pi_roundtrip.py PI_BINARY WORK_DIR [--bring-up-loopback]

Prints one JSON line per model: its Pi provider and id, Pi's exit status,
answer and errors, and the paths the gateway received.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from aperture_proxy import cli
from aperture_proxy.sim import SimulatedGateway

# One model per API Pi reaches the gateway in.
MODELS = (
    ("aperture", "claude-sonnet-4-5"),
    ("aperture", "gpt-5.1"),
    ("aperture-openai-codex", "gpt-5.1-codex"),
    ("aperture", "gemini-2.5-flash"),
    ("aperture", "anthropic.claude-sonnet-4-5-20250929-v1:0"),
)


def main(pi: str, work: Path, loopback: bool) -> None:
    if loopback:
        # A new network namespace starts with its loopback down.
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(work),
        "PI_CODING_AGENT_DIR": str(work / "pi-agent"),
        "PI_OFFLINE": "1",
        # Pi's Bedrock client signs nothing when told the endpoint needs no auth.
        "AWS_BEDROCK_SKIP_AUTH": "1",
        "AWS_BEDROCK_FORCE_HTTP1": "1",
        "AWS_REGION": "us-east-1",
    }
    os.environ.update(
        HOME=str(work),
        XDG_STATE_HOME=str(work / "state"),
        XDG_CACHE_HOME=str(work / "cache"),
        PI_CODING_AGENT_DIR=str(work / "pi-agent"),
    )
    with SimulatedGateway() as gateway:
        if cli.main(["generate", "pi", "--gateway", gateway.url]) != 0:
            raise SystemExit("generate pi failed")
        for provider, model in MODELS:
            gateway.clear()
            ask = ["--no-session", "--no-tools", "-p", "Say hello."]
            done = subprocess.run(
                [pi, "--provider", provider, "--model", model, *ask],
                capture_output=True,
                text=True,
                env=env,
                timeout=60,
                check=False,
                stdin=subprocess.DEVNULL,
            )
            print(
                json.dumps(
                    {
                        "provider": provider,
                        "model": model,
                        "status": done.returncode,
                        "answer": done.stdout,
                        "errors": done.stderr,
                        "paths": [r.path for r in gateway.requests()],
                    }
                ),
                flush=True,
            )


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]), "--bring-up-loopback" in sys.argv[3:])
