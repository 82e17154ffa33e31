"""Summaries, goals and the Markdown table of one run.

Every number in the table is a median over repetitions of a per-repetition
value (p50 or p99 of that repetition's samples). Ratios are ratios of those
medians; the *spread* column gives the smallest and largest ratio of ours to
the baseline measured in the same repetition, which is how much the machine's
noise moved the comparison.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from bench.stats import over_reps, paired_ratios, spread

Reps = list[dict[str, Any]]


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.partition(":")[2].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "mitmproxy": version("mitmproxy"),
        "httpx": version("httpx"),
        "system": f"{platform.system()} {platform.release()}",
        "commit": _commit(),
    }


def _commit() -> str:
    root = Path(__file__).resolve().parent.parent

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, check=False
        )
        return done.stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no", "aperture_proxy")
    return f"{head} (+ uncommitted changes in aperture_proxy/)" if dirty else head


def load_average() -> float:
    return os.getloadavg()[0]


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


# -- summaries -------------------------------------------------------------------


def _lane_medians(reps_by_lane: dict[str, Reps], fields: list[str]) -> dict[str, Any]:
    return {
        key: {"reps": reps, **{f: over_reps(reps, f) for f in fields if f in reps[0]}}
        for key, reps in reps_by_lane.items()
    }


def summarise(raw: dict[str, Any]) -> dict[str, Any]:
    """Medians per lane for every scenario, keeping the repetitions."""
    cold = raw["cold_start"]
    return {
        "latency": _lane_medians(raw["latency"], ["p50", "p99", "cpu_ms"]),
        "sse": _lane_medians(raw["sse"], ["delay_p50", "delay_p99", "ttfb"]),
        "ttfb": _lane_medians(raw["ttfb"], ["p50", "p99"]),
        "throughput": {
            key: {
                "reps": reps,
                "streams_per_s": over_reps(reps, "streams_per_s"),
                "mb_per_s": over_reps(reps, "mb_per_s"),
                "errors": sum(r["errors"] for r in reps),
                **(
                    {"cpu_ms": over_reps(reps, "cpu_ms")} if "cpu_ms" in reps[0] else {}
                ),
            }
            for key, reps in raw["throughput"].items()
        },
        "memory": {
            key: {
                "reps": reps,
                "mb_per_s": over_reps(reps, "mb_per_s"),
                **(
                    {
                        "growth_mb": over_reps(reps, "growth_mb"),
                        "growth_mb_max": max(r["growth_mb"] for r in reps),
                        "peak_mb_max": max(r["peak_mb"] for r in reps),
                    }
                    if "growth_mb" in reps[0]
                    else {}
                ),
            }
            for key, reps in raw["memory"].items()
        },
        "routes": {
            "reps": raw["routes"],
            "lookups_per_s": over_reps(raw["routes"], "lookups_per_s"),
            "batch_us_p50": over_reps(raw["routes"], "batch_us_p50"),
            "batch_us_p99": over_reps(raw["routes"], "batch_us_p99"),
            "entries": raw["routes"][0]["entries"],
        },
        "cold_start": {
            variant: {
                kind: {
                    "reps": reps,
                    "listen_s": over_reps(reps, "listen_s"),
                    "ready_s": over_reps(reps, "ready_s"),
                    "ready_s_max": max(r["ready_s"] for r in reps),
                }
                for kind, reps in by_kind.items()
            }
            for variant, by_kind in cold["reps"].items()
        }
        | {"catalogue_cached": cold["catalogue_cached"]},
        "load": raw["load"],
        "hooks": _hooks(raw["hooks"]),
    }


def _hooks(reps: Reps) -> dict[str, Any]:
    """Median over repetitions of each side's per-hook and total µs."""
    sides: dict[str, Any] = {}
    for side in ("baseline", "ours"):
        per_rep = [rep[side] for rep in reps]
        names = per_rep[0]["hooks_us"]
        sides[side] = {
            "total_us": over_reps(per_rep, "total_us"),
            "hooks_us": {
                name: statistics.median(r["hooks_us"][name] for r in per_rep)
                for name in names
            },
        }
    return {"reps": reps, **sides}


# -- goals -----------------------------------------------------------------------


@dataclass
class Goal:
    name: str
    goal: str
    value: str
    met: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "goal": self.goal,
            "value": self.value,
            "met": self.met,
        }


def _ratio(s: dict[str, Any], scenario: str, proto: str, field: str) -> float:
    ours, base = s[scenario][f"{proto}/ours"], s[scenario][f"{proto}/baseline"]
    return float(ours[field]) / float(base[field])


def _noise(reps: Reps, field: str) -> float:
    values = [float(r[field]) for r in reps]
    return max(values) - min(values)


def goals(s: dict[str, Any], protocols: list[str]) -> list[Goal]:
    found: list[Goal] = []
    for proto in protocols:
        tag = "HTTP/1.1" if proto == "h1" else "HTTP/2"
        r50 = _ratio(s, "latency", proto, "p50")
        r99 = _ratio(s, "latency", proto, "p99")
        found.append(
            Goal(f"latency p50 {tag}", "≤ 1.05 × baseline", f"{r50:.3f} ×", r50 <= 1.05)
        )
        found.append(
            Goal(f"latency p99 {tag}", "≤ 1.10 × baseline", f"{r99:.3f} ×", r99 <= 1.10)
        )

        ours, base = s["sse"][f"{proto}/ours"], s["sse"][f"{proto}/baseline"]
        extra = ours["delay_p99"] - base["delay_p99"]
        found.append(
            Goal(
                f"SSE event delay p99 {tag}",
                "≤ baseline + 2 ms",
                f"{extra:+.2f} ms",
                extra <= 2.0,
            )
        )

        ours, base = s["ttfb"][f"{proto}/ours"], s["ttfb"][f"{proto}/baseline"]
        extra = ours["p50"] - base["p50"]
        noise = max(_noise(ours["reps"], "p50"), _noise(base["reps"], "p50"))
        found.append(
            Goal(
                f"TTFB p50 {tag}",
                "within noise of baseline",
                f"{extra:+.2f} ms (noise ±{noise:.2f} ms)",
                extra <= noise,
            )
        )

        ratio = _ratio(s, "throughput", proto, "streams_per_s")
        errors = s["throughput"][f"{proto}/ours"]["errors"]
        found.append(
            Goal(
                f"throughput 64 streams {tag}",
                "≥ 0.95 × baseline, 0 errors",
                f"{ratio:.3f} ×, {errors} errors",
                ratio >= 0.95 and errors == 0,
            )
        )

        growth = s["memory"][f"{proto}/ours"]["growth_mb_max"]
        found.append(
            Goal(
                f"RSS growth, 200 MB stream {tag}",
                "≤ 10 MB",
                f"{growth:.1f} MB",
                growth <= 10,
            )
        )

    rate = s["routes"]["lookups_per_s"]
    found.append(
        Goal(
            "route lookups, 1,000 entries",
            "≥ 200k/s",
            f"{rate / 1000:.0f}k/s",
            rate >= 200_000,
        )
    )
    ready = s["cold_start"]["bytecode"]["ours"]["ready_s"]
    found.append(
        Goal(
            "cold start to ready (bytecode cached)",
            "≤ 1.5 s",
            f"{ready:.2f} s",
            ready <= 1.5,
        )
    )
    load = s["load"]["h1/ours"]
    found.append(
        Goal(
            "load check",
            "every stream intact",
            f"{load['clients']} × {load['bytes_each'] // 1024} kB: "
            f"{load['errors']} errors, {load['mismatches']} mismatches",
            bool(load["passed"]),
        )
    )
    return found


# -- Markdown ----------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    label: str
    scenario: str
    field: str
    fmt: str = "{:.2f}"
    ratios: bool = True  # False where only the absolute value means anything


ROWS = (
    Row("latency p50 (ms)", "latency", "p50"),
    Row("latency p99 (ms)", "latency", "p99"),
    Row("proxy CPU per request (ms)", "latency", "cpu_ms", "{:.3f}"),
    Row("SSE event delay p50 (ms)", "sse", "delay_p50"),
    Row("SSE event delay p99 (ms)", "sse", "delay_p99"),
    Row("TTFB p50 (ms)", "ttfb", "p50"),
    Row("TTFB p99 (ms)", "ttfb", "p99"),
    Row("throughput, 64 streams (streams/s)", "throughput", "streams_per_s", "{:.0f}"),
    Row("proxy CPU per stream (ms)", "throughput", "cpu_ms", "{:.2f}"),
    Row("200 MB stream (MB/s)", "memory", "mb_per_s", "{:.0f}"),
    Row("proxy RSS growth, 200 MB (MB)", "memory", "growth_mb", "{:.1f}", False),
)


def _cell(value: float | None, fmt: str) -> str:
    return "—" if value is None else fmt.format(value)


def _lane_value(s: dict[str, Any], row: Row, key: str) -> float | None:
    lane = s[row.scenario].get(key)
    if lane is None or row.field not in lane:
        return None
    return float(lane[row.field])


def _rows(s: dict[str, Any], protocols: list[str]) -> list[str]:
    lines = []
    for row in ROWS:
        for proto in protocols:
            direct = _lane_value(s, row, f"{proto}/direct")
            base = _lane_value(s, row, f"{proto}/baseline")
            ours = _lane_value(s, row, f"{proto}/ours")
            assert base is not None and ours is not None
            per_rep = paired_ratios(
                s[row.scenario][f"{proto}/ours"]["reps"],
                s[row.scenario][f"{proto}/baseline"]["reps"],
                row.field,
            )
            pair = spread(per_rep) if per_rep and row.ratios else None
            cells = [
                row.label,
                "1.1" if proto == "h1" else "2",
                _cell(direct, row.fmt),
                _cell(base, row.fmt),
                _cell(ours, row.fmt),
                f"{ours / base:.2f}" if base and row.ratios else "—",
                f"{pair['min']:.2f}–{pair['max']:.2f}" if pair else "—",
                f"{ours / direct:.2f}" if direct and row.ratios else "—",
            ]
            lines.append("| " + " | ".join(cells) + " |")
    return lines


def _process_rows(s: dict[str, Any]) -> list[tuple[str, float, float]]:
    cold, load = s["cold_start"], s["load"]
    size = f"{load['h1/ours']['clients']} × {load['h1/ours']['bytes_each'] // 1024} kB"
    rows = []
    for variant, how in (("bytecode", "bytecode cached"), ("source", "from source")):
        starts = cold[variant]
        rows += [
            (f"cold start to listening, {how} (s)",
             starts["baseline"]["listen_s"], starts["ours"]["listen_s"]),
            (f"cold start to first rerouted answer, {how} (s)",
             starts["baseline"]["ready_s"], starts["ours"]["ready_s"]),
        ]  # fmt: skip
    rows.append(
        (f"load check, {size} streams (s)",
         load["h1/baseline"]["seconds"], load["h1/ours"]["seconds"])
    )  # fmt: skip
    return rows


def _pair_row(label: str, base: float, ours: float) -> str:
    return f"| {label} | {base:.2f} | {ours:.2f} | {ours / base:.2f} |"


def markdown(result: dict[str, Any]) -> str:
    s, m = result["summary"], result["machine"]
    protocols = result["protocols"]
    reps = result["sizes"]["reps"]
    head = [
        "# aperture-proxy benchmark",
        "",
        f"{result['date']} · {m['cpu']}, {m['cores']} cores · {m['system']} · "
        f"Python {m['python']} · mitmproxy {m['mitmproxy']} · httpx {m['httpx']} · "
        f"commit {m['commit']}",
        "",
        f"Load average {result['load_average']['start']:.1f} at the start, "
        f"{result['load_average']['end']:.1f} at the end; "
        f"{reps} interleaved repetitions; whole run {result['runtime_s']:.0f} s.",
        "",
        "| measure | HTTP | direct | baseline | ours | ours / baseline "
        "| spread | ours / direct |",
        "|---|---|--:|--:|--:|--:|--:|--:|",
    ]
    extra = ["", "| measure | baseline | ours | ours / baseline |", "|---|--:|--:|--:|"]
    extra += [_pair_row(label, base, ours) for label, base, ours in _process_rows(s)]
    routes, hook = s["routes"], s["hooks"]
    extra += [
        "",
        "Hooks per request, in process (µs, median): baseline's modify_headers "
        f"and map_remote {hook['baseline']['total_us']:.0f}, ours "
        f"{hook['ours']['total_us']:.0f} ("
        + ", ".join(f"{k} {v:.0f}" for k, v in hook["ours"]["hooks_us"].items())
        + ").",
        "",
        f"Route lookups with {routes['entries']} upstream entries: "
        f"{routes['lookups_per_s'] / 1000:.0f}k/s "
        f"(per lookup p50 {routes['batch_us_p50']:.2f} µs, "
        f"p99 {routes['batch_us_p99']:.2f} µs over batches of 100).",
    ]
    goal_lines = [
        "",
        "| goal | target | measured | met |",
        "|---|---|---|---|",
        *(
            f"| {g['name']} | {g['goal']} | {g['value']} | {'✓' if g['met'] else '✗'} |"
            for g in result["goals"]
        ),
    ]
    notes = [
        "",
        "direct: client → simulated gateway (HTTP/1.1 only, so no HTTP/2 row); "
        "baseline: plain mitmdump with map_remote, modify_headers and lazy "
        "connections (for the streaming rows also stream_large_bodies=150, "
        "see the README, Benchmarks); ours: aperture-proxy run. "
        "Numbers are medians over repetitions of each repetition's p50/p99; "
        "spread is the range of ours / baseline within single repetitions.",
    ]
    return "\n".join([*head, *_rows(s, protocols), *extra, *goal_lines, *notes]) + "\n"


def write(result: dict[str, Any], out: Path) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out / "latest.json", out / "latest.md"
    json_path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    md_path.write_text(markdown(result))
    return json_path, md_path


__all__ = ["Goal", "goals", "load_average", "machine", "markdown", "now", "summarise"]
