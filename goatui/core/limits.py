"""The deadlines and size limits every transport shares (sockets, gateway, the host).

Here rather than in one transport so that using one (the gateway's httpx) never imports
another's library (grpc).
"""

from __future__ import annotations

MiB = 1024 * 1024
# gRPC's default receive limit is 4 MiB: too small for real reports.
DEFAULT_MAX_MESSAGE_MB = 64
DEFAULT_CALL_TIMEOUT_S = 30.0
DEFAULT_PROBE_TIMEOUT_S = 2.0
