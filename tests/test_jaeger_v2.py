"""Jaeger v2 in place of all-in-one 1.55 (compose.jaeger-v2.yaml): the trace after a
restart, and a broken configuration refused at start, against the real Jaeger v2 (the
version jaeger-v2-image.yaml pins, built from its Go module) run as compose configures it. Every export path on v2:
tests/test_paths.py."""

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from harness import REPO, binaries, compose
from harness.app import run_app
from harness.listeners import listening
from harness.native import jaeger_environment, running_natively
from harness.smoke import run_smoke_test
from jaeger_smoke.api import JaegerClient

pytestmark = pytest.mark.jaeger_v2

V2 = ("compose.yaml", "compose.jaeger-v2.yaml")


def test_jaeger_v2_keeps_the_trace_across_a_restart(tmp_path: Path) -> None:
    with running_natively(compose.resolve(*V2), tmp_path) as stack:
        assert run_app(stack.app_env).returncode == 0
        assert run_smoke_test(stack.jaeger, "--timeout", "20").returncode == 0
        stack.jaeger.server.stop()
        stack.jaeger.server.start()  # same Badger folders, in the test's stand-in for the volume
        again = run_smoke_test(stack.jaeger, "--timeout", "20")
        assert again.returncode == 0, again.stderr


def test_jaeger_v2_does_not_list_itself_among_the_services(tmp_path: Path) -> None:
    with running_natively(compose.resolve(*V2), tmp_path) as stack:
        assert run_app(stack.app_env).returncode == 0
        for _ in range(3):  # queries Jaeger 1.55 would have traced into its own service list
            assert run_smoke_test(stack.jaeger, "--timeout", "20").returncode == 0
        assert JaegerClient(stack.jaeger.query_url).services() == ["inprocess-grpc"]


def _broken(change: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Jaeger v2 started with the project's config file broken by `change` (code that reads
    the file and changes one setting), with compose's environment."""
    config = yaml.safe_load((REPO / "jaeger-v2-config.yaml").read_text())
    if change == "unknown key":
        config["extensions"]["jaeger_query"]["no_such_key"] = True
    else:
        config["exporters"]["jaeger_storage_exporter"]["trace_storage"] = "no_such_store"
    broken = tmp_path / "config.yaml"
    broken.write_text(yaml.safe_dump(config))
    env = jaeger_environment(compose.resolve(*V2), tmp_path)
    # Its ports, but no server needs them: it must stop before listening.
    env |= {"COLLECTOR_OTLP_GRPC_HOST_PORT": "127.0.0.1:0", "QUERY_HTTP_SERVER_HOST_PORT": "127.0.0.1:0",
            "COLLECTOR_OTLP_HTTP_HOST_PORT": "127.0.0.1:0", "QUERY_GRPC_SERVER_HOST_PORT": "127.0.0.1:0",
            "ADMIN_HTTP_HOST_PORT": "127.0.0.1:0", "JAEGER_METRICS_PORT": "0"}  # fmt: skip
    return subprocess.run(
        [str(binaries.ensure(binaries.JAEGER_V2)), f"--config={broken}"],
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_an_unknown_key_in_the_config_stops_jaeger_v2_at_start_saying_which(tmp_path: Path) -> None:
    started = _broken("unknown key", tmp_path)
    assert started.returncode == 1
    assert 'error reading configuration for "jaeger_query"' in started.stderr
    assert "has invalid keys: no_such_key" in started.stderr


def test_a_storage_that_is_not_defined_stops_jaeger_v2_at_start_saying_which(tmp_path: Path) -> None:
    started = _broken("undefined storage", tmp_path)
    assert started.returncode == 1
    assert "cannot find definition of storage 'no_such_store'" in started.stderr


def test_jaeger_v2_listens_on_the_network_only_for_otlp_grpc_and_the_ui() -> None:
    # The file's addresses, each ${env:NAME:-default} as compose's environment sets it.
    env = compose.resolve(*V2)["services"]["jaeger"]["environment"]
    text = re.sub(r"\$\{env:(\w+):-([^}]*)\}", lambda match: env.get(match[1], match[2]),
                  (REPO / "jaeger-v2-config.yaml").read_text())  # fmt: skip
    assert sorted(listening(yaml.safe_load(text))) == [
        "0.0.0.0:16686", "0.0.0.0:4317", "127.0.0.1:13133", "127.0.0.1:16685", "127.0.0.1:4318", "127.0.0.1:metrics",
    ]  # fmt: skip


def test_one_variable_runs_another_jaeger_v2_in_every_service_that_runs_v2() -> None:
    newer = {"JAEGER_V2_IMAGE": "jaegertracing/jaeger:2.22.0"}
    overlay = compose.resolve(*V2, variables=newer)["services"]
    scale = compose.resolve("compose.yaml", "compose.collector.yaml", "compose.scale.yaml",
                            variables={**newer, "COLLECTOR_AUTH_TOKEN": "t"})["services"]  # fmt: skip
    roles = {name: scale[name]["image"] for name in ("jaeger", "jaeger-collector", "jaeger-ingester")}
    assert overlay["jaeger"]["image"] == "jaegertracing/jaeger:2.22.0"
    assert roles == dict.fromkeys(roles, "jaegertracing/jaeger:2.22.0")


def test_the_v2_overlay_runs_the_image_of_the_version_the_tests_build_with_its_config() -> None:
    jaeger = compose.resolve(*V2)["services"]["jaeger"]
    assert jaeger["image"].startswith("jaegertracing/jaeger:")
    assert binaries.JAEGER_V2.version == binaries.jaeger_module_version(jaeger["image"])
    assert jaeger["command"] == ["--config=/etc/jaeger/config.yaml"]
    [config] = [v for v in jaeger["volumes"] if v["target"] == "/etc/jaeger/config.yaml"]
    assert (config["source"], config["read_only"]) == (str(REPO / "jaeger-v2-config.yaml"), True)
    assert "http://localhost:13133/status" in jaeger["healthcheck"]["test"]
    # Badger on the named volume, beside 1.55's folders.
    assert jaeger["environment"]["BADGER_DIRECTORY_KEY"] == "/tmp/badger-v2/keys"
    assert [v["source"] for v in jaeger["volumes"] if v["target"] == "/tmp"] == ["jaeger-data"]
