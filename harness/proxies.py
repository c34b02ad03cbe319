"""Small HTTP proxies in front of the real Jaeger query port, for the smoke test's tests
and benchmark:

- the filter answers exactly the endpoints Jaeger v2.21 removed as current Jaeger does
  (HTTP 404, Go's "404 page not found"), passes everything else on, and records every
  path asked: a smoke test that passes through it asks only what current Jaeger serves;
- the TLS proxy serves https with the certificates of scripts/make-certs.sh and passes
  on only requests that carry its bearer token, as a proxy in front of a team's Jaeger
  would.
"""

import http.client
import http.server
import re
import ssl
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

# GET /api/services, /api/operations, /api/services/{service}/operations, and the search
# /api/traces?service=…: removed by jaegertracing/jaeger#9260 (v2.21). /api/traces/{id} stays.
_REMOVED_PATHS = re.compile(r"/api/services|/api/operations|/api/services/[^/]+/operations")
NOT_FOUND = b"404 page not found\n"


def is_removed(path_and_query: str) -> bool:
    """Whether current Jaeger lacks this endpoint (a request's path, with its query)."""
    parts = urllib.parse.urlsplit(path_and_query)
    if _REMOVED_PATHS.fullmatch(parts.path):
        return True
    return parts.path == "/api/traces" and "service" in urllib.parse.parse_qs(parts.query)


@dataclass
class Proxy:
    url: str  # where to send requests
    asked: list[str] = field(default_factory=list)  # each request's path and query, in order


@contextmanager
def _running(upstream: str, *, filter_removed: bool, certs: Path | None, token: str | None) -> Iterator[Proxy]:
    target = urllib.parse.urlsplit(upstream)
    proxy = Proxy("")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            proxy.asked.append(self.path)
            if token is not None and self.headers.get("Authorization") != f"Bearer {token}":
                self._answer(401, b"401 unauthorized: a bearer token is required\n", "text/plain; charset=utf-8")
            elif filter_removed and is_removed(self.path):
                self._answer(404, NOT_FOUND, "text/plain; charset=utf-8")
            else:
                self._forward()

        def _forward(self) -> None:
            connection = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
            try:
                connection.request("GET", target.path.rstrip("/") + self.path, headers={"Accept": "*/*"})
                response = connection.getresponse()
                self._answer(response.status, response.read(), response.getheader("Content-Type", ""))
            finally:
                connection.close()

        def _answer(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    scheme = "http"
    if certs is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certs / "jaeger" / "server.pem", certs / "jaeger" / "server.key")
        server.socket = context.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    proxy.url = f"{scheme}://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def running_filter(upstream: str) -> AbstractContextManager[Proxy]:
    """The filter in front of `upstream` (Jaeger's query URL): removed endpoints as v2.21+."""
    return _running(upstream, filter_removed=True, certs=None, token=None)


def running_tls_proxy(upstream: str, certs: Path, token: str) -> AbstractContextManager[Proxy]:
    """An https proxy in front of `upstream` with `certs` (make-certs.sh's folder) that
    passes on only requests with `Authorization: Bearer <token>`."""
    return _running(upstream, filter_removed=False, certs=certs, token=token)
