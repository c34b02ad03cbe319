"""Starting the real Jaeger for a test, on free loopback ports, and waiting on conditions."""

import os
import random
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
class Jaeger:
    otlp_grpc: str  # host:port of the OTLP/gRPC receiver
    query_url: str  # base URL of the UI and HTTP API
    log: Path


def _start_jaeger(binary: Path, environment: Mapping[str, str], log: Path) -> tuple[subprocess.Popen, Jaeger]:
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
    # The same readiness signal as compose's healthcheck: the admin port answers.
    admin = f"http://127.0.0.1:{ports['admin']}/"
    wait_until(lambda: process.poll() is not None or _answers(admin), 30, "Jaeger up")
    return process, Jaeger(f"127.0.0.1:{ports['otlp']}", f"http://127.0.0.1:{ports['query']}", log)


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def running_jaeger(binary: Path, environment: Mapping[str, str], log: Path) -> Iterator[Jaeger]:
    """Run Jaeger all-in-one with `environment` (the compose service's), every port on
    loopback, until the block ends. The ports the tests use are free ones; the rest are
    left to the kernel (":0"), so that tests never collide with each other or a user's Jaeger."""
    for _attempt in range(3):
        process, jaeger = _start_jaeger(binary, environment, log)
        if process.poll() is None:
            break
        # Another process took a picked port between the pick and Jaeger's bind: pick again.
        if b"address already in use" not in log.read_bytes():
            raise RuntimeError(f"Jaeger exited with {process.returncode}; see {log}")
    else:
        raise RuntimeError(f"Jaeger found no free ports in 3 attempts; see {log}")
    try:
        yield jaeger
    finally:
        _stop(process)
