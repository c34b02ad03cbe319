"""Starting the real Jaeger for a test, on free loopback ports, and waiting on conditions."""

import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
class Jaeger:
    otlp_grpc: str  # host:port of the OTLP/gRPC receiver
    query_url: str  # base URL of the UI and HTTP API
    log: Path


@contextmanager
def running_jaeger(binary: Path, environment: Mapping[str, str], log: Path) -> Iterator[Jaeger]:
    """Run Jaeger all-in-one with `environment` (the compose service's), every port on
    loopback, until the block ends. The ports the tests use are free ones; the rest are
    left to the kernel (":0"), so that tests never collide with each other or a user's Jaeger."""
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
    env = {"PATH": os.environ.get("PATH", ""), **environment}
    with open(log, "wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        # The same readiness signal as compose's healthcheck: the admin port answers.
        wait_until(
            lambda: process.poll() is not None or _answers(f"http://127.0.0.1:{ports['admin']}/"), 30, "Jaeger up"
        )
        if process.poll() is not None:
            raise RuntimeError(f"Jaeger exited with {process.returncode}; see {log}")
        yield Jaeger(f"127.0.0.1:{ports['otlp']}", f"http://127.0.0.1:{ports['query']}", log)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
