"""Benchmarks: aperture-proxy against plain mitmdump and against no proxy at all.

``uv run python -m bench`` starts, in one process tree on 127.0.0.1, the
simulated gateway, a plain ``mitmdump`` doing the same rewrite for OpenAI with
its built-in ``map_remote`` and ``modify_headers`` options (the baseline), and
``aperture-proxy run`` (ours). Clients call the gateway directly, through the
baseline and through ours, interleaved repetition by repetition so that a busy
machine slows all three alike, and the results are written as JSON and as a
Markdown table of ratios under ``bench/results/``.
"""
