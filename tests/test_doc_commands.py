"""Every command the docs tell a user to run, run as the page says: each shell block
(```sh) of README.md and of every page under docs/, in page order, in a fresh copy of
the project per page (as a checkout leaves it), under the real Docker Engine.

What a user does beside the commands, the runner does too:
- a foreground `docker compose … up` runs until the user presses Ctrl+C; here it runs in
  the background while the page's next blocks run ("in another terminal"), and gets its
  Ctrl+C when another foreground `up` starts or the page ends. Its app must exit 0.
- no container registry is reachable here: each `docker compose` command gets one more
  file, the stand-in images' override (harness/standins.py), after its own; nothing
  else of the command changes.

A block marked `<!-- illustration: why -->` on the line before it is not run; the list
below names every one, so that a new illustration is a decision, not an accident. The
test command itself, `./tests/run.sh`, is this very run.
"""

import os
import re
import shlex
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from harness import REPO, compose, compose_project, engine, standins, workflow
from harness.servers import wait_until

pytestmark = pytest.mark.docker

PAGES = (REPO / "README.md", *sorted((REPO / "docs").rglob("*.md")))
BLOCK = re.compile(r"(?:<!-- illustration: (?P<why>[^>]*) -->\n)?```(?P<lang>sh|bash|console)\n(?P<body>.*?)```", re.S)
# (page, the block's first line): commands shown, not run here, and why.
ILLUSTRATIONS = {
    ("docs/export-paths.md", "docker compose run --rm --no-deps \\"),
    ("docs/smoke-test.md", "$ jaeger-smoke --expect web-request.json"),
    ("docs/project/testing.md", "./tests/run.sh [pytest arguments]"),
    ("docs/project/testing.md", "./tests/mutation.sh"),
    ("docs/project/testing.md", "rm -rf \"${XDG_CACHE_HOME:-$HOME/.cache}/otel-python-jaeger-reference\" .venv"),
    ("docs/project/performance.md", "./benchmarks/run.sh [NAME ...] [--quick]"),
    ("docs/jaeger-v2.md", "export JAEGER_V2_IMAGE=jaegertracing/jaeger:2.22.0"),
}  # fmt: skip
THIS_RUN = "./tests/run.sh"
COMMAND_TIMEOUT = 900  # a hang, not a bound: the first `up --build` builds the app image
APP_EXIT_TIMEOUT = 300  # the scale variant starts two JVMs before the app runs


@dataclass(frozen=True)
class Block:
    page: str
    first_line: str
    commands: tuple[str, ...]
    illustration: bool


def blocks(page: Path) -> list[Block]:
    """The page's shell blocks: their commands, continuation lines joined, comments out."""
    found = []
    for match in BLOCK.finditer(page.read_text()):
        body = re.sub(r"\\\n\s*", "", match["body"])
        commands = tuple(line.strip() for line in body.splitlines() if line.strip() and not line.startswith("#"))
        found.append(Block(str(page.relative_to(REPO)), match["body"].splitlines()[0], commands, bool(match["why"])))
    return found


def test_the_illustrations_are_the_ones_listed_and_every_other_block_is_run() -> None:
    found = [block for page in PAGES for block in blocks(page)]
    assert {(block.page, block.first_line) for block in found if block.illustration} == ILLUSTRATIONS
    assert len([block for block in found if not block.illustration]) >= 8


# --- the runner


@dataclass
class Reader:
    """A user following one page in a fresh copy of the project."""

    workdir: Path
    env: dict[str, str]
    scratch: Path
    foreground: list[tuple[subprocess.Popen, list[str]]] = field(default_factory=list)
    said: list[str] = field(default_factory=list)

    def _with_stand_ins(self, words: list[str]) -> list[str]:
        """The command with the stand-in override after its own compose files."""
        files = [words[i + 1] for i, word in enumerate(words) if word == "-f"] or ["compose.yaml"]
        variables = _dotenv(self.workdir / ".env")
        config = compose.resolve(*files, project_dir=self.workdir, variables=variables)
        override = standins.override(config, self.scratch)
        if not override:
            return words
        path = compose_project.write_override(self.scratch, f"standins-{len(self.said)}.yaml", override)
        at = 2 + sum(2 for word in words if word == "-f")  # after `docker compose -f … -f …`
        explicit = [arg for file in files for arg in ("-f", file)] if "-f" not in words else []
        return [*words[:2], *explicit, *words[2:at], "-f", str(path), *words[at:]]

    def run(self, command: str) -> None:
        words = shlex.split(command)
        if words[:2] == ["docker", "compose"]:
            words = self._with_stand_ins(words)
        foreground_up = words[:2] == ["docker", "compose"] and "up" in words and not {"-d", "--detach"} & set(words)
        self.said.append(command)
        if foreground_up:
            self.stop_foreground()
            with (self.scratch / f"up-{len(self.said)}.log").open("w") as log:
                process = subprocess.Popen(words, cwd=self.workdir, env=self.env, stdout=log,
                                           stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
            self.foreground.append((process, words))
            self._app_exits_0(words)
            return
        # As written, in bash; a compose command as changed for the stand-ins.
        script = command if words == shlex.split(command) else shlex.join(words)
        done = subprocess.run(["bash", "-c", script], cwd=self.workdir, env=self.env, capture_output=True,
                              text=True, timeout=COMMAND_TIMEOUT)  # fmt: skip
        assert done.returncode == 0, f"{command}\n{done.stdout}{done.stderr}"

    def _app_exits_0(self, words: list[str]) -> None:
        """Wait for the stack's app to have run, as a user watching the output does."""
        files = [arg for i, word in enumerate(words) if word == "-f" for arg in ("-f", words[i + 1])]
        project = ["docker", "compose", *files]

        def app_container() -> str:
            listed = subprocess.run([*project, "ps", "--all", "--quiet", "app"], cwd=self.workdir, env=self.env,
                                    capture_output=True, text=True)  # fmt: skip
            return listed.stdout.strip()

        def app_exited() -> str | None:
            # Not `docker wait`: a container compose has created but not yet started
            # (its dependencies not healthy yet) counts as not running, and would end it.
            container = app_container()
            if not container:
                return None
            inspect = ["docker", "inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", container]
            state = subprocess.run(inspect, env=self.env, capture_output=True, text=True).stdout.split()
            return state[1] if state[:1] == ["exited"] else None

        status = wait_until(app_exited, APP_EXIT_TIMEOUT, "the app run and exited", interval=1)
        if status != "0":
            logs = subprocess.run([*project, "logs", "--no-color"], cwd=self.workdir, env=self.env,
                                  capture_output=True, text=True).stdout  # fmt: skip
            raise AssertionError(f"the app exited {status}\n{logs[-4000:]}")

    def stop_foreground(self) -> None:
        """Ctrl+C to the foreground `up`, as in its terminal, and wait for it to end."""
        while self.foreground:
            process, words = self.foreground.pop()
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                raise AssertionError(f"{shlex.join(words)} did not stop on Ctrl+C") from None


def _dotenv(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    lines = [line for line in path.read_text().splitlines() if "=" in line and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


# On the ports the docs use (tests/conftest.py): the README runs the app on the host with
# its default endpoint, Jaeger's published OTLP port; the scale variant's page runs with
# the engine's other scale stacks.
ON_DEFAULT_PORTS = {"README.md", "docs/scale.md"}


def _run_pages() -> list:
    """The pages with commands to run, each marked with the ports it runs on."""
    return [
        pytest.param(page, id=name, marks=[pytest.mark.default_ports] if name in ON_DEFAULT_PORTS else [])
        for page in PAGES
        if any(not block.illustration for block in blocks(page))
        for name in [str(page.relative_to(REPO))]
    ]


@pytest.mark.parametrize("page", _run_pages())
def test_every_command_of_the_page_runs_as_it_says(
    page: Path, docker_engine: engine.Engine, compose_config: dict, tmp_path: Path
) -> None:
    workdir = workflow.checkout(tmp_path / "project")
    reader = Reader(workdir, dict(docker_engine.env), tmp_path)
    name = docker_engine.variables.get("COMPOSE_PROJECT_NAME") or compose_config["name"]
    leftover = compose_project.Project(workdir, {**docker_engine.env, "COMPOSE_FILE": "compose.yaml"}, name)
    leftover.remove_everything()  # what an interrupted run may have left
    try:
        for block in blocks(page):
            if block.illustration:
                continue
            for command in block.commands:
                if command == THIS_RUN:
                    continue  # this very run: CI runs it (.ci/run)
                reader.run(command)
    finally:
        reader.stop_foreground()
        leftover.remove_everything()
