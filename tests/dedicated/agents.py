"""Running real agents from npm in isolation, shared by the agent tests."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

ROUNDTRIP = Path(__file__).with_name("agent_roundtrip.py")


def offline_prefix() -> list[str]:
    """`unshare --net` where this machine allows it (root, util-linux), else nothing."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return []
    probe = subprocess.run([unshare, "--net", "true"], capture_output=True, check=False)
    return [unshare, "--net"] if probe.returncode == 0 else []


def roundtrip(agent: str, binary: Path, work: Path) -> list[dict[str, Any]]:
    """Every answer of `agent_roundtrip.py`, run in its own network namespace."""
    prefix = offline_prefix()
    command = [*prefix, sys.executable, str(ROUNDTRIP), agent, str(binary), str(work)]
    if prefix:
        command.append("--bring-up-loopback")
    work.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=Path(__file__).parents[2],
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines() if line[:1] == "{"]
