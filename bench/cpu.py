"""CPU time a process has used, to the nanosecond, from the kernel's scheduler.

Wall-clock times on a shared machine move with everyone else's load; the CPU
time a proxy spends per request moves far less, so it is reported next to them
as the steadier measure of what each proxy costs.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from bench.processes import process_tree


def cpu_seconds(pid: int) -> float:
    """CPU time of ``pid`` and its descendants, every thread included."""
    total = 0
    for member in process_tree(pid):
        for stat in Path(f"/proc/{member}/task").glob("*/schedstat"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                total += int(stat.read_text().split()[0])
    return total / 1e9


class CpuMeter:
    """CPU seconds each of several processes uses between ``start`` and ``stop``."""

    def __init__(self, pids: dict[str, int]) -> None:
        self._pids = pids
        self._start: dict[str, float] = {}
        self.used: dict[str, float] = {}

    def start(self) -> None:
        self._start = {name: cpu_seconds(pid) for name, pid in self._pids.items()}

    def stop(self) -> None:
        self.used = {
            name: cpu_seconds(pid) - self._start[name]
            for name, pid in self._pids.items()
        }
