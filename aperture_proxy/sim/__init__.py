"""The simulated Aperture gateway: a local server speaking the gateway's contract.

It serves the catalogue (``/api/providers``, ``/v1/models`` with pricing,
``/api/connectors``) and the LLM paths of every API format, each answering in
its provider's own wire format, streamed for real when the request asks for a
stream. Every request is recorded (method, path with query, headers as sent,
body) before it is answered. Control endpoints under ``/_sim/`` let another
process read the record and change :class:`SimSettings`.

Faults (``SimSettings.fault``) on the LLM paths:

- ``status_429``: 429, ``Retry-After``, ``{"error": {"message": "quota
  exhausted …", "type": "rate_limit"}}``.
- ``restarting``: 503, ``Retry-After``, text ``aperture is restarting, please
  retry``.
- ``stall``: nothing at all for ``stall_seconds``, then the normal answer.
- ``cut``: the headers and ``fault_after`` content events, then the connection
  is dropped without the final chunk (a non-streamed body is dropped halfway).
- ``garbage``: ``fault_after`` content events, then bytes that are neither
  UTF-8 nor SSE, then a normal end (a non-streamed body is only garbage).

``catalogue_down`` makes ``/api/providers`` and ``/v1/models`` answer 500.
A refused connection is a stopped gateway: ``stop()``, then ``start()`` again
on the same port.
"""

from aperture_proxy.sim.recording import RecordedRequest
from aperture_proxy.sim.server import SimulatedGateway, serve
from aperture_proxy.sim.settings import Fault, SimSettings
from aperture_proxy.sim.streaming import GARBAGE

__all__ = [
    "GARBAGE",
    "Fault",
    "RecordedRequest",
    "SimSettings",
    "SimulatedGateway",
    "serve",
]
