"""A client for Jaeger's stable query API, api_v3 over HTTP: services, search, one trace.

It exists because api_v3 is the one HTTP surface every Jaeger since 1.55 serves:
Jaeger v2.21 removed `/api/services`, `/api/operations` and the `/api/traces?service=…`
search, which the UI no longer used. Only these three paths are asked:

    GET {base}/api/v3/services
    GET {base}/api/v3/traces?query.service_name=…&query.start_time_min=…&…
    GET {base}/api/v3/traces/{trace_id}

The base may carry a path (Jaeger's `--query.base-path`, `jaeger_query.base_path`), TLS
is verified against the system's CAs or a given CA file, and extra headers (a token for
a proxy in front of Jaeger) go with every request. No message of this module holds a
header's value or the URL's userinfo.
"""

import base64
import http.client
import json
import re
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from jaeger_smoke import otlp

DEFAULT_URL = "http://localhost:16686"

SERVICES_PATH = "/api/v3/services"
TRACES_PATH = "/api/v3/traces"
# The search's parameters, in one place. snake_case: the names Jaeger 1.55 knows, and
# that v2 still takes (2.13 only these; current Jaeger as aliases of its camelCase
# names). 1.55 answers camelCase with HTTP 400 "query.start_time_min and
# query.start_time_max are required".
SEARCH_SERVICE = "query.service_name"
SEARCH_OPERATION = "query.operation_name"
SEARCH_START_MIN = "query.start_time_min"
SEARCH_START_MAX = "query.start_time_max"
SEARCH_LIMIT = "query.num_traces"


class JaegerUnreachable(Exception):
    """No answer from Jaeger's API (yet): nothing listens, a timeout, or HTTP 5xx. Worth
    retrying while Jaeger, its storage or a proxy before it starts."""


class TLSFailed(JaegerUnreachable):
    """The TLS handshake failed (an unknown CA, a wrong host name): retrying will not help."""


class NotJaeger(Exception):
    """Something answered, but not with Jaeger's API: retrying will not help."""


def check_url(url: str) -> str:
    """`url` without a trailing slash, if it can be Jaeger's query service; ValueError
    saying what is wrong if not (with any userinfo hidden)."""
    shown = redact(url)
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - urllib checks the port only when asked for it
    except ValueError as error:
        raise ValueError(f"{shown!r} is not a URL ({error}); expected {DEFAULT_URL}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{shown!r} is not an http:// or https:// URL with a host; expected {DEFAULT_URL}")
    if parts.query or parts.fragment:
        raise ValueError(f"{shown!r} has a query or a fragment; expected a base URL such as {DEFAULT_URL}/jaeger")
    return url.rstrip("/")


def redact(url: str) -> str:
    """`url` with any userinfo (user:password@) replaced by `***@`: what messages show."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    authority, slash, path = rest.partition("/")
    if "@" in authority:
        authority = "***@" + authority.rpartition("@")[2]
    return f"{scheme}://{authority}{slash}{path}"


def rfc3339(unix_seconds: float) -> str:
    """A time as api_v3 takes it: RFC 3339 in UTC with nanoseconds."""
    whole = int(unix_seconds // 1)
    nanos = round((unix_seconds - whole) * 1e9)
    if nanos >= 1_000_000_000:
        whole, nanos = whole + 1, nanos - 1_000_000_000
    return datetime.fromtimestamp(whole, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{nanos:09d}Z"


def json_values(text: str) -> Iterator[Any]:
    """Every JSON value in `text`, one after another: a streamed answer holds several."""
    decoder, position = json.JSONDecoder(), 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position == len(text):
            return
        value, position = decoder.raw_decode(text, position)
        yield value


_BASE_HREF = re.compile(rb'<base href="([^"]*)"')


class JaegerClient:
    """Jaeger's api_v3 at `url` (its query service's base URL, any base path included)."""

    def __init__(
        self, url: str, *, ca_file: str | None = None, headers: Mapping[str, str] | None = None, timeout: float = 10
    ) -> None:
        checked = check_url(url)
        parts = urllib.parse.urlsplit(checked)
        self.headers = {"Accept": "application/json", **(headers or {})}
        if parts.username is not None or parts.password is not None:
            # Userinfo in the URL is sent as HTTP basic authentication, then dropped from it.
            user = urllib.parse.unquote(parts.username or "")
            password = urllib.parse.unquote(parts.password or "")
            basic = base64.b64encode(f"{user}:{password}".encode()).decode()
            self.headers.setdefault("Authorization", f"Basic {basic}")
            netloc = parts.netloc.rpartition("@")[2]
            checked = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))
        self.base_url = checked  # holds no secret: shown in messages and links
        self.timeout = timeout
        context = ssl.create_default_context(cafile=ca_file) if parts.scheme == "https" else None
        # Redirects are not followed: urllib would send the headers (a token) on to wherever
        # a redirect points.
        self._opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context), _NoRedirects())

    def _get(self, path: str, params: Mapping[str, object] | None = None, timeout: float | None = None) -> list:
        """The JSON values Jaeger answered `path` with; [] for api_v3's "not found"."""
        url = f"{self.base_url}{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        request = urllib.request.Request(url, headers=self.headers)
        try:
            with self._opener.open(request, timeout=self.timeout if timeout is None else timeout) as response:
                status, content_type, body = response.status, response.headers.get("Content-Type", ""), response.read()
        except urllib.error.HTTPError as error:
            status, content_type, body = error.code, error.headers.get("Content-Type", ""), error.read()
        except ssl.SSLError as error:
            raise TLSFailed(f"TLS with {self.base_url} failed: {getattr(error, 'reason', None) or error}") from None
        except urllib.error.URLError as error:
            if isinstance(error.reason, ssl.SSLError):
                reason = getattr(error.reason, "verify_message", None) or error.reason.reason or error.reason
                raise TLSFailed(f"TLS with {self.base_url} failed: {reason}") from None
            raise JaegerUnreachable(f"{self.base_url} is unreachable: {error.reason}") from None
        except (OSError, ValueError, http.client.HTTPException) as error:  # a reset, a timeout, a bad chunk
            raise JaegerUnreachable(f"{self.base_url} is unreachable: {error}") from None
        return self._answer(url, status, content_type, body)

    def _answer(self, url: str, status: int, content_type: str, body: bytes) -> list:
        shown = url.split("?", 1)[0]
        web_page = "html" in content_type
        if status >= 500:  # Jaeger's storage, or a proxy's upstream, not ready (yet)
            raise JaegerUnreachable(f"{shown} answered HTTP {status}{'' if web_page else _error_message(body)}")
        if 300 <= status < 400:
            raise NotJaeger(f"{shown} answered HTTP {status}, a redirect (not followed): is the URL right?")
        if status in (401, 403):
            raise NotJaeger(
                f"{shown} answered HTTP {status}: the credentials were refused; check the headers"
                " (--header, JAEGER_HEADERS) or the URL's user and password"
            )
        try:
            values = [] if web_page else list(json_values(body.decode()))
        except ValueError:
            values = []
        if status == 404 and values and all(_is_not_found(value) for value in values):
            return []  # api_v3: no such trace, or a search that found nothing (current Jaeger)
        if status == 200 and values and all(isinstance(value, dict) for value in values):
            return values
        question = f"is {self.base_url} Jaeger's query service (1.55 or later)?"
        if web_page and status == 200:
            # Jaeger's UI answers every path it does not know with its page, which names
            # the base path it is served under.
            base = _BASE_HREF.search(body)
            if base:
                raise NotJaeger(
                    f"{shown} answered Jaeger's UI page, not its API: is the base path right? The page names"
                    f" {base.group(1).decode()!r}"
                )
            raise NotJaeger(f"{shown} answered a web page, not Jaeger's API: {question}")
        raise NotJaeger(f"{shown} answered HTTP {status}{'' if web_page else _error_message(body)}: {question}")

    def services(self, timeout: float | None = None) -> list[str]:
        """The services Jaeger has spans of."""
        names: list[str] = []
        for value in self._get(SERVICES_PATH, timeout=timeout):
            if not isinstance(value.get("services", []), list):
                raise NotJaeger(f"{self.base_url}{SERVICES_PATH} did not answer with a list of services")
            names += value.get("services", [])
        return names

    def search(
        self,
        service: str,
        start_min: float,
        start_max: float,
        *,
        operation: str | None = None,
        limit: int = 20,
        timeout: float | None = None,
    ) -> list[otlp.Trace]:
        """Whole traces with a span of `service` (named `operation`, if given) that started
        from `start_min` to `start_max` (Unix seconds), at most `limit` of them."""
        params = {SEARCH_SERVICE: service}
        if operation is not None:
            params[SEARCH_OPERATION] = operation
        params |= {SEARCH_START_MIN: rfc3339(start_min), SEARCH_START_MAX: rfc3339(start_max), SEARCH_LIMIT: limit}
        return self._traces(self._get(TRACES_PATH, params, timeout))

    def trace(self, trace_id: str, timeout: float | None = None) -> otlp.Trace | None:
        """One whole trace, or None if Jaeger does not have it."""
        found = self._traces(self._get(f"{TRACES_PATH}/{trace_id}", timeout=timeout))
        return next((trace for trace in found if trace.trace_id == trace_id.lower().rjust(32, "0")), None)

    def _traces(self, values: list) -> list[otlp.Trace]:
        for value in values:
            if "error" in value and not _is_not_found(value):
                # An error in a streamed answer: Jaeger's storage failing, as a 5xx would say.
                raise JaegerUnreachable(f"{self.base_url} answered{_error_message(json.dumps(value).encode())}")
        try:
            return otlp.traces(value.get("result") or {} for value in values if "result" in value)
        except otlp.Malformed as error:
            raise NotJaeger(f"{self.base_url} answered a trace this client cannot read: {error}") from None


def _is_not_found(value: object) -> bool:
    return isinstance(value, dict) and isinstance(value.get("error"), dict) and value["error"].get("httpCode") == 404


def _error_message(body: bytes) -> str:
    """Jaeger's own words in an error answer (`{"error": {"message": …}}`), as ": …"."""
    try:
        first = next(json_values(body.decode()))
        message = first["error"]["message"]
    except (ValueError, TypeError, KeyError, StopIteration):
        text = body.decode(errors="replace").strip().splitlines()
        message = text[0][:200] if text else ""
    return f": {message}" if message else ""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # urllib then raises the 3xx as an HTTPError
