"""The stack as a Docker Compose project under the real engine, for the Docker tests.

A project is a copy of the repository (as a checkout leaves it) plus the compose files
of one variant. Where the pinned images cannot be pulled, a test-only override of
stand-ins (harness/standins.py) is added to COMPOSE_FILE; nothing else differs from what
a user runs.
"""

import json
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from harness import compose, engine, standins, workflow
from harness.servers import wait_until
from harness.user_scripts import collector_token

# The label compose puts on each container, volume and network of a project.
PROJECT_LABEL = "com.docker.compose.project"
UP_TIMEOUT = 600  # the first `up --build` builds the app image


def write_override(folder: Path, name: str, content: Mapping) -> Path:
    """A compose file of the test's; JSON is YAML to compose."""
    path = folder / name
    path.write_text(json.dumps(content, indent=2))
    return path


@dataclass
class Project:
    workdir: Path
    env: dict[str, str]  # the engine's, COMPOSE_FILE and the variables a user sets in .env
    name: str

    def compose(self, *args: str, timeout: float = UP_TIMEOUT) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["docker", "compose", *args], cwd=self.workdir, env=self.env, capture_output=True, text=True,
            timeout=timeout,
        )  # fmt: skip

    def _container(self, service: str) -> str:
        """The id of the service's one container, running or not."""
        [container] = self.compose("ps", "--all", "--quiet", service).stdout.split()
        return container

    def exit_status(self, service: str, timeout: float = 120) -> int:
        """The service's exit status, once its container has exited (as the workflow
        waits: `docker compose wait` sees only running containers)."""
        waited = subprocess.run(["docker", "wait", self._container(service)], env=self.env, capture_output=True,
                                text=True, timeout=timeout, check=True)  # fmt: skip
        return int(waited.stdout)

    def health(self, service: str) -> str | None:
        """The healthcheck's status of the service's one container (None without one)."""
        inspected = _docker(self.env, "inspect", "--format", "{{json .State.Health}}", self._container(service))
        return (json.loads(inspected) or {}).get("Status")  # `null` without a healthcheck

    def wait_healthy(self, service: str, timeout: float = 120) -> None:
        """Wait until the service's container is healthy. (`up --wait` gives up on a
        container that was unhealthy a moment before, while its restart policy runs.)"""
        wait_until(lambda: self.health(service) == "healthy", timeout, f"{service} healthy", interval=1)

    def containers(self) -> dict[str, dict]:
        """`docker inspect` of each of the project's containers, by service name."""
        ids = _ids(self.env, "ps", "-a", "-q", "--filter", f"label={PROJECT_LABEL}={self.name}")
        if not ids:
            return {}
        inspected = json.loads(_docker(self.env, "inspect", *ids))
        return {each["Config"]["Labels"]["com.docker.compose.service"]: each for each in inspected}

    def python_on(self, network: str, code: str) -> subprocess.CompletedProcess[str]:
        """Python `code` in a throwaway container on the project's `network`, with the
        tests' own clients (harness/: the standard library only), from the app's image
        (built), hardened and as its non-root user: what another container there can do."""
        image = self.containers()["app"]["Config"]["Image"]
        return subprocess.run(
            ["docker", "run", "--rm", "--network", f"{self.name}_{network}", "--read-only", "--cap-drop", "ALL",
             "--security-opt", "no-new-privileges:true", "--user", "10001:10001",
             "--volume", f"{self.workdir / 'harness'}:/probe/harness:ro", "--env", "PYTHONPATH=/probe",
             "--entrypoint", "python", image, "-c", code],
            env=self.env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    def leftovers(self) -> dict[str, list[str]]:
        """The project's containers, volumes and networks still on the engine."""
        label = f"label={PROJECT_LABEL}={self.name}"
        found = {
            "containers": _ids(self.env, "ps", "-a", "-q", "--filter", label),
            "volumes": _ids(self.env, "volume", "ls", "-q", "--filter", label),
            "networks": _ids(self.env, "network", "ls", "-q", "--filter", label),
        }
        return {kind: names for kind, names in found.items() if names}

    def remove(self) -> None:
        """Leave nothing of the project behind, whatever state a test left it in."""
        self.compose("down", "--volumes", "--remove-orphans", "--timeout", "5", timeout=120)

    def remove_everything(self) -> None:
        """remove(), and whatever of the project its compose files do not name: what
        another combination of files started (its containers, volumes, networks)."""
        self.remove()
        left = self.leftovers()
        for kind, command in (("containers", ("rm", "--force")), ("volumes", ("volume", "rm", "--force")),
                              ("networks", ("network", "rm"))):  # fmt: skip
            if left.get(kind):
                subprocess.run(["docker", *command, *left[kind]], env=self.env, capture_output=True, timeout=120)


def _docker(env: Mapping[str, str], *args: str) -> str:
    return subprocess.run(["docker", *args], env=env, capture_output=True, text=True, check=True).stdout


def _ids(env: Mapping[str, str], *args: str) -> list[str]:
    return _docker(env, *args).split()


def project(
    docker: engine.Engine,
    folder: Path,
    files: str,
    variables: Mapping[str, str] | None = None,
    *extra: Path,
    make_token: bool = True,
) -> Project:
    """A checkout in `folder` running `files` (colon-separated, as COMPOSE_FILE takes
    them), with stand-ins where needed and the `extra` compose files of a test. Its
    token is made by scripts/make-token.sh, unless the test's own steps make it."""
    workdir = workflow.checkout(folder / "repo")
    # The token only resolves the configuration when the steps make it later.
    token = collector_token(workdir) if make_token else {"COLLECTOR_AUTH_TOKEN": "made-by-the-steps"}
    variables = {**token, **docker.variables, **(variables or {})}
    config = compose.resolve(*files.split(":"), project_dir=workdir, variables=variables)
    stand_ins = standins.override(config, folder)
    overrides = [write_override(folder, "standins.yaml", stand_ins)] if stand_ins else []
    compose_file = ":".join([files, *map(str, overrides), *map(str, extra)])
    result = Project(workdir, {**docker.env, **variables, "COMPOSE_FILE": compose_file}, config["name"])
    result.remove()  # what an interrupted run may have left
    return result
