"""Runtime settings of the simulated gateway: reply, pacing and injected faults."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Fault = Literal[
    "none",
    "status_429",
    "restarting",
    "stall",
    "cut",
    "garbage",
    "catalogue_down",
]

McpFault = Literal["none", "error", "stall", "connectors_down"]


class SimSettings(BaseModel):
    """How the simulated gateway answers; every field may change while it runs.

    Assignments are validated, so a test that writes ``gw.settings.delay = -1``
    fails at once instead of producing a confusing stream later.

    >>> s = SimSettings(chunks=2, reply="abcd")
    >>> s.fault
    'none'
    """

    model_config = ConfigDict(validate_assignment=True, extra="forbid")

    chunks: int = Field(default=5, ge=1, le=100_000)
    """Number of content pieces a streamed answer is split into."""

    delay: float = Field(default=0.0, ge=0.0, le=3600.0)
    """Seconds between two consecutive streamed events."""

    reply: str = "Hello from the simulated Aperture gateway."
    """The text every model answers; streamed answers split it across chunks."""

    fault: Fault = "none"
    """The failure to inject (see the package docstring for how each looks)."""

    fault_after: int = Field(default=2, ge=0)
    """For ``cut`` and ``garbage``: content events sent before the fault."""

    stall_seconds: float = Field(default=30.0, ge=0.0, le=3600.0)
    """For ``stall``: how long the gateway stays silent before answering."""

    retry_after: int = Field(default=7, ge=0)
    """The ``Retry-After`` header of the 429 and the restarting 503."""

    stamp_events: bool = False
    """Start every server-sent event with a comment ``: sent_at=<unix seconds>``
    taken just before the event is sent, so a client can measure how long each
    event took to arrive (the benchmarks use it). Other stream formats are sent
    unchanged."""

    mcp_fault: McpFault = "none"
    """The connector failure to inject: ``error`` (``tools/list`` and
    ``tools/call`` answer a JSON-RPC error), ``stall`` (``tools/call`` answers
    only after ``stall_seconds``) or ``connectors_down`` (``/api/connectors``
    answers 500)."""

    mcp_session_requests: int | None = Field(default=None, ge=0)
    """Requests an MCP session answers after ``initialize`` before it expires
    (404 ``Session not found``); None keeps sessions until the gateway stops."""
