"""A small client for Jaeger's HTTP query API (the API its UI uses).

Standard library only, so that the smoke test runs with any Python 3.11+, outside
the project's virtual environment. The project's tests use it too: one client for
both, so the tests read Jaeger exactly as a user's CI does.
"""

import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

DEFAULT_URL = "http://localhost:16686"

Trace = dict[str, Any]


class JaegerUnreachable(Exception):
    """Nothing answered at the URL (yet): worth retrying while Jaeger starts."""


class NotJaeger(Exception):
    """Something answered, but not with Jaeger's API: retrying will not help."""


def url_from_env() -> str:
    """The query service's base URL: $JAEGER_URL, or Jaeger's default port on this host."""
    return os.environ.get("JAEGER_URL", DEFAULT_URL).rstrip("/")


def check_url(url: str) -> str:
    """`url` if it can be Jaeger's query service; ValueError saying what is wrong if not."""
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - checked only when asked for
    except ValueError as error:
        raise ValueError(f"{url!r} is not a URL ({error}); expected {DEFAULT_URL}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} is not an http:// or https:// URL with a host; expected {DEFAULT_URL}")
    return url.rstrip("/")


class JaegerAPI:
    def __init__(self, base_url: str, timeout: float = 5.0) -> None:
        self.base_url = check_url(base_url)
        self.timeout = timeout

    def _get(self, path: str, **params: object) -> Any:
        url = f"{self.base_url}{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        try:
            with urllib.request.urlopen(url, timeout=self.timeout) as response:
                body = response.read()
        except urllib.error.HTTPError as error:
            if error.code == 404 and path.startswith("/api/traces/"):
                return None  # not stored (yet)
            raise NotJaeger(f"{url} answered HTTP {error.code}: is {self.base_url} Jaeger's query service?") from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise JaegerUnreachable(f"{self.base_url} is unreachable: {reason}") from None
        try:
            answer = json.loads(body)
        except ValueError:
            answer = None
        if not isinstance(answer, dict) or "data" not in answer:
            raise NotJaeger(f"{url} did not answer with Jaeger's JSON: is {self.base_url} Jaeger's query service?")
        return answer["data"]

    def services(self) -> list[str]:
        return self._get("/api/services") or []

    def traces(
        self, service: str, *, since_seconds: float = 3600, until: float | None = None, limit: int = 20
    ) -> list[Trace]:
        """The service's most recent traces that started in the window ending at `until`
        (Unix seconds; default now). The window is given as start/end in microseconds:
        this API ignores `lookback`."""
        end = int((time.time() if until is None else until) * 1e6)
        start = end - int(since_seconds * 1e6)
        return self._get("/api/traces", service=service, start=start, end=end, limit=limit) or []

    def span_count(self, service: str, since: float, until: float, *, step: float = 1.0) -> int:
        """How many spans of the service Jaeger holds in traces from `since` to `until`
        (Unix seconds): what a load run delivered. Asked `step` seconds at a time, so
        that no answer gets huge; a trace found in two steps is counted once."""
        spans: dict[str, int] = {}
        start = since
        while start < until:
            end = min(start + step, until)
            for trace in self.traces(service, since_seconds=end - start, until=end, limit=1_000_000):
                spans[trace["traceID"]] = len(trace["spans"])
            start = end
        return sum(spans.values())

    def trace(self, trace_id: str) -> Trace | None:
        """One whole trace, or None if Jaeger does not have it."""
        data = self._get(f"/api/traces/{trace_id}")
        return data[0] if data else None
