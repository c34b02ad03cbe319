"""A look at the OTEL_* values before the SDK reads them, so that a typo stops the run.

The SDK still reads every variable itself. But for many malformed values it only logs
a warning and carries on with a default, which a user never sees: a misspelt sampler
samples everything, a header without "=" sends no token, a certificate path that does
not exist falls back to the system's CAs, a batch size of "1k" becomes 512. Other
values pass the SDK and fail later, far from their cause (a port that is not a
number fails at the first export). Each check here names the variable and shows what
a right value looks like. Header values are never repeated: they carry tokens.
"""

import logging
import os
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from importlib.metadata import entry_points
from urllib.parse import urlsplit

from opentelemetry.util.re import parse_env_headers


class ConfigError(Exception):
    """The OpenTelemetry configuration in the environment cannot work; one-line message."""


# A check returns what is wrong with a value, or None when it is right.
Check = Callable[[str], str | None]


def _endpoint(value: str) -> str | None:
    url = urlsplit(value)
    if url.scheme not in ("http", "https"):
        return "has no http:// or https:// scheme"
    try:
        url.port  # noqa: B018 - urlsplit checks the port only when asked for it
    except ValueError:
        return "has a port that is not a number from 0 to 65535"
    return None if url.hostname else "has no host"


def _pairs(value: str) -> str | None:
    for number, item in enumerate(value.split(","), start=1):
        key, sep, _ = item.partition("=")
        if not (sep and key.strip()):
            return f"entry {number} is not key=value"
    return None


_GRPC_KEY = re.compile(r"[0-9a-z_.-]+")
_GRPC_VALUE = re.compile(r"[\x20-\x7e]*")


class _FromThisThread(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self._thread = threading.get_ident()

    def filter(self, record: logging.LogRecord) -> bool:
        return record.thread != self._thread


@contextmanager
def _parser_unheard() -> Iterator[None]:
    """The SDK's header parser logs an entry it refuses in full, token and all: its
    records from this thread are dropped while the block runs, and only those."""
    parser_log, dropped = logging.getLogger("opentelemetry.util.re"), _FromThisThread()
    parser_log.addFilter(dropped)
    try:
        yield
    finally:
        parser_log.removeFilter(dropped)


def _headers(value: str) -> str | None:
    # The exporter's own parser decides, entry by entry. An entry it refuses, it logs
    # and drops: so the SDK must never see one.
    with _parser_unheard():
        for number, item in enumerate(value.split(","), start=1):
            parsed = parse_env_headers(item, liberal=True)
            if not parsed:
                return f"entry {number} is not key=value with a percent-encoded value (no quotes, ;, \\ or non-ASCII)"
            # What gRPC sends as metadata: a lowercase key, a value of printable ASCII once
            # percent-decoded. Anything else it refuses only at the first export.
            [(key, decoded)] = parsed.items()
            if not (_GRPC_KEY.fullmatch(key) and _GRPC_VALUE.fullmatch(decoded)):
                return f"entry {number} is not a gRPC header: a key of a-z, 0-9, -, _ or ., a printable ASCII value"
    return None


def _positive_number(value: str) -> str | None:
    try:
        return None if float(value) > 0 else "is not above 0"
    except ValueError:
        return "is not a number"


def _positive_integer(value: str) -> str | None:
    try:
        return None if int(value) > 0 else "is not above 0"
    except ValueError:
        return "is not a whole number"


def _ratio(value: str) -> str | None:
    try:
        return None if 0 <= float(value) <= 1 else "is not from 0 to 1"
    except ValueError:
        return "is not a number"


def _boolean(value: str) -> str | None:
    return None if value.strip().lower() in ("true", "false") else "is neither true nor false"


def _one_of(*choices: str) -> Check:
    return lambda value: None if value.strip().lower() in choices else "is not a known value"


# The samplers of the specification that the SDK's TracerProvider builds from
# OTEL_TRACES_SAMPLER itself (its documented built-in values).
SPEC_SAMPLERS = (
    "always_on", "always_off", "parentbased_always_on", "parentbased_always_off",
    "traceidratio", "parentbased_traceidratio",
)  # fmt: skip
SAMPLER_ENTRY_POINTS = "opentelemetry_traces_sampler"


def known_samplers() -> tuple[str, ...]:
    """The names OTEL_TRACES_SAMPLER may take: the specification's, then those installed
    packages register as `opentelemetry_traces_sampler` entry points (which the distro
    loads). A name the SDK does not know, it only warns about, and samples everything."""
    registered = sorted(entry.name for entry in entry_points(group=SAMPLER_ENTRY_POINTS))
    return tuple(dict.fromkeys([*SPEC_SAMPLERS, *registered]))


def _sampler(value: str) -> str | None:
    name = value.strip().lower()
    # Installed packages are looked at only for a name beyond the specification's.
    return None if name in SPEC_SAMPLERS or name in known_samplers() else "is not a known value"


def _pem_file(value: str) -> str | None:
    try:
        with open(value, "rb") as file:
            head = file.read(1 << 16)
    except FileNotFoundError:
        return "is not an existing file"
    except OSError as error:
        return f"cannot be read ({error.strerror})"
    return None if b"-----BEGIN " in head else "holds no PEM data"


ENDPOINT = (_endpoint, "a URL with a scheme: http://jaeger:4317 (plaintext) or https://otel-collector:4317 (TLS)")
HEADERS = (_headers, "comma-separated key=value pairs, values percent-encoded: authorization=Bearer%20<token>")
COMPRESSION = (_one_of("gzip", "deflate", "none"), "gzip, deflate or none")
TIMEOUT = (_positive_number, "seconds above 0, for example 10")
PEM = (_pem_file, "the path of a PEM file, such as the ones scripts/make-certs.sh writes")
BOOLEAN = (_boolean, "true or false")

# Every variable checked, with what a right value is (or what says it, when the SDK's
# environment decides). The signal-specific variants (_TRACES_) override the general
# ones in the SDK, and are checked alike.
RULES: dict[str, tuple[Check, str | Callable[[], str]]] = {
    **{
        f"OTEL_EXPORTER_OTLP{signal}_{name}": rule
        for signal in ("", "_TRACES")
        for name, rule in (
            ("ENDPOINT", ENDPOINT),
            ("HEADERS", HEADERS),
            ("COMPRESSION", COMPRESSION),
            ("TIMEOUT", TIMEOUT),
            ("CERTIFICATE", PEM),
            ("CLIENT_KEY", PEM),
            ("CLIENT_CERTIFICATE", PEM),
            ("INSECURE", BOOLEAN),
        )
    },
    "OTEL_SDK_DISABLED": BOOLEAN,
    "OTEL_TRACES_SAMPLER": (_sampler, lambda: ", ".join(known_samplers())),
    "OTEL_TRACES_SAMPLER_ARG": (_ratio, "the sampled fraction, from 0 to 1, for example 0.25"),
    "OTEL_RESOURCE_ATTRIBUTES": (_pairs, "comma-separated key=value pairs: deployment.environment.name=prod"),
    "OTEL_BSP_SCHEDULE_DELAY": (_positive_integer, "milliseconds, a whole number above 0, for example 5000"),
    "OTEL_BSP_EXPORT_TIMEOUT": (_positive_integer, "milliseconds, a whole number above 0, for example 30000"),
    "OTEL_BSP_MAX_QUEUE_SIZE": (_positive_integer, "spans, a whole number above 0, for example 2048"),
    "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": (_positive_integer, "spans, a whole number above 0, for example 512"),
}

# Values not shown in messages, whatever is wrong with them.
SECRET = {"OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS"}


def check(environ: Mapping[str, str] = os.environ) -> None:
    """Raise ConfigError for the first OTEL_* value that cannot work as meant."""
    for name, (rule, right) in RULES.items():
        value = environ.get(name)
        if not value:  # empty means unset, as the OpenTelemetry specification says
            continue
        problem = rule(value)
        if problem:
            shown = name if name in SECRET else f"{name}={value!r}"
            raise ConfigError(f"{shown} {problem}; expected {right() if callable(right) else right}")
