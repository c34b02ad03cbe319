"""A Docker Engine for the tests: the one that runs here, or one started for the run.

The Docker tests (marker `docker`) need a real engine. When `docker info` answers, they
use it (a normal user in the group `docker` too). Otherwise, as root with apt (the test
machines), Debian's `docker.io` is installed if it is missing and `dockerd` is started
for the run, then stopped at its end: once the last test worker using it is done (each
holds a shared lock while it does). Compose is the v2 binary the tests already build,
given to the docker CLI as its plugin through a DOCKER_CONFIG folder of the run's own:
nothing of the user's changes.
"""

import fcntl
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from harness import Missing, binaries
from harness.cache import cache_dir

START_TIMEOUT = 90.0


@dataclass(frozen=True)
class Engine:
    env: dict[str, str]  # what every docker command of the tests runs with
    started: bool  # started for this run (else it was running already)
    # The compose variables of the test's group (its ports, its project's name), in env too.
    variables: dict[str, str] = field(default_factory=dict)


class NoEngine(Missing):
    """No Docker Engine can be had here; the message says why."""


def apt_install(*packages: str) -> None:
    """Install Debian packages, as root; the package lists are fetched once if need be.
    Raises Missing, naming them, for a user who cannot."""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        names = " ".join(packages)
        raise Missing(f"{names} missing: install it (Debian's package {names}), or run the tests as root, with apt-get")
    apt("install", "-y", "-qq", "--no-install-recommends", *packages)


def apt(*args: str, cwd: Path | None = None) -> None:
    """`apt-get ARGS`; where it fails, the package lists are fetched and it is tried once more."""
    command = ["apt-get", *args]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.run(command, cwd=cwd, env=env, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], env=env, check=True, capture_output=True)
        subprocess.run(command, cwd=cwd, env=env, check=True, capture_output=True)


def _answers(env: dict[str, str]) -> bool:
    try:
        return subprocess.run(["docker", "info"], env=env, capture_output=True, timeout=20).returncode == 0
    except (FileNotFoundError, subprocess.TimeoutExpired):
        return False


def _compose_plugin(folder: Path) -> dict[str, str]:
    plugins = folder / "cli-plugins"
    plugins.mkdir(parents=True, exist_ok=True)
    (plugins / "docker-compose").symlink_to(binaries.ensure(binaries.COMPOSE))
    return {**os.environ, "DOCKER_CONFIG": str(folder)}


def _lock(name: str) -> int:
    path = cache_dir() / name
    path.parent.mkdir(parents=True, exist_ok=True)
    return os.open(path, os.O_RDWR | os.O_CREAT, 0o600)


@contextmanager
def running(folder: Path) -> Iterator[Engine]:
    """An engine for the run; raises NoEngine with the reason when there can be none.
    Test workers side by side share it: one starts it, the last one done stops it."""
    env = _compose_plugin(folder / "docker-config")
    starting, using = _lock("dockerd-start.lock"), _lock("dockerd-users.lock")
    daemon = None
    try:
        fcntl.flock(starting, fcntl.LOCK_EX)  # one worker at a time looks, and starts it
        if not _answers(env):
            daemon = _start_dockerd(env, folder / "dockerd.log")
        fcntl.flock(using, fcntl.LOCK_SH)
        fcntl.flock(starting, fcntl.LOCK_UN)
        yield Engine(env, started=daemon is not None)
    finally:
        if daemon is not None:
            fcntl.flock(starting, fcntl.LOCK_EX)  # no one starts to use it now,
            fcntl.flock(using, fcntl.LOCK_EX)  # and the others are done with it
            _stop(daemon)
        os.close(starting)
        os.close(using)


def _start_dockerd(env: dict[str, str], log: Path) -> subprocess.Popen:
    if os.geteuid() != 0:
        raise NoEngine("docker info does not answer: start the Docker Engine (Debian's package docker.io) and"
                       " add this user to the group docker, or run the tests as root")  # fmt: skip
    if not shutil.which("dockerd"):
        apt_install("docker.io")
    if not shutil.which("docker"):
        raise NoEngine("docker.io is installed but has no docker command")
    with log.open("wb") as out:
        daemon = subprocess.Popen(["dockerd"], stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + START_TIMEOUT
    while not _answers(env):
        if daemon.poll() is not None or time.monotonic() > deadline:
            _stop(daemon)
            tail = log.read_text(errors="replace")[-2000:]
            raise NoEngine(f"dockerd did not start (exit {daemon.poll()}):\n{tail}")
        time.sleep(0.5)
    return daemon


def _stop(daemon: subprocess.Popen) -> None:
    if daemon.poll() is None:
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(daemon.pid, signal.SIGKILL)
            daemon.wait()
