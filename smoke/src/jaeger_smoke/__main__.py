"""`jaeger-smoke` (or `python3 -m jaeger_smoke`): is the expected trace in Jaeger?

It exists to give CI one command with one answer: it reads the expectation file, waits
for the trace in Jaeger's api_v3 (poll.py), compares it (compare.py), and says so in one
line, or with a diff, and an exit status a script can branch on. With `--record FILE` it
writes the trace as an expectation file instead (record.py), with the same statuses.

    0  the trace is right
    1  the trace has the wrong shape (the diff says how)
    2  bad arguments, or a malformed expectation file
    3  Jaeger unreachable (after waiting), or TLS with it failed
    4  not Jaeger: something answered, but not Jaeger's API (no waiting)
    5  no such trace within the timeout

Errors are one line, never a traceback, and never show a header's value or the URL's
userinfo. Ctrl+C ends it with 130. Under GitHub Actions (GITHUB_ACTIONS=true) a failure
is also an `::error` annotation, and its diff a collapsed group of the log.
"""

import argparse
import os
import re
import ssl
import sys
import time
import urllib.parse
from collections.abc import Callable, Sequence

from jaeger_smoke import __version__, junit, poll, record
from jaeger_smoke.api import DEFAULT_URL, JaegerClient, JaegerUnreachable, NotJaeger, TLSFailed, check_url
from jaeger_smoke.compare import can_be_root, compare
from jaeger_smoke.expectation import ExpectationError, Regex, load
from jaeger_smoke.otlp import Span, Trace

EXIT_OK, EXIT_WRONG, EXIT_USAGE, EXIT_UNREACHABLE, EXIT_NOT_JAEGER, EXIT_NO_TRACE = 0, 1, 2, 3, 4, 5
DEFAULT_EXPECT = "expected-trace.json"
# An HTTP header's name (RFC 9110's token), and its value: visible ASCII, spaces and tabs.
# Anything else would fail in http.client with an error that quotes part of the value.
HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
HEADER_VALUE = re.compile(r"[\t\x20-\x7e]*")
HEADER_EXAMPLE = "authorization=Bearer <token>"


def _seconds(what: str, example: str):  # -> a type function for argparse
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = 0.0
        if not 0 < value < float("inf"):
            raise argparse.ArgumentTypeError(
                f"invalid {what} {text!r}: expected seconds above 0, for example {example}"
            )
        return value

    return parse


def _jaeger_url(text: str) -> str:
    try:
        return check_url(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"invalid Jaeger URL (--jaeger-url or JAEGER_URL): {error}") from None


def _ca_file(text: str) -> str:
    # Read now, so that a wrong path is a usage error, not a TLS failure later.
    try:
        ssl.create_default_context(cafile=text)
    except OSError as error:  # ssl.SSLError is an OSError too
        reason = "is not an existing file" if isinstance(error, FileNotFoundError) else "holds no PEM certificate"
        if not isinstance(error, ssl.SSLError | FileNotFoundError):
            reason = f"cannot be read ({error.strerror or error})"
        raise argparse.ArgumentTypeError(
            f"invalid CA file (--ca-file or JAEGER_CA_FILE): {text!r} {reason}; expected the PEM file of the CA"
            " that signed Jaeger's (or its proxy's) certificate"
        ) from None
    return text


def _header(text: str) -> tuple[str, str]:
    # The value is never repeated in a message: it may be a token.
    name, equals, value = text.partition("=")
    name = name.strip()
    if not equals or not HEADER_NAME.fullmatch(name):
        raise argparse.ArgumentTypeError(f"invalid --header: expected NAME=VALUE, for example {HEADER_EXAMPLE}")
    if not HEADER_VALUE.fullmatch(value):
        raise argparse.ArgumentTypeError(
            f"invalid --header {name}: its value holds a character other than visible ASCII"
        )
    return name, value.strip()


def headers_from_env(text: str) -> dict[str, str]:
    """JAEGER_HEADERS: comma-separated name=value pairs, values percent-encoded (as
    OTEL_EXPORTER_OTLP_HEADERS). ValueError naming the entry, never its value."""
    headers = {}
    for number, entry in enumerate(text.split(","), 1):
        if not entry.strip():
            continue
        name, equals, encoded = entry.partition("=")
        value = urllib.parse.unquote(encoded.strip())
        if not equals or not HEADER_NAME.fullmatch(name.strip()) or not HEADER_VALUE.fullmatch(value):
            raise ValueError(
                f"JAEGER_HEADERS entry {number} is not name=value with a percent-encoded value; expected"
                " comma-separated name=value pairs: authorization=Bearer%20<token>"
            )
        headers[name.strip()] = value
    return headers


def _trace_id(text: str) -> str:
    if not re.fullmatch(r"[0-9a-fA-F]{1,32}", text) or not int(text, 16):
        raise argparse.ArgumentTypeError(f"invalid trace id {text!r}: expected up to 32 hex digits, not all zero")
    return text.lower().rjust(32, "0")


def _record_file(text: str) -> str:
    # Checked now, before any waiting; the file itself is written at the end, whole.
    folder = os.path.dirname(os.path.abspath(text))
    if os.path.isdir(text):
        reason = "is a directory"
    elif not os.path.isdir(folder):
        reason = "is in a directory that does not exist"
    elif not os.access(folder, os.W_OK) or (os.path.exists(text) and not os.access(text, os.W_OK)):
        reason = "cannot be written (permission denied)"
    else:
        return text
    raise argparse.ArgumentTypeError(f"invalid --record file {text!r}: it {reason}")


def _keys(text: str) -> list[str]:
    keys = [key.strip() for key in text.split(",")]
    if not all(keys):
        raise argparse.ArgumentTypeError(
            f"invalid --record-attributes {text!r}: expected attribute keys, comma-separated: net.peer.name,user.id"
        )
    return keys


def _service(text: str) -> str:
    if not text:
        raise argparse.ArgumentTypeError("invalid service: expected a service name, not an empty one")
    return text


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        # One line and status 2, not argparse's usage block.
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def parser(prog: str, default_expect: str) -> argparse.ArgumentParser:
    command = _Parser(
        prog=prog,
        description="Wait for a trace in Jaeger (api_v3) and check it against an expectation file.",
        epilog="Exit status: 0 the trace is right, 1 wrong shape, 2 bad arguments or expectation file, 3 Jaeger"
        " unreachable, 4 not Jaeger, 5 no such trace in time. docs/smoke-test.md: the file's format.",
    )
    command.add_argument(
        "--expect", metavar="FILE", default=default_expect, help="the expectation file (default: %(default)s)"
    )
    command.add_argument("--service", type=_service, help="the service to look for, instead of the file's")
    command.add_argument("--trace-id", type=_trace_id, help="check this trace, instead of the newest that fits")
    command.add_argument(
        "--since", type=_seconds("--since", "900"), default=900.0, metavar="SECONDS",
        help="look for traces that started in the last SECONDS (default: 900)",
    )  # fmt: skip
    command.add_argument(
        "--timeout", type=_seconds("timeout", "30"), default=30.0, metavar="SECONDS",
        help="give up after SECONDS, and report what there is (default: 30)",
    )  # fmt: skip
    command.add_argument(
        "--jaeger-url", type=_jaeger_url, default=os.environ.get("JAEGER_URL", DEFAULT_URL), metavar="URL",
        help=f"Jaeger's query service, any base path included (default: $JAEGER_URL or {DEFAULT_URL})",
    )  # fmt: skip
    command.add_argument(
        "--ca-file", type=_ca_file, default=os.environ.get("JAEGER_CA_FILE") or None, metavar="PATH",
        help="the CA that signed the https:// server's certificate (default: $JAEGER_CA_FILE, else the system's)",
    )  # fmt: skip
    command.add_argument(
        "--header", type=_header, action="append", default=[], metavar="NAME=VALUE",
        help="an HTTP header for every request, for example a proxy's token (repeatable; also $JAEGER_HEADERS,"
        " comma-separated, values percent-encoded)",
    )  # fmt: skip
    command.add_argument(
        "--settle", type=_seconds("--settle", "0.4"), default=poll.SETTLE, metavar="SECONDS",
        help="the same spans for SECONDS before the verdict: nothing more is coming (default: %(default)s)",
    )  # fmt: skip
    command.add_argument("--junit", metavar="FILE", help="also write the outcome as JUnit XML to FILE")
    command.add_argument(
        "--record", type=_record_file, metavar="FILE",
        help="write the trace (the newest of --service, or --trace-id) as an expectation file, instead of checking",
    )  # fmt: skip
    command.add_argument(
        "--record-attributes", type=_keys, default=[], metavar="KEY,...",
        help="with --record: attribute keys to record besides the semantic conventions' stable ones",
    )  # fmt: skip
    command.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return command


def main(argv: Sequence[str] | None = None, prog: str = "jaeger-smoke", default_expect: str | None = None) -> int:
    """Run the check; return the exit status."""
    command = parser(prog, default_expect or DEFAULT_EXPECT)
    args = command.parse_args(argv)
    try:
        headers = headers_from_env(os.environ.get("JAEGER_HEADERS", ""))
    except ValueError as error:
        command.error(str(error))
    headers |= dict(args.header)
    if args.record is None and args.record_attributes:
        command.error("--record-attributes goes with --record")
    if args.record is not None and args.service is None and args.trace_id is None:
        command.error("--record needs --service or --trace-id: which trace to record")
    if args.record is not None and args.junit is not None:
        command.error("--junit reports a check, not --record")
    try:
        if args.record is not None:
            return _record(args, headers)
        return _check(args, headers)
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


def _check(args: argparse.Namespace, headers: dict[str, str]) -> int:
    report = _Report(args.junit)
    file_check = f"expectation file {args.expect}"
    try:
        expectation = load(args.expect)
    except ExpectationError as error:
        return report.failed(EXIT_USAGE, file_check, "error", f"error: {error}")
    report.passed(file_check)
    if args.service:
        expectation = expectation.with_service(args.service)

    client = JaegerClient(args.jaeger_url, ca_file=args.ca_file, headers=headers)
    root = expectation.root
    wanted = poll.Wanted(
        service=expectation.service_of(root),
        is_root=lambda span: can_be_root(expectation, span),
        operation=None if isinstance(root.name, Regex) else root.name,
        since=args.since,
        trace_id=args.trace_id,
        least_spans=expectation.total(),
    )
    outcome = poll.wait(client, wanted, timeout=args.timeout, settle=args.settle)
    api_check = f"Jaeger's API at {client.base_url}"
    if outcome.trace is None and outcome.error is not None:
        status, line = _failed_to_ask(outcome.error, args.timeout)
        return report.failed(status, api_check, "error", line)
    report.passed(api_check)

    which = _wanted(expectation.service_of(root), str(root.name), args.trace_id, args.since)
    if outcome.trace is None:
        line = _no_trace(client, wanted.service, which, args.timeout, by_id=args.trace_id is not None)
        return report.failed(EXIT_NO_TRACE, which, "failure", line)
    report.passed(which)

    trace = outcome.trace
    link = f"{client.base_url}/trace/{trace.trace_id}"
    comparison = compare(expectation, trace)
    shape_check = f"the trace matches {args.expect}"
    if not comparison.matches:
        found = f"{len(trace.spans)} spans found" + ("" if outcome.stable else f" after {args.timeout:g}s")
        line = (
            f"FAIL: trace {trace.trace_id} does not have the shape {args.expect} expects"
            f" ({found}, {expectation.spans_expected()} expected): {link}"
        )
        diff = comparison.diff(f"expected ({args.expect})", f"found in Jaeger (trace {trace.trace_id})")
        return report.failed(EXIT_WRONG, shape_check, "failure", line, diff)
    spans = f"{expectation.total()} spans" if expectation.root.is_exact() else f"shape ({len(trace.spans)} spans)"
    print(f"ok: trace {trace.trace_id} has the expected {spans}: {link}", flush=True)
    report.passed(shape_check)
    return report.finish(EXIT_OK)


def _record(args: argparse.Namespace, headers: dict[str, str]) -> int:
    report = _Report(None)
    service = args.service

    def is_root(span: Span) -> bool:
        return not span.parent_id and (service is None or span.service == service)

    client = JaegerClient(args.jaeger_url, ca_file=args.ca_file, headers=headers)
    wanted = poll.Wanted(service=service or "", is_root=is_root, since=args.since, trace_id=args.trace_id)
    outcome = poll.wait(client, wanted, timeout=args.timeout, settle=args.settle)
    if outcome.trace is None and outcome.error is not None:
        status, line = _failed_to_ask(outcome.error, args.timeout)
        return report.failed(status, "", "error", line)
    if outcome.trace is None:
        which = _wanted(service, None, args.trace_id, args.since)
        line = _no_trace(client, service, which, args.timeout, by_id=args.trace_id is not None)
        return report.failed(EXIT_NO_TRACE, "", "failure", line)
    trace = outcome.trace
    root = _newest_root(trace, is_root)
    try:
        if root is None:
            raise record.CannotRecord("it has no span without a parent" + (f" of {service!r}" if service else ""))
        data = record.document(trace, root, [*record.STABLE_ATTRIBUTES, *args.record_attributes])
    except record.CannotRecord as error:
        return report.failed(EXIT_WRONG, "", "failure", f"FAIL: trace {trace.trace_id} cannot be recorded: {error}")
    try:
        record.write(args.record, data)
    except OSError as error:
        line = f"error: cannot write the expectation file {args.record}: {error.strerror or error}"
        return report.failed(EXIT_USAGE, "", "error", line)
    print(
        f"recorded: trace {trace.trace_id} ({len(trace.spans)} spans) as {args.record}; check with --expect"
        f" {args.record}: {client.base_url}/trace/{trace.trace_id}",
        flush=True,
    )
    return EXIT_OK


def _newest_root(trace: Trace, is_root: Callable[[Span], bool]) -> Span | None:
    roots = [span for span in trace.spans if is_root(span)]
    return max(roots, key=lambda span: span.start_ns) if roots else None


def _wanted(service: str | None, root_name: str | None, trace_id: str | None, since: float) -> str:
    if trace_id is not None:
        return f"trace {trace_id}"
    root = f" with root span {root_name!r}" if root_name is not None else ""
    return f"trace of service {service!r}{root} that started in the last {since:g}s"


def _failed_to_ask(error: Exception, timeout: float) -> tuple[int, str]:
    """The exit status and the line for a Jaeger that gave no answer."""
    if isinstance(error, TLSFailed):
        return (
            EXIT_UNREACHABLE,
            f"error: {error}; give the CA that signed its certificate with --ca-file or JAEGER_CA_FILE",
        )
    if isinstance(error, NotJaeger):
        return EXIT_NOT_JAEGER, f"error: {error}"
    assert isinstance(error, JaegerUnreachable)
    return EXIT_UNREACHABLE, f"error: {error} (waited {timeout:g}s)"


def _no_trace(client: JaegerClient, service: str | None, wanted: str, timeout: float, by_id: bool) -> str:
    line = f"FAIL: no {wanted} in Jaeger at {client.base_url} after {timeout:g}s"
    if by_id or service is None:
        return line
    try:
        services = client.services(timeout=5)
    except (JaegerUnreachable, NotJaeger):
        return line
    if service not in services:
        # What a typo in a service name looks like: say what Jaeger has.
        line += f"; Jaeger has no spans of {service!r}" + (
            f", only of: {', '.join(sorted(services))}" if services else ""
        )
    return line


class _Report:
    """Each check's outcome, in order: a failed one said on stderr, and all of them written
    as JUnit XML when asked (`--junit`)."""

    CHECKS = ("expectation file", "Jaeger's API", "trace", "the trace matches")  # in the order they run

    def __init__(self, path: str | None) -> None:
        self.path, self.cases = path, list[junit.Case]()
        self.started = self.last = time.monotonic()

    def _add(self, case: junit.Case) -> None:
        now = time.monotonic()
        case.seconds, self.last = now - self.last, now
        self.cases.append(case)

    def passed(self, check: str) -> None:
        self._add(junit.Case(check, "passed"))

    def failed(self, status: int, check: str, outcome: str, line: str, details: Sequence[str] = ()) -> int:
        """Say `line` (and `details`: the diff) on stderr; the report ends with this check. Under
        GitHub Actions, also an annotation on stdout, and the diff in a collapsed group there."""
        if os.environ.get("GITHUB_ACTIONS") == "true":
            print(f"::error title=jaeger-smoke::{_annotation(line)}", flush=True)
            print(line, file=sys.stderr, flush=True)
            if details:
                print("\n".join(["::group::the diff: expected (-) and found in Jaeger (+)", *details, "::endgroup::"]))
                sys.stdout.flush()
        else:
            print("\n".join([line, *details]), file=sys.stderr, flush=True)
        self._add(junit.Case(check, outcome, line, "\n".join(details)))
        return self.finish(status)

    def finish(self, status: int) -> int:
        """Write the report, if asked; the exit status (2 if the report cannot be written)."""
        if self.path is None:
            return status
        self.cases += [junit.Case(f"{check} (not run)", "skipped") for check in self.CHECKS[len(self.cases) :]]
        try:
            junit.write(self.path, self.cases, time.monotonic() - self.started)
        except OSError as error:
            print(f"error: cannot write the JUnit report {self.path}: {error.strerror or error}", file=sys.stderr)
            return EXIT_USAGE
        return status


def _annotation(text: str) -> str:
    """`text` as a workflow command's message: GitHub's escapes for %, CR and LF."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def run() -> None:
    """The console script's entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
