"""The defaults the app, the stack and the smoke test share, each with one home: the
service name is the app's default (`traced_run.DEFAULT_SERVICE_NAME`), and Jaeger's URL
is the UI compose publishes. The files that cannot import the home (compose's YAML, the
expectation file, the smoke test's package, which imports nothing of the app) name the
same value; the certificate script's: tests/test_certs.py."""

import json

from harness import REPO, compose, variants
from inprocess_grpc import outcome
from inprocess_grpc.traced_run import DEFAULT_SERVICE_NAME
from jaeger_smoke import api


def test_compose_names_the_service_as_the_app_does_on_every_combination() -> None:
    # Stated, not left to the app's default: under the distro (compose.distro.yaml) the
    # SDK's own default ("unknown_service") would apply.
    names = {
        variants.label(files): compose.resolve(*files, variables={"COLLECTOR_AUTH_TOKEN": "t"})["services"]["app"][
            "environment"
        ]["OTEL_SERVICE_NAME"]
        for files in variants.COMBINATIONS
    }
    assert names == dict.fromkeys(names, DEFAULT_SERVICE_NAME)


def test_the_expectation_file_looks_for_the_apps_service() -> None:
    assert json.loads((REPO / "expected-trace.json").read_text())["service"] == DEFAULT_SERVICE_NAME


def test_the_app_links_to_and_the_smoke_test_asks_the_ui_compose_publishes_by_default() -> None:
    [ui] = [port for port in compose.resolve("compose.yaml")["services"]["jaeger"]["ports"] if port["target"] == 16686]
    assert outcome.DEFAULT_JAEGER_URL == api.DEFAULT_URL == f"http://localhost:{ui['published']}"


def test_in_the_stack_the_apps_link_follows_the_ui_port_on_every_combination() -> None:
    links = {
        variants.label(files): compose.resolve(
            *files, variables={"COLLECTOR_AUTH_TOKEN": "t", "JAEGER_UI_PORT": "8686"}
        )["services"]["app"]["environment"]["JAEGER_URL"]
        for files in variants.COMBINATIONS
    }
    assert links == dict.fromkeys(links, "http://localhost:8686")
    default = compose.resolve("compose.yaml")["services"]["app"]["environment"]["JAEGER_URL"]
    assert default == outcome.DEFAULT_JAEGER_URL
