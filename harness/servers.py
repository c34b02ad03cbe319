"""Starting the real Jaeger and collector for a test, on free loopback ports, and
waiting on conditions instead of sleeping."""

import os
import random
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

# Below Linux's ephemeral range (32768-60999), so that a port picked here is never the
# one the kernel hands to a server's own ":0" listener while our server starts.
_PORT_RANGE = (20000, 32767)


def free_port() -> int:
    """A loopback TCP port that is free now (it may be taken by the time it is used)."""
    while True:
        port = random.randint(*_PORT_RANGE)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


def wait_until(condition: Callable[[], T], timeout: float, what: str, interval: float = 0.1) -> T:
    """Poll `condition` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what}: not true after {timeout}s")
        time.sleep(interval)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


class PortTaken(Exception):
    """The server could not bind a port: another process took it after we picked it."""


@dataclass
class Server:
    """A server process, which a test may stop and start again on the same ports."""

    command: Sequence[str]
    env: Mapping[str, str]
    health_url: str
    log: Path
    process: subprocess.Popen | None = None
    # How long start() waits for ready(): JVM servers (harness/kafka.py, harness/cassandra.py) need longer.
    start_timeout: float = 30
    # Goes before `command` (`nice -n 10`, say); the server is named after the command.
    launcher: Sequence[str] = ()

    def ready(self) -> bool:
        """What start() waits for: `health_url` answers 200 (what compose's healthcheck asks)."""
        return _answers(self.health_url)

    def start(self) -> None:
        """Start, and wait until ready() is true."""
        with open(self.log, "ab") as out:
            process = subprocess.Popen(
                [*self.launcher, *self.command],
                env={"PATH": os.environ.get("PATH", ""), **self.env},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        name = Path(self.command[0]).name
        try:
            wait_until(lambda: process.poll() is not None or self.ready(), self.start_timeout, f"{name} healthy")
        except TimeoutError:
            process.kill()  # never left running after a failed start
            process.wait()
            raise
        if process.poll() is None:
            self.process = process
        elif b"address already in use" in self.log.read_bytes().lower():  # Java says "Address"
            raise PortTaken(name)
        else:
            raise RuntimeError(f"{name} exited with {process.returncode}; see {self.log}")

    def stop(self) -> None:
        """Stop as `docker stop` does: SIGTERM, then SIGKILL after 10 seconds."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


@contextmanager
def running(start: Callable[[], tuple[Server, T]], name: str) -> Iterator[T]:
    """Run the server `start` makes (on freshly picked ports each try) until the block ends."""
    for _attempt in range(3):
        server, handle = start()
        try:
            server.start()
        except PortTaken:
            continue
        break
    else:
        raise RuntimeError(f"{name} found no free ports in 3 attempts")
    try:
        yield handle
    finally:
        server.stop()


@dataclass
class Jaeger:
    otlp_grpc: str  # host:port of the OTLP/gRPC receiver
    otlp_http: str  # host:port of the OTLP/HTTP receiver
    query_url: str  # base URL of the UI and HTTP API
    log: Path
    server: Server  # to stop it and start it again, on the same ports


def _jaeger_on(ports: Mapping[str, int], log: Path, server: Server) -> Jaeger:
    """The Jaeger `server` runs, its receivers and query service on these loopback ports."""
    loopback = "127.0.0.1"
    otlp, otlp_http, query = (f"{loopback}:{ports[name]}" for name in ("otlp", "otlp_http", "query"))
    return Jaeger(otlp, otlp_http, f"http://{query}", log, server)


def running_jaeger(
    binary: Path, environment: Mapping[str, str], log: Path, otlp_port: int | None = None
) -> AbstractContextManager[Jaeger]:
    """Jaeger all-in-one with `environment` (the compose service's), every port on
    loopback: the ones the tests use picked free (or `otlp_port`), the rest left to the
    kernel (":0")."""

    def start() -> tuple[Server, Jaeger]:
        names = ("otlp", "otlp_http", "query", "admin", "query_grpc", "collector_grpc")
        ports = {name: free_port() for name in names}
        ports["otlp"] = otlp_port or ports["otlp"]
        flags = {
            "collector.otlp.grpc.host-port": f"127.0.0.1:{ports['otlp']}",
            "query.http-server.host-port": f"127.0.0.1:{ports['query']}",
            "admin.http.host-port": f"127.0.0.1:{ports['admin']}",
            "query.grpc-server.host-port": f"127.0.0.1:{ports['query_grpc']}",
            "collector.grpc-server.host-port": f"127.0.0.1:{ports['collector_grpc']}",
            "collector.otlp.http.host-port": f"127.0.0.1:{ports['otlp_http']}",
            "collector.http-server.host-port": "127.0.0.1:0",
            "http-server.host-port": "127.0.0.1:0",
            "processor.jaeger-binary.server-host-port": "127.0.0.1:0",
            "processor.jaeger-compact.server-host-port": "127.0.0.1:0",
            "processor.zipkin-compact.server-host-port": "127.0.0.1:0",
        }
        command = [str(binary), *(f"--{flag}={value}" for flag, value in flags.items())]
        server = Server(command, environment, f"http://127.0.0.1:{ports['admin']}/", log)
        return server, _jaeger_on(ports, log, server)

    return running(start, "Jaeger")


def running_jaeger_v2(
    binary: Path,
    arguments: Sequence[str],
    environment: Mapping[str, str],
    log: Path,
    launcher: Sequence[str] = (),
    start_timeout: float = Server.start_timeout,
) -> AbstractContextManager[Jaeger]:
    """Jaeger v2 with compose's arguments (its config file) and environment; the listening
    addresses, which jaeger-v2-config.yaml takes from the environment, on free loopback ports.
    `launcher` goes before the command (`nice -n 10`, say)."""

    def start() -> tuple[Server, Jaeger]:
        ports = {name: free_port() for name in ("otlp", "otlp_http", "query", "query_grpc", "health", "metrics")}
        env = {
            **environment,
            "COLLECTOR_OTLP_GRPC_HOST_PORT": f"127.0.0.1:{ports['otlp']}",
            "COLLECTOR_OTLP_HTTP_HOST_PORT": f"127.0.0.1:{ports['otlp_http']}",
            "QUERY_HTTP_SERVER_HOST_PORT": f"127.0.0.1:{ports['query']}",
            "QUERY_GRPC_SERVER_HOST_PORT": f"127.0.0.1:{ports['query_grpc']}",
            "ADMIN_HTTP_HOST_PORT": f"127.0.0.1:{ports['health']}",
            "JAEGER_METRICS_PORT": str(ports["metrics"]),
        }
        health = f"http://127.0.0.1:{ports['health']}/status"
        server = Server([str(binary), *arguments], env, health, log, launcher=launcher, start_timeout=start_timeout)
        return server, _jaeger_on(ports, log, server)

    return running(start, "Jaeger v2")


@dataclass
class Collector:
    otlp_grpc: str
    otlp_http: str
    log: Path
    server: Server


def running_collector(
    binary: Path, arguments: Sequence[str], environment: Mapping[str, str], log: Path, launcher: Sequence[str] = ()
) -> AbstractContextManager[Collector]:
    """The collector with compose's arguments and environment; its listening addresses,
    which otel-collector-config.yaml takes from the environment, set to free loopback ports.
    `launcher` goes before the command."""

    def start() -> tuple[Server, Collector]:
        env = {**environment, **collector_listening_addresses()}
        health = f"http://{env['COLLECTOR_HEALTH_ENDPOINT']}/"
        server = Server([str(binary), *arguments], env, health, log, launcher=launcher)
        return server, Collector(env["COLLECTOR_OTLP_GRPC_ENDPOINT"], env["COLLECTOR_OTLP_HTTP_ENDPOINT"], log, server)

    return running(start, "collector")


def collector_listening_addresses() -> dict[str, str]:
    """The variables otel-collector-config.yaml reads its listening addresses from, each
    a free loopback port: collectors of tests side by side never share one."""
    return {
        "COLLECTOR_OTLP_GRPC_ENDPOINT": f"127.0.0.1:{free_port()}",
        "COLLECTOR_OTLP_HTTP_ENDPOINT": f"127.0.0.1:{free_port()}",
        "COLLECTOR_HEALTH_ENDPOINT": f"127.0.0.1:{free_port()}",
        "COLLECTOR_METRICS_HOST": "127.0.0.1",
        "COLLECTOR_METRICS_PORT": str(free_port()),
    }
