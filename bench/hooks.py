"""The addon's own cost, in process: its hooks against the baseline's two addons.

The same request an SDK sends (2 kB JSON to ``api.openai.com`` with the
openai-python headers) runs through aperture-proxy's hooks and, separately,
through the built-in ``modify_headers`` and ``map_remote`` addons configured
as the baseline's command line configures them. Both run with mitmproxy's
terminal log attached (writing to ``/dev/null``), as in the real process.
Everything else a proxy does for a request (TLS, HTTP parsing, the flow log
line) is mitmproxy's own and the same for both; the end-to-end CPU time per
request of the latency scenario holds that part.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mitmproxy import http
from mitmproxy.addons import mapremote, modifyheaders, termlog
from mitmproxy.addons.proxyauth import ProxyAuth
from mitmproxy.addons.proxyserver import Proxyserver
from mitmproxy.test import taddons, tflow

from aperture_proxy.addon import Aperture
from bench.clients import PROVIDER_URL, chat_body
from bench.processes import BENCH_KEY, Workspace
from bench.sizes import Sizes

GATEWAY = "http://127.0.0.1:9"
HOOKS = ("requestheaders", "request", "responseheaders", "response")

_SDK_HEADERS = [
    ("Host", "api.openai.com"),
    ("Accept-Encoding", "gzip, deflate"),
    ("Connection", "keep-alive"),
    ("Accept", "application/json"),
    ("Content-Type", "application/json"),
    ("User-Agent", "OpenAI/Python 2.8.1"),
    ("X-Stainless-Lang", "python"),
    ("X-Stainless-Package-Version", "2.8.1"),
    ("X-Stainless-OS", "Linux"),
    ("X-Stainless-Arch", "x64"),
    ("X-Stainless-Runtime", "CPython"),
    ("X-Stainless-Runtime-Version", "3.13.0"),
    ("Authorization", f"Bearer {BENCH_KEY}"),
    ("X-Stainless-Async", "false"),
    ("X-Stainless-Retry-Count", "0"),
    ("X-Stainless-Read-Timeout", "600"),
]


def _flows(count: int, body: bytes) -> list[http.HTTPFlow]:
    pairs = [*_SDK_HEADERS, ("Content-Length", str(len(body)))]
    made = []
    for _ in range(count):
        headers = http.Headers([(k.encode(), v.encode()) for k, v in pairs])
        request = http.Request.make("POST", PROVIDER_URL, body, headers)
        made.append(tflow.tflow(req=request))
    return made


def _answer(flow: http.HTTPFlow) -> None:
    flow.response = http.Response.make(200, b"{}", {"content-type": "application/json"})


async def _time_hooks(
    flows: list[http.HTTPFlow], hooks: dict[str, Callable[[http.HTTPFlow], Any]]
) -> dict[str, list[float]]:
    """µs per hook per flow; the answer arrives between request and response."""
    times: dict[str, list[float]] = {name: [] for name in hooks}
    for flow in flows:
        for name, hook in hooks.items():
            if name == "responseheaders":
                _answer(flow)
            started = time.perf_counter_ns()
            result = hook(flow)
            if asyncio.iscoroutine(result):
                await result
            times[name].append((time.perf_counter_ns() - started) / 1000)
    return times


def _run(flows: int, reps: int) -> list[dict[str, Any]]:
    body = chat_body(2048, stream=False)
    ours = Aperture()
    remap, headers = mapremote.MapRemote(), modifyheaders.ModifyHeaders()
    with (
        open(os.devnull, "w") as devnull,
        taddons.context(
            Proxyserver(),
            ProxyAuth(),
            termlog.TermLog(out=devnull),
            remap,
            headers,
            ours,
        ) as tctx,
    ):
        tctx.configure(ours, aperture_gateway=GATEWAY)
        tctx.configure(
            remap, map_remote=[rf"|^https://api\.openai\.com/v1/|{GATEWAY}/v1/"]
        )
        tctx.configure(headers, modify_headers=["|~q|Authorization|"])
        sides = {
            "baseline": {
                "requestheaders": headers.requestheaders,
                "request": remap.request,
                "responseheaders": headers.responseheaders,
            },
            "ours": {name: getattr(ours, name) for name in HOOKS},
        }
        results = []
        for _ in range(reps):
            rep: dict[str, Any] = {}
            for side, hooks in sides.items():
                assert ours.health is not None
                ours.health.mark_ok()  # no probe: the gateway has just answered
                batch = _flows(flows, body)
                times = tctx.master.event_loop.run_until_complete(
                    _time_hooks(batch, hooks)
                )
                target = batch[0].request
                if target.host != "127.0.0.1" or "authorization" in target.headers:
                    raise RuntimeError(f"{side} did not reroute the in-process flow")
                medians = {name: statistics.median(t) for name, t in times.items()}
                rep[side] = {"hooks_us": medians, "total_us": sum(medians.values())}
            results.append(rep)
        tctx.master.addons.clear()
    return results


def measure(workspace: Workspace, sizes: Sizes) -> list[dict[str, Any]]:
    """Per repetition and side: the median µs of each hook and their sum.

    Runs in a child process with the proxies' environment, so no user config
    and no state of this process changes what the addon does.
    """
    done = subprocess.run(
        [sys.executable, "-m", "bench.hooks", str(sizes.hook_flows), str(sizes.reps)],
        env=workspace.env(),
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the hook microbenchmark failed:\n{done.stderr[-3000:]}")
    reps: list[dict[str, Any]] = json.loads(done.stdout)
    return reps


if __name__ == "__main__":
    print(json.dumps(_run(int(sys.argv[1]), int(sys.argv[2]))))
