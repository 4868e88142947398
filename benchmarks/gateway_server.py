"""A gateway for the benchmarks, in its own process: GoatFlow's plugin list, or too much.

`python -m benchmarks.gateway_server COUNT` prints its URL and serves until stopped:
  GET  /api/v1/plugins                the list of COUNT plugins in GoatFlow's shape,
                                      made once at start (Content-Length set)
  POST /api/v1/plugins/NAME/call/big  ?mb=N: N MiB of JSON, chunked, no length (so
                                      only reading it tells its size), made as sent
Its own process, so neither side's memory or CPU counts against the other.
"""

from __future__ import annotations

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

MiB = 1024 * 1024


def plugin_entry(index: int) -> dict[str, Any]:
    """One plugin as GoatFlow lists it (GATEWAY_API.md): routes, a widget, a job."""
    name = f"plugin-{index:05d}"
    return {
        "name": name,
        "version": f"1.{index % 7}.{index % 13}",
        "description": f"the {name} plugin: tickets, reports and nightly exports",
        "author": "GoatFlow benchmarks",
        "license": "Apache-2.0",
        "routes": [
            {"method": "GET", "path": f"/{name}/status", "handler": "status", "middleware": []},
            {"method": "POST", "path": f"/{name}/run", "handler": "run", "middleware": ["auth"]},
        ],
        "widgets": [
            {
                "id": "summary",
                "title": "Summary",
                "handler": "summary_widget",
                "location": "dashboard",
                "size": "medium",
                "refreshable": True,
                "refresh_sec": 30,
            }
        ],
        "jobs": [{"id": "nightly", "schedule": "0 2 * * *", "handler": "export", "timeout": "5m"}],
        "menuItems": [],
        "enabled": index % 10 != 0,
        "loaded": True,
    }


def plugin_list(count: int) -> bytes:
    return json.dumps({"plugins": [plugin_entry(i) for i in range(count)]}).encode()


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        if urlsplit(self.path).path != "/api/v1/plugins":
            self.send_error(404)
            return
        body = self.server.body
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        url = urlsplit(self.path)
        if not url.path.endswith("/call/big"):
            self.send_error(404)
            return
        mb = float(parse_qs(url.query).get("mb", ["500"])[0])
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        block = b'"' + b"x" * (MiB - 4) + b'",'
        try:
            self._chunk(b"[")
            for _ in range(int(mb)):
                self._chunk(block)
            self._chunk(b"0]")
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused half-way: what is being measured

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    body = b""


def main() -> None:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.body = plugin_list(int(sys.argv[1]))
    print(f"http://127.0.0.1:{server.server_address[1]} {len(server.body)}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
