"""The stack's servers run natively, as compose configures them: Jaeger, the collector if
the configuration has one, and the app's environment to reach them."""

from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from harness import binaries, compose
from harness.servers import Collector, Jaeger, running_collector, running_jaeger, running_jaeger_v2

# The compose files of each Jaeger a test may run on: all-in-one 1.55 (the default) and v2.
JAEGER_CONFIGS = {"1.55": ("compose.yaml",), "v2": ("compose.yaml", "compose.jaeger-v2.yaml")}


def service_environment(config: compose.Config, service: str, folder: Path) -> dict[str, str]:
    """The service's environment from compose, its named volumes as folders in `folder`."""
    return compose.environment(config, service, {}, volumes=compose.volume_folders(config, service, folder))


def jaeger_environment(config: compose.Config, folder: Path) -> dict[str, str]:
    """Jaeger's environment from compose, its storage volume in `folder`."""
    return service_environment(config, "jaeger", folder)


@dataclass
class NativeServers:
    jaeger: Jaeger
    collector: Collector | None
    app_env: dict[str, str]


def is_jaeger_v2(config: compose.Config) -> bool:
    """The configuration runs Jaeger v2 (compose.jaeger-v2.yaml), not all-in-one 1.55."""
    return config["services"]["jaeger"]["image"].startswith("jaegertracing/jaeger:")


def running_jaeger_as_configured(config: compose.Config, tmp_path: Path) -> AbstractContextManager[Jaeger]:
    """Jaeger 1.55 or v2, whichever the configuration runs, as compose configures it."""
    env, log = jaeger_environment(config, tmp_path), tmp_path / "jaeger.log"
    if is_jaeger_v2(config):
        arguments = compose.command(config, "jaeger", {}, volumes=compose.volume_folders(config, "jaeger", tmp_path))
        return running_jaeger_v2(binaries.ensure(binaries.JAEGER_V2), arguments, env, log)
    return running_jaeger(binaries.ensure(binaries.JAEGER), env, log)


def running_collector_as_configured(
    config: compose.Config, addresses: Mapping[str, str], log: Path, launcher: Sequence[str] = ()
) -> AbstractContextManager[Collector]:
    """The collector as compose configures it, sending to `addresses` (in-network
    address: the test's)."""
    return running_collector(
        binaries.ensure(binaries.COLLECTOR),
        compose.command(config, "otel-collector", addresses),
        compose.environment(config, "otel-collector", addresses),
        log,
        launcher,
    )


@contextmanager
def running_natively(config: compose.Config, tmp_path: Path) -> Iterator[NativeServers]:
    """Jaeger, and the collector if the configuration has one, as compose configures them."""
    with ExitStack() as stack:
        jaeger = stack.enter_context(running_jaeger_as_configured(config, tmp_path))
        addresses = {"jaeger:4317": jaeger.otlp_grpc}
        collector = None
        if "otel-collector" in config["services"]:
            log = tmp_path / "collector.log"
            collector = stack.enter_context(running_collector_as_configured(config, addresses, log))
            addresses["otel-collector:4317"] = collector.otlp_grpc
        yield NativeServers(jaeger, collector, compose.environment(config, "app", addresses))
