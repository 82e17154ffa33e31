"""Generate an agent's file against a simulated gateway and ask each model once.

Run as a script, usually inside a fresh network namespace (`unshare --net`), so
the simulated gateway, aperture-proxy and the agent share a loopback of their
own and nothing can reach anything else:

    python agent_roundtrip.py FORMAT AGENT_BINARY WORK_DIR [--bring-up-loopback]

Prints one JSON line per model: its name as the agent knows it, the agent's exit
status, answer and errors, and the paths and body models the gateway received.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from aperture_proxy import cli
from aperture_proxy.sim import SimulatedGateway

BEDROCK_SONNET = "anthropic.claude-sonnet-4-5-20250929-v1:0"

# One model per API each agent reaches the gateway in.
MODELS = {
    "pi": (
        "aperture/claude-sonnet-4-5",
        "aperture/gpt-5.1",
        "aperture-openai-codex/gpt-5.1-codex",
        "aperture/gemini-2.5-flash",
        f"aperture/{BEDROCK_SONNET}",
    ),
    "opencode": (
        "aperture/claude-sonnet-4-5",
        "aperture/gpt-5.1",
        "aperture-openai-codex/gpt-5.1-codex",
        "aperture-gemini/gemini-2.5-flash",
    ),
    # Codex: model provider table / model; Claude Code: model tiers.
    "codex": ("aperture/gpt-5.1", "aperture/gpt-5.1-codex"),
    "claude-code": ("sonnet", "haiku"),
}


def _command(agent: str, binary: str, model: str) -> list[str]:
    if agent == "pi":
        provider, _, ident = model.partition("/")
        ask = ["--no-session", "--no-tools", "-p", "Say hello."]
        return [binary, "--provider", provider, "--model", ident, *ask]
    if agent == "codex":
        table, _, ident = model.partition("/")
        choose = ["-c", f'model_provider="{table}"', "-m", ident]
        return [binary, "exec", *choose, "--skip-git-repo-check", "Say hello."]
    if agent == "claude-code":
        return [binary, "-p", "--model", model, "Say hello."]
    return [binary, "run", "-m", model, "Say hello."]


def _model_of(body: str) -> str | None:
    """The `model` a request body names, if it is JSON that names one."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    model = data.get("model") if isinstance(data, dict) else None
    return model if isinstance(model, str) else None


def main(agent: str, binary: str, work: Path, loopback: bool) -> None:
    if loopback:
        # A new network namespace starts with its loopback down.
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    dirs = {
        "HOME": str(work),
        "XDG_STATE_HOME": str(work / "state"),
        "XDG_CACHE_HOME": str(work / "cache"),
        "XDG_CONFIG_HOME": str(work / "config"),
        "XDG_DATA_HOME": str(work / "data"),
        "PI_CODING_AGENT_DIR": str(work / "pi-agent"),
        "CODEX_HOME": str(work / "codex"),
        "CLAUDE_CONFIG_DIR": str(work / "claude"),
    }
    os.environ.update(dirs)
    env = {
        "PATH": os.environ["PATH"],
        **dirs,
        "PI_OFFLINE": "1",
        # Pi's Bedrock client signs nothing when told the endpoint needs no auth.
        "AWS_BEDROCK_SKIP_AUTH": "1",
        "AWS_BEDROCK_FORCE_HTTP1": "1",
        "AWS_REGION": "us-east-1",
        "OPENCODE_DISABLE_MODELS_FETCH": "1",
        "OPENCODE_DISABLE_AUTOUPDATE": "1",
    }
    with SimulatedGateway() as gateway:
        if cli.main(["generate", agent, "--gateway", gateway.url]) != 0:
            raise SystemExit(f"generate {agent} failed")
        for model in MODELS[agent]:
            gateway.clear()
            done = subprocess.run(
                _command(agent, binary, model),
                capture_output=True,
                text=True,
                env=env,
                timeout=120,
                check=False,
                stdin=subprocess.DEVNULL,
                cwd=work,
            )
            print(
                json.dumps(
                    {
                        "model": model,
                        "status": done.returncode,
                        "answer": done.stdout,
                        "errors": done.stderr,
                        "paths": [r.path for r in gateway.requests()],
                        "asked": [_model_of(r.body) for r in gateway.requests()],
                    }
                ),
                flush=True,
            )


if __name__ == "__main__":
    main(
        sys.argv[1],
        sys.argv[2],
        Path(sys.argv[3]),
        "--bring-up-loopback" in sys.argv[4:],
    )
