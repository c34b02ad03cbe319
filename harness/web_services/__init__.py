"""Two real auto-instrumented web services, for the trace check's tests: a Flask front
(front.py) that calls a FastAPI back (items.py) through requests, each a process of its
own, started by the distro's zero-code launcher `opentelemetry-instrument`, configured by
the app's OTEL_* environment only (and so exporting over OTLP/gRPC to the same Jaeger).

    with running_web_services(app_env, folder) as services:
        trace_id = services.get("/items/7")
"""

import json
import os
import socket
import sys
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from harness import REPO
from harness.servers import Server, free_port, running

FRONT_SERVICE = "shop-front"
ITEMS_SERVICE = "items-api"
# Where `opentelemetry-instrument`, `flask` and `uvicorn` are: beside the tests' Python.
_BIN = Path(sys.executable).parent


class _Listening(Server):
    """A service that is ready once its port takes connections: a request to it would
    make a trace of its own."""

    def ready(self) -> bool:
        address = urllib.parse.urlsplit(self.health_url)
        try:
            with socket.create_connection((address.hostname, address.port), timeout=1):
                return True
        except OSError:
            return False


@dataclass
class WebServices:
    front_url: str  # the Flask front's base URL
    items_url: str  # the FastAPI back's base URL

    def get(self, path: str) -> str:
        """GET `path` (with its query) from the front, which passes it on to the back:
        the id of the request's trace."""
        with urllib.request.urlopen(f"{self.front_url}{path}", timeout=60) as answer:
            return json.load(answer)["trace_id"]


def _service(command: list[str], service: str, app_env: Mapping[str, str], log: Path, **env: str) -> _Listening:
    port = free_port()
    environment = {
        **app_env,
        "OTEL_SERVICE_NAME": service,
        "PATH": f"{_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(REPO),
        **env,
    }
    arguments = [str(_BIN / "opentelemetry-instrument"), *command, "--host", "127.0.0.1", "--port", str(port)]
    return _Listening(arguments, environment, f"http://127.0.0.1:{port}", log)


@contextmanager
def running_web_services(app_env: Mapping[str, str], folder: Path) -> Iterator[WebServices]:
    """The two services, on free loopback ports, sending their traces as `app_env` (the
    app's environment) says; their logs in `folder`. Stopped when the block ends."""
    with ExitStack() as stack:

        def start_items() -> tuple[Server, str]:
            command = ["uvicorn", "harness.web_services.items:app"]
            server = _service(command, ITEMS_SERVICE, app_env, folder / "items.log")
            return server, server.health_url

        items_url = stack.enter_context(running(start_items, "the FastAPI service"))

        def start_front() -> tuple[Server, str]:
            command = ["flask", "--app", "harness.web_services.front", "run"]
            server = _service(command, FRONT_SERVICE, app_env, folder / "front.log", ITEMS_URL=items_url)
            return server, server.health_url

        front_url = stack.enter_context(running(start_front, "the Flask service"))
        yield WebServices(front_url, items_url)
