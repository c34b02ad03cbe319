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


@dataclass
class Server:
    process: subprocess.Popen
    log: Path

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_server(command: Sequence[str], env: Mapping[str, str], health_url: str, log: Path) -> Server | None:
    """Start a server and wait until `health_url` answers 200 (what compose's healthcheck
    asks). None if it could not bind a port another process took meanwhile."""
    with open(log, "ab") as out:
        process = subprocess.Popen(
            list(command), env={"PATH": os.environ.get("PATH", ""), **env}, stdout=out, stderr=subprocess.STDOUT
        )
    wait_until(lambda: process.poll() is not None or _answers(health_url), 30, f"{command[0]} healthy")
    if process.poll() is None:
        return Server(process, log)
    if b"address already in use" in log.read_bytes():
        return None
    raise RuntimeError(f"{command[0]} exited with {process.returncode}; see {log}")


@contextmanager
def running(start: Callable[[], tuple[Server | None, T]], name: str) -> Iterator[T]:
    """Run the server `start` starts (on freshly picked ports each try) until the block ends."""
    for _attempt in range(3):
        server, handle = start()
        if server is not None:
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
    query_url: str  # base URL of the UI and HTTP API
    log: Path


def running_jaeger(binary: Path, environment: Mapping[str, str], log: Path) -> AbstractContextManager[Jaeger]:
    """Jaeger all-in-one with `environment` (the compose service's), every port on
    loopback: the ones the tests use picked free, the rest left to the kernel (":0")."""

    def start() -> tuple[Server | None, Jaeger]:
        ports = {name: free_port() for name in ("otlp", "query", "admin", "query_grpc", "collector_grpc")}
        flags = {
            "collector.otlp.grpc.host-port": f"127.0.0.1:{ports['otlp']}",
            "query.http-server.host-port": f"127.0.0.1:{ports['query']}",
            "admin.http.host-port": f"127.0.0.1:{ports['admin']}",
            "query.grpc-server.host-port": f"127.0.0.1:{ports['query_grpc']}",
            "collector.grpc-server.host-port": f"127.0.0.1:{ports['collector_grpc']}",
            "collector.otlp.http.host-port": "127.0.0.1:0",
            "collector.http-server.host-port": "127.0.0.1:0",
            "http-server.host-port": "127.0.0.1:0",
            "processor.jaeger-binary.server-host-port": "127.0.0.1:0",
            "processor.jaeger-compact.server-host-port": "127.0.0.1:0",
            "processor.zipkin-compact.server-host-port": "127.0.0.1:0",
        }
        command = [str(binary), *(f"--{flag}={value}" for flag, value in flags.items())]
        server = start_server(command, environment, f"http://127.0.0.1:{ports['admin']}/", log)
        return server, Jaeger(f"127.0.0.1:{ports['otlp']}", f"http://127.0.0.1:{ports['query']}", log)

    return running(start, "Jaeger")


@dataclass
class Collector:
    otlp_grpc: str
    log: Path


def running_collector(
    binary: Path, arguments: Sequence[str], environment: Mapping[str, str], log: Path
) -> AbstractContextManager[Collector]:
    """The collector with compose's arguments and environment; its listening addresses,
    which otel-collector-config.yaml takes from the environment, set to free loopback ports."""

    def start() -> tuple[Server | None, Collector]:
        ports = {name: free_port() for name in ("grpc", "http", "health", "metrics")}
        env = {
            **environment,
            "COLLECTOR_OTLP_GRPC_ENDPOINT": f"127.0.0.1:{ports['grpc']}",
            "COLLECTOR_OTLP_HTTP_ENDPOINT": f"127.0.0.1:{ports['http']}",
            "COLLECTOR_HEALTH_ENDPOINT": f"127.0.0.1:{ports['health']}",
            "COLLECTOR_METRICS_HOST": "127.0.0.1",
            "COLLECTOR_METRICS_PORT": str(ports["metrics"]),
        }
        server = start_server([str(binary), *arguments], env, f"http://127.0.0.1:{ports['health']}/", log)
        return server, Collector(f"127.0.0.1:{ports['grpc']}", log)

    return running(start, "collector")
