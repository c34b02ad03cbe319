"""The OTEL_* checks made before anything runs: what passes, what stops the run, and the
values they share with the SDK, pinned against the SDK itself."""

import logging
import threading
from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from inprocess_grpc import env_checks
from inprocess_grpc.env_checks import ConfigError, check

pytestmark = pytest.mark.fast


def refusal(**environ: str) -> str:
    with pytest.raises(ConfigError) as refused:
        check(environ)
    return str(refused.value)


@pytest.mark.parametrize(
    "sampler",
    ["always_on", "always_off", "traceidratio", "parentbased_always_on", "parentbased_always_off",
     "parentbased_traceidratio", "ParentBased_TraceIdRatio"],
)  # fmt: skip
def test_every_sampler_the_sdk_knows_passes(sampler: str) -> None:
    check({"OTEL_TRACES_SAMPLER": sampler})


def test_a_sampler_the_sdk_does_not_know_is_refused_naming_the_ones_it_knows() -> None:
    # The SDK falls back to its default for a name it does not know; a check that
    # accepted such a name would hide the typo.
    assert refusal(OTEL_TRACES_SAMPLER="parentbased_jaeger_remote") == (
        "OTEL_TRACES_SAMPLER='parentbased_jaeger_remote' is not a known value; expected always_on, always_off, "
        "parentbased_always_on, parentbased_always_off, traceidratio, parentbased_traceidratio"
    )


def test_the_specifications_samplers_are_the_ones_the_installed_sdk_registers() -> None:
    registered = entry_points(group="opentelemetry_traces_sampler")
    assert {entry.name for entry in registered if entry.value.startswith("opentelemetry.sdk.")} == set(
        env_checks.SPEC_SAMPLERS
    )


@pytest.fixture
def sampler_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """An installed package registering a sampler of its own, "tail_friendly", the way the
    SDK's configuration finds one (an `opentelemetry_traces_sampler` entry point)."""
    info = tmp_path / "tail_sampler-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: tail-sampler\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[opentelemetry_traces_sampler]\ntail_friendly = tail_sampler:sampler\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    return "tail_friendly"


def test_a_sampler_an_installed_package_registers_passes_and_is_named_among_the_known(sampler_package: str) -> None:
    check({"OTEL_TRACES_SAMPLER": sampler_package})
    assert refusal(OTEL_TRACES_SAMPLER="tail_friendy").endswith(
        "; expected always_on, always_off, parentbased_always_on, parentbased_always_off, traceidratio, "
        "parentbased_traceidratio, tail_friendly"
    )


@pytest.mark.parametrize("compression", ["gzip", "deflate", "none", "GZIP"])
def test_every_compression_the_exporter_knows_passes(compression: str) -> None:
    check({"OTEL_EXPORTER_OTLP_COMPRESSION": compression, "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION": compression})


def test_an_unknown_compression_is_refused() -> None:
    assert refusal(OTEL_EXPORTER_OTLP_COMPRESSION="zstd") == (
        "OTEL_EXPORTER_OTLP_COMPRESSION='zstd' is not a known value; expected gzip, deflate or none"
    )


@pytest.mark.parametrize("ratio", ["0", "1", "0.25", "1.0"])
def test_a_sampler_ratio_from_0_to_1_passes(ratio: str) -> None:
    check({"OTEL_TRACES_SAMPLER_ARG": ratio})


@pytest.mark.parametrize("ratio", ["-0.01", "1.01", "half"])
def test_a_sampler_ratio_outside_0_to_1_is_refused(ratio: str) -> None:
    assert refusal(OTEL_TRACES_SAMPLER_ARG=ratio).startswith(f"OTEL_TRACES_SAMPLER_ARG='{ratio}' is not")


def test_a_timeout_must_be_above_0_and_may_be_a_fraction() -> None:
    check({"OTEL_EXPORTER_OTLP_TIMEOUT": "0.5"})
    assert refusal(OTEL_EXPORTER_OTLP_TIMEOUT="0") == (
        "OTEL_EXPORTER_OTLP_TIMEOUT='0' is not above 0; expected seconds above 0, for example 10"
    )
    assert refusal(OTEL_EXPORTER_OTLP_TRACES_TIMEOUT="10s") == (
        "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT='10s' is not a number; expected seconds above 0, for example 10"
    )


@pytest.mark.parametrize("name", ["OTEL_BSP_SCHEDULE_DELAY", "OTEL_BSP_EXPORT_TIMEOUT", "OTEL_BSP_MAX_QUEUE_SIZE"])
def test_batch_settings_are_whole_numbers_from_1(name: str) -> None:
    check({name: "1", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "1"})
    assert refusal(**{name: "0"}).startswith(f"{name}='0' is not above 0; expected ")
    assert refusal(**{name: "1.5"}).startswith(f"{name}='1.5' is not a whole number; expected ")


def test_empty_values_count_as_unset() -> None:
    check({"OTEL_TRACES_SAMPLER": "", "OTEL_EXPORTER_OTLP_ENDPOINT": "", "OTEL_BSP_MAX_QUEUE_SIZE": ""})


@pytest.mark.parametrize(
    ("endpoint", "says"),
    [
        ("jaeger:4317", "has no http:// or https:// scheme"),
        ("http://jaeger:43x7", "has a port that is not a number from 0 to 65535"),
        ("http://:4317", "has no host"),
    ],
)
def test_an_endpoint_must_be_a_url_with_scheme_host_and_port(endpoint: str, says: str) -> None:
    assert refusal(OTEL_EXPORTER_OTLP_ENDPOINT=endpoint).startswith(f"OTEL_EXPORTER_OTLP_ENDPOINT='{endpoint}' {says};")


@pytest.mark.parametrize("endpoint", ["http://jaeger:4317", "https://otel-collector:4317", "http://[::1]:4317"])
def test_an_endpoint_with_scheme_and_host_passes(endpoint: str) -> None:
    check({"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint})


def test_booleans_are_true_or_false_in_any_case() -> None:
    check({"OTEL_SDK_DISABLED": "TRUE", "OTEL_EXPORTER_OTLP_INSECURE": "false"})
    assert (
        refusal(OTEL_SDK_DISABLED="yes") == "OTEL_SDK_DISABLED='yes' is neither true nor false; expected true or false"
    )


def test_a_header_never_shows_its_value() -> None:
    said = refusal(OTEL_EXPORTER_OTLP_HEADERS="authorization=Bearer%20s3cret,broken")
    assert said.startswith("OTEL_EXPORTER_OTLP_HEADERS entry 2 is not key=value")
    assert "s3cret" not in said


def test_resource_attributes_are_key_value_pairs() -> None:
    check({"OTEL_RESOURCE_ATTRIBUTES": "deployment.environment.name=prod,team=core"})
    assert refusal(OTEL_RESOURCE_ATTRIBUTES="team=core,prod").startswith(
        "OTEL_RESOURCE_ATTRIBUTES='team=core,prod' entry 2 is not key=value;"
    )


def test_a_resource_attribute_without_a_key_is_refused_even_with_another_equals_sign() -> None:
    check({"OTEL_RESOURCE_ATTRIBUTES": "query=a=b"})  # the value keeps what follows the first "="
    assert refusal(OTEL_RESOURCE_ATTRIBUTES="=prod=x").startswith(
        "OTEL_RESOURCE_ATTRIBUTES='=prod=x' entry 1 is not key=value;"
    )


@pytest.mark.parametrize(
    "header",
    ["authorization=Bearer%20s3cret%07", "authorization=Bearer%20s3cr%C3%A9t", "authorization=Bearer%20s3cret%e9",
     "Author!zation=Bearer%20s3cret"],
    ids=["a control character", "non-ASCII, encoded", "a byte that is not UTF-8", "a key gRPC refuses"],
)  # fmt: skip
def test_a_header_grpc_would_refuse_at_the_first_export_is_refused_up_front(header: str) -> None:
    said = refusal(OTEL_EXPORTER_OTLP_HEADERS=f"x-tenant=a,{header}")
    assert said == (
        "OTEL_EXPORTER_OTLP_HEADERS entry 2 is not a gRPC header: a key of a-z, 0-9, -, _ or ., a printable ASCII"
        " value; expected comma-separated key=value pairs, values percent-encoded: authorization=Bearer%20<token>"
    )


def test_a_header_value_with_a_plain_space_passes_as_the_exporter_takes_it() -> None:
    # The OTLP exporter parses its headers liberally: a space need not be percent-encoded.
    check({"OTEL_EXPORTER_OTLP_HEADERS": "authorization=Bearer s3cret"})


@pytest.fixture
def sdk_header_parser_log() -> Iterator[list[logging.LogRecord]]:
    """What the SDK's header parser logs, seen by a handler on its own logger."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("opentelemetry.util.re")
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


def test_a_refused_header_is_never_logged_with_its_token(sdk_header_parser_log: list[logging.LogRecord]) -> None:
    parser_log = logging.getLogger("opentelemetry.util.re")
    before = (list(parser_log.filters), parser_log.disabled, parser_log.level, parser_log.propagate)
    refusal(OTEL_EXPORTER_OTLP_HEADERS="authorization=Bearer;s3cret")
    assert sdk_header_parser_log == []
    # The SDK's parser logs again once the check is over, its logger as it was.
    assert (list(parser_log.filters), parser_log.disabled, parser_log.level, parser_log.propagate) == before
    parser_log.warning("after")
    assert [record.getMessage() for record in sdk_header_parser_log] == ["after"]


def test_while_the_headers_are_looked_at_only_the_checks_own_parser_records_are_dropped(
    sdk_header_parser_log: list[logging.LogRecord],
) -> None:
    parser_log = logging.getLogger("opentelemetry.util.re")
    with env_checks._parser_unheard():
        parser_log.warning("the check's own")
        other = threading.Thread(target=parser_log.warning, args=("another thread's",))
        other.start()
        other.join()
    assert [record.getMessage() for record in sdk_header_parser_log] == ["another thread's"]


def test_a_certificate_path_must_be_a_readable_pem_file(tmp_path: Path) -> None:
    pem = tmp_path / "ca.crt"
    pem.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    text = tmp_path / "notes.txt"
    text.write_text("not a certificate\n")
    check({"OTEL_EXPORTER_OTLP_CERTIFICATE": str(pem)})
    assert refusal(OTEL_EXPORTER_OTLP_CERTIFICATE=str(tmp_path / "nope.pem")) == (
        f"OTEL_EXPORTER_OTLP_CERTIFICATE='{tmp_path}/nope.pem' is not an existing file; expected the path of a PEM "
        "file, such as the ones scripts/make-certs.sh writes"
    )
    assert refusal(OTEL_EXPORTER_OTLP_CLIENT_KEY=str(text)).startswith(
        f"OTEL_EXPORTER_OTLP_CLIENT_KEY='{text}' holds no PEM data; expected "
    )
    assert refusal(OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE=str(tmp_path)).startswith(
        f"OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE='{tmp_path}' cannot be read (Is a directory); expected "
    )


def test_a_choice_is_matched_without_case_or_surrounding_spaces() -> None:
    # The rules are made at import; this makes one now, where a mutation tool sees it.
    known = env_checks._one_of("gzip", "none")
    assert (known(" GZIP "), known("none"), known("zstd")) == (None, None, "is not a known value")
