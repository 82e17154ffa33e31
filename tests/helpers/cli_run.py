"""Running ``aperture-proxy ARGS…`` in the test process and keeping what it printed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from aperture_proxy import cli


@dataclass
class Result:
    code: int
    out: str
    err: str


def cli_runner(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """A function running the command line in-process: exit code, stdout, stderr."""

    def invoke(*args: str) -> Result:
        capsys.readouterr()
        code = cli.main(list(args))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return invoke
