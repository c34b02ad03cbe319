"""The pattern is the file you copy: app/src/inprocess_grpc/tracing.py, copied alone into
an empty folder, with nothing installed but OpenTelemetry's SDK and OTLP/gRPC exporter
(the versions the app pins), run as `python tracing.py`, sends its span to a real Jaeger."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness import REPO
from harness.servers import Jaeger
from harness.smoke import run_smoke_test

PATTERN = REPO / "app" / "src" / "inprocess_grpc" / "tracing.py"


@pytest.fixture(scope="module")
def only_the_sdk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtual environment with opentelemetry-sdk and opentelemetry-exporter-otlp-proto-grpc
    alone, at the app's pins (app/requirements.txt, its hashes left out), from PyPI."""
    folder = tmp_path_factory.mktemp("only-the-sdk")
    pins = re.findall(r"^([a-z0-9._-]+==\S+) \\$", (REPO / "app" / "requirements.txt").read_text(), re.M)
    (folder / "constraints.txt").write_text("".join(f"{pin}\n" for pin in pins))
    subprocess.run([sys.executable, "-m", "venv", str(folder / "venv")], check=True)
    python = folder / "venv" / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-c",
         str(folder / "constraints.txt"), "opentelemetry-sdk", "opentelemetry-exporter-otlp-proto-grpc"],
        check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    return python


def test_the_pattern_copied_alone_sends_its_span_to_jaeger(only_the_sdk: Path, jaeger: Jaeger, tmp_path: Path) -> None:
    copied = tmp_path / "copied"
    copied.mkdir()
    shutil.copy(PATTERN, copied / "tracing.py")
    installed = subprocess.run([str(only_the_sdk), "-m", "pip", "list", "--format=freeze"], capture_output=True,
                               text=True, check=True).stdout  # fmt: skip
    assert "inprocess" not in installed and "opentelemetry-sdk==" in installed

    env = {"OTEL_SERVICE_NAME": "copied-alone", "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://{jaeger.otlp_grpc}"}
    sent = subprocess.run([str(only_the_sdk), "tracing.py"], cwd=copied, env=env, capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    assert (sent.returncode, sent.stderr) == (0, "")

    expected = {"service": "copied-alone", "root": {"name": "hello"}}
    (tmp_path / "hello.json").write_text(json.dumps(expected))
    smoke = run_smoke_test(jaeger, "--expect", str(tmp_path / "hello.json"), "--timeout", "30")
    assert smoke.returncode == 0, smoke.stderr
