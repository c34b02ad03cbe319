"""The stack run natively, as compose configures it: Jaeger, the collector if the
configuration has one, and the app's environment to reach them; the certificates and
the token its variants need, made by the project's own scripts."""

import subprocess
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from harness import REPO, binaries, compose
from harness.servers import Collector, Jaeger, running_collector, running_jaeger


def make_certs(folder: Path) -> Path:
    """The certificates scripts/make-certs.sh makes, in `folder`."""
    subprocess.run([str(REPO / "scripts" / "make-certs.sh"), str(folder)], check=True, capture_output=True)
    return folder


def collector_token(folder: Path) -> dict[str, str]:
    """The token scripts/make-token.sh makes in `folder`, as the compose variables of
    the collector variants: the app's COLLECTOR_AUTH_TOKEN, the collector's file."""
    subprocess.run([str(REPO / "scripts" / "make-token.sh"), str(folder)], check=True, capture_output=True)
    token = (folder / ".env").read_text().removeprefix("COLLECTOR_AUTH_TOKEN=").strip()
    return {"COLLECTOR_AUTH_TOKEN": token, "COLLECTOR_TOKEN_FILE": str(folder / "secrets" / "collector-token")}


def jaeger_environment(config: compose.Config, folder: Path) -> dict[str, str]:
    """Jaeger's environment from compose, its storage volume in `folder`."""
    return compose.environment(config, "jaeger", {}, volumes={"jaeger-data": folder / "jaeger-data"})


@dataclass
class Stack:
    jaeger: Jaeger
    collector: Collector | None
    app_env: dict[str, str]


@contextmanager
def running_stack(config: compose.Config, tmp_path: Path) -> Iterator[Stack]:
    """Jaeger, and the collector if the configuration has one, as compose configures them."""
    with ExitStack() as stack:
        jaeger_env = jaeger_environment(config, tmp_path)
        jaeger_binary = binaries.ensure(binaries.JAEGER)
        jaeger = stack.enter_context(running_jaeger(jaeger_binary, jaeger_env, tmp_path / "jaeger.log"))
        addresses = {"jaeger:4317": jaeger.otlp_grpc}
        collector = None
        if "otel-collector" in config["services"]:
            collector = stack.enter_context(
                running_collector(
                    binaries.ensure(binaries.COLLECTOR),
                    compose.command(config, "otel-collector", addresses),
                    compose.environment(config, "otel-collector", addresses),
                    tmp_path / "collector.log",
                )
            )
            addresses["otel-collector:4317"] = collector.otlp_grpc
        yield Stack(jaeger, collector, compose.environment(config, "app", addresses))
