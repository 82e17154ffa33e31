"""The benchmark harness at tiny sizes: every scenario runs and reports in shape.

Timings are not asserted (the machines are shared); what is asserted is that
each scenario measured every lane, that the numbers are numbers, and that the
checks the harness makes on the traffic itself held.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

ROOT = Path(__file__).resolve().parent.parent
LANES = {"h1/direct", "h1/baseline", "h1/ours", "h2/baseline", "h2/ours"}
PROXY_LANES = LANES - {"h1/direct"}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("bench")
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=540,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    result: dict[str, Any] = json.loads((out / "latest.json").read_text())
    return {
        "result": result,
        "markdown": (out / "latest.md").read_text(),
        "stdout": done.stdout,
    }


def positive(value: object) -> bool:
    return isinstance(value, int | float) and math.isfinite(value) and value > 0


def test_latency_has_every_lane_and_repetition(run: dict[str, Any]) -> None:
    result = run["result"]
    latency = result["summary"]["latency"]
    reps = result["sizes"]["reps"]

    assert set(latency) == LANES
    for key, lane in latency.items():
        assert len(lane["reps"]) == reps
        assert positive(lane["p50"]) and lane["p99"] >= lane["p50"]
        assert all(rep["errors"] == 0 for rep in lane["reps"])
        assert lane["reps"][0]["http_version"] == (
            "HTTP/2" if key.startswith("h2") else "HTTP/1.1"
        )
    assert all(positive(latency[key]["cpu_ms"]) for key in PROXY_LANES)


def test_every_stamped_event_arrived_on_every_lane(run: dict[str, Any]) -> None:
    result = run["result"]
    events = result["sizes"]["sse_events"] + 3  # role chunk, stop chunk, [DONE]
    sse = result["summary"]["sse"]

    assert set(sse) == LANES
    for lane in sse.values():
        assert [rep["events"] for rep in lane["reps"]] == [events] * len(lane["reps"])
        assert lane["delay_p99"] >= lane["delay_p50"] >= 0
    ttfb = result["summary"]["ttfb"]
    assert set(ttfb) == LANES
    assert all(positive(lane["p50"]) for lane in ttfb.values())


def test_throughput_completed_streams_without_errors(run: dict[str, Any]) -> None:
    result = run["result"]
    throughput = result["summary"]["throughput"]

    assert set(throughput) == LANES
    for lane in throughput.values():
        assert len(lane["reps"]) == result["sizes"]["stream_rounds"]
        assert lane["errors"] == 0
        assert all(rep["streams"] > 0 for rep in lane["reps"])
    assert all(positive(throughput[key]["cpu_ms"]) for key in PROXY_LANES)


def test_memory_was_read_while_the_large_answer_streamed(run: dict[str, Any]) -> None:
    result = run["result"]
    memory = result["summary"]["memory"]
    body_mb = result["sizes"]["big_body_bytes"] / (1 << 20)

    assert set(memory) == LANES
    for key, lane in memory.items():
        assert all(rep["body_mb"] >= body_mb for rep in lane["reps"])
        if key in PROXY_LANES:
            assert all(rep["hwm_reset"] for rep in lane["reps"])
            assert all(positive(rep["rss_before_mb"]) for rep in lane["reps"])
            assert all(rep["samples"] > 0 for rep in lane["reps"])
            assert math.isfinite(lane["growth_mb"])


def test_route_lookups_ran_on_a_table_of_a_thousand(run: dict[str, Any]) -> None:
    routes = run["result"]["summary"]["routes"]

    assert routes["entries"] == 1000
    assert positive(routes["lookups_per_s"])


def test_cold_starts_answered_with_the_catalogue_cached(run: dict[str, Any]) -> None:
    cold = run["result"]["summary"]["cold_start"]

    assert cold["catalogue_cached"] is True
    for variant in ("bytecode", "source"):
        for kind in ("baseline", "ours"):
            reps = cold[variant][kind]["reps"]
            assert reps and all(r["ready_s"] >= r["listen_s"] > 0 for r in reps)


def test_the_load_check_passed_on_every_http1_lane(run: dict[str, Any]) -> None:
    load = run["result"]["summary"]["load"]

    assert set(load) == {"h1/direct", "h1/baseline", "h1/ours"}
    assert all(check["passed"] for check in load.values())


def test_hook_costs_were_measured_for_both_sides(run: dict[str, Any]) -> None:
    hooks = run["result"]["summary"]["hooks"]

    assert set(hooks["ours"]["hooks_us"]) == {
        "requestheaders",
        "request",
        "responseheaders",
        "response",
    }
    assert positive(hooks["baseline"]["total_us"])
    assert positive(hooks["ours"]["total_us"])


def test_every_goal_is_judged_and_printed(run: dict[str, Any]) -> None:
    goals = run["result"]["goals"]

    assert len(goals) == 15
    assert all(isinstance(goal["met"], bool) for goal in goals)
    for goal in goals:
        assert f"| {goal['name']} |" in run["markdown"]
    assert run["stdout"].strip() == run["markdown"].strip()
