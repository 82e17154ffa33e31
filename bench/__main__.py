"""``python -m bench``: run every scenario and write ``bench/results/latest.*``."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench import (
    cold_start,
    hooks,
    latency,
    load,
    memory,
    report,
    routes,
    streaming,
    throughput,
)
from bench.clients import JSON, Lane, TargetName, chat_body, lanes, rotated, small_body
from bench.processes import BENCH_KEY, Gateway, Proxy, Workspace, closing_all
from bench.sizes import Sizes

RESULTS = Path(__file__).resolve().parent / "results"
PROTOCOLS = ["h1", "h2"]

Measure = Callable[[Lane], dict[str, Any]]


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def interleaved(
    name: str, chosen: list[Lane], reps: int, measure: Measure
) -> dict[str, list[dict[str, Any]]]:
    """``reps`` rounds, each measuring every lane once in a rotated order."""
    results: dict[str, list[dict[str, Any]]] = {lane.key: [] for lane in chosen}
    for rep in range(reps):
        for lane in rotated(chosen, rep):
            result = measure(lane)
            results[lane.key].append(result)
            say(f"{name} {lane.key:12} rep {rep + 1}: {_brief(result)}")
    return results


def rounds(
    name: str,
    chosen: list[Lane],
    reps: int,
    measure_round: Callable[[list[Lane]], dict[str, dict[str, Any]]],
) -> dict[str, list[dict[str, Any]]]:
    """``reps`` repetitions of a scenario that measures several lanes in one go,
    one HTTP version at a time (so each proxy's CPU time is one version's)."""
    groups = [[lane for lane in chosen if lane.protocol == p] for p in PROTOCOLS]
    results: dict[str, list[dict[str, Any]]] = {}
    for rep in range(reps):
        for group in rotated(groups, rep):
            for key, result in measure_round(group).items():
                results.setdefault(key, []).append(result)
                say(f"{name} {key:12} rep {rep + 1}: {_brief(result)}")
    return results


def _brief(result: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v:.2f}" for k, v in list(result.items())[:3] if _number(v))


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_rewrite(gateway: Gateway, chosen: list[Lane], body: bytes) -> None:
    """Every proxy must deliver ``body`` to the gateway's path with the key
    removed before anything is measured: a wrong rewrite makes numbers moot."""
    for lane in chosen:
        gateway.clear()
        with lane.client() as client:
            response = client.post(lane.url, content=body, headers=JSON)
        records = gateway.records()
        if response.status_code != 200 or len(records) != 1:
            raise RuntimeError(
                f"{lane.key}: got {response.status_code}, gateway saw {len(records)}"
            )
        record = records[0]
        leaked = any(BENCH_KEY in value for _, value in record["headers"])
        if record["path"] != "/v1/chat/completions" or leaked:
            raise RuntimeError(f"{lane.key}: gateway got {record['path']}, key kept")
    gateway.clear()


class Run:
    """One benchmark run: the processes, the lanes and every result."""

    def __init__(self, sizes: Sizes, workspace: Workspace) -> None:
        self.sizes = sizes
        self.workspace = workspace
        self.raw: dict[str, Any] = {}
        self.seconds: dict[str, float] = {}

    def timed(self, name: str, step: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        try:
            return step()
        finally:
            self.seconds[name] = time.perf_counter() - started

    def run(self) -> None:
        sizes, workspace = self.sizes, self.workspace
        self.raw["routes"] = self.timed("routes", lambda: routes.measure(sizes))
        self.raw["hooks"] = self.timed("hooks", lambda: hooks.measure(workspace, sizes))
        gateway = Gateway(workspace)
        ours = Proxy("ours", workspace, gateway.url)
        with closing_all(gateway, ours):
            ours.wait_ready()
            # Non-streamed requests of 2 kB: the baseline must not stream them.
            with Proxy("baseline", workspace, gateway.url) as baseline:
                baseline.wait_ready()
                chosen = self._lanes(gateway, baseline, ours)
                check_rewrite(gateway, chosen[1:], chat_body(sizes.body_bytes, False))
                pids = {"baseline": baseline.pid, "ours": ours.pid}
                self.timed("latency", lambda: self._latency(gateway, chosen, pids))
            # Streamed answers: the baseline streams bodies over 150 bytes.
            with Proxy("baseline", workspace, gateway.url, streaming=True) as baseline:
                baseline.wait_ready()
                chosen = self._lanes(gateway, baseline, ours)
                check_rewrite(gateway, chosen[1:], small_body(stream=False))
                pids = {"baseline": baseline.pid, "ours": ours.pid}
                self._streams(gateway, chosen, pids)
                self.timed("load", lambda: self._load(gateway, chosen))
            self.timed("cold_start", lambda: self._cold_start(gateway))

    def _lanes(self, gateway: Gateway, baseline: Proxy, ours: Proxy) -> list[Lane]:
        proxies: dict[TargetName, str] = {"baseline": baseline.url, "ours": ours.url}
        return lanes(gateway.url, proxies, self.workspace.ca)

    def _latency(
        self, gateway: Gateway, chosen: list[Lane], pids: dict[str, int]
    ) -> None:
        sizes = self.sizes
        with contextlib.ExitStack() as stack:
            clients = {lane.key: stack.enter_context(lane.client()) for lane in chosen}
            latency.prepare(gateway, sizes)
            self.raw["latency"] = rounds(
                "latency",
                chosen,
                sizes.reps,
                lambda group: latency.measure_round(group, clients, sizes, pids),
            )
        for lane in chosen:
            version = self.raw["latency"][lane.key][0]["http_version"]
            if version != ("HTTP/2" if lane.protocol == "h2" else "HTTP/1.1"):
                raise RuntimeError(f"{lane.key} spoke {version}")
        gateway.clear()

    def _streams(
        self, gateway: Gateway, chosen: list[Lane], pids: dict[str, int]
    ) -> None:
        sizes, raw = self.sizes, self.raw
        with contextlib.ExitStack() as stack:
            clients = {lane.key: stack.enter_context(lane.client()) for lane in chosen}

            def sse() -> Any:
                streaming.prepare_paced(gateway, sizes)
                return interleaved(
                    "sse",
                    chosen,
                    sizes.reps,
                    lambda lane: streaming.measure_paced(
                        lane, clients[lane.key], sizes
                    ),
                )

            def ttfb() -> Any:
                streaming.prepare_unpaced(gateway, sizes)
                return rounds(
                    "ttfb",
                    chosen,
                    sizes.reps,
                    lambda group: streaming.measure_ttfb_round(group, clients, sizes),
                )

            def streams() -> Any:
                throughput.prepare(gateway, sizes)
                return throughput.run(chosen, sizes, pids, say)

            def big() -> Any:
                memory.prepare(gateway, sizes)
                return interleaved(
                    "memory",
                    chosen,
                    sizes.memory_reps,
                    lambda lane: memory.measure(
                        lane, clients[lane.key], sizes, pids.get(lane.target)
                    ),
                )

            for name, phase in (
                ("sse", sse),
                ("ttfb", ttfb),
                ("throughput", streams),
                ("memory", big),
            ):
                raw[name] = self.timed(name, phase)
                gateway.configure(reply="ok", chunks=1)
                gateway.clear()

    def _load(self, gateway: Gateway, chosen: list[Lane]) -> None:
        expected = load.prepare(gateway, self.sizes)
        self.raw["load"] = {}
        for lane in (lane for lane in chosen if lane.protocol == "h1"):
            result = load.measure(lane, self.sizes, expected)
            self.raw["load"][lane.key] = result
            say(
                f"load {lane.key:12}: {result['seconds']:.1f} s, "
                f"{result['errors']} errors, {result['mismatches']} mismatches"
            )
        gateway.configure(reply="ok", chunks=1)
        gateway.clear()

    def _cold_start(self, gateway: Gateway) -> None:
        cached = cold_start.catalogue_cached(self.workspace, gateway.url)
        if not cached:
            raise RuntimeError("ours has not cached the gateway catalogue")
        reps = cold_start.run(self.workspace, gateway.url, self.sizes, say)
        self.raw["cold_start"] = {"catalogue_cached": cached, "reps": reps}


def run(sizes: Sizes) -> dict[str, Any]:
    started = time.perf_counter()
    load_start = report.load_average()
    with tempfile.TemporaryDirectory(prefix="aperture-bench-") as tmp:
        workspace = Workspace(Path(tmp))
        workspace.prepare()
        bench = Run(sizes, workspace)
        bench.run()
    summary = report.summarise(bench.raw)
    return {
        "date": report.now(),
        "machine": report.machine(),
        "load_average": {"start": load_start, "end": report.load_average()},
        "sizes": sizes.as_dict(),
        "protocols": PROTOCOLS,
        "runtime_s": time.perf_counter() - started,
        "scenario_seconds": bench.seconds,
        "summary": summary,
        "goals": [g.as_dict() for g in report.goals(summary, PROTOCOLS)],
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--smoke", action="store_true", help="tiny sizes: checks the harness only"
    )
    parser.add_argument("--reps", type=int, help="repetitions (default 5)")
    parser.add_argument(
        "--out", type=Path, default=RESULTS, help=f"results directory ({RESULTS})"
    )
    args = parser.parse_args(argv)
    sizes = Sizes.smoke() if args.smoke else Sizes()
    if args.reps:
        sizes = dataclasses.replace(sizes, reps=args.reps)

    result = run(sizes)
    json_path, md_path = report.write(result, args.out)
    print(md_path.read_text())
    say(f"wrote {json_path} and {md_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
