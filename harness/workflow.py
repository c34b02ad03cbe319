"""The GitHub workflow's steps, run here as GitHub's runner runs them.

The Docker tests do not keep a second copy of what the workflow does: they read
`.github/workflows/smoke.yml` and, for one entry of its matrix, run its `run:` steps in
order with the job's environment (`${{ matrix.* }}` filled in), in a copy of the
repository as `actions/checkout` would leave it. `uses:` steps are skipped. Lines a
step appends to $GITHUB_ENV reach the steps after it; a step without `if:` runs only
while all before it passed, an `if: always()` step runs regardless. Anything else the
runner here does not know (another `if:`, an expression left in a script) fails the
run instead of being skipped, so a change to the workflow is tested, not ignored.
"""

import re
import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from harness import REPO

WORKFLOW = REPO / ".github" / "workflows" / "smoke.yml"
MATRIX_VALUE = re.compile(r"\$\{\{\s*matrix\.([\w-]+)\s*\}\}")
MASK = re.compile(r"^::add-mask::(.+)$", re.M)
STEP_TIMEOUT = 300


@dataclass(frozen=True)
class Run:
    """One entry of the matrix: its name, environment and steps."""

    name: str
    env: dict[str, str]
    steps: list[dict]


@dataclass
class Step:
    name: str
    returncode: int
    output: str


@dataclass
class Result:
    steps: list[Step] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(step.returncode == 0 for step in self.steps)

    def report(self) -> str:
        return "\n".join(f"--- {step.name}: exit {step.returncode}\n{step.output[-4000:]}" for step in self.steps)


def _fill(value: str, matrix: Mapping[str, str]) -> str:
    # GitHub gives an empty string for a key the entry does not have.
    filled = MATRIX_VALUE.sub(lambda match: str(matrix.get(match[1], "")), value)
    if "${{" in filled:
        raise ValueError(f"an expression the runner here does not evaluate: {filled!r}")
    return filled


def runs(path: Path = WORKFLOW) -> list[Run]:
    """Every matrix entry of the workflow's job that runs the stack (`compose-smoke`)."""
    job = yaml.safe_load(path.read_text())["jobs"]["compose-smoke"]
    result = []
    for matrix in job["strategy"]["matrix"]["include"]:
        env = {name: _fill(str(value), matrix) for name, value in (job.get("env") or {}).items()}
        result.append(Run(_fill(job.get("name", ""), matrix), env, job["steps"]))
    return result


def checkout(target: Path) -> Path:
    """The repository's files (tracked, and new ones git does not ignore), as checkout leaves them."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO, capture_output=True, check=True,
    ).stdout.decode().split("\0")  # fmt: skip
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def execute(
    run: Run, workdir: Path, env: Mapping[str, str], before_always: Callable[[], None] = lambda: None
) -> Result:
    """Run the steps in `workdir` with `env` + the job's; `before_always` runs once,
    right before the first `if: always()` step (the clean-up), while the stack is up."""
    github_env = workdir.parent / f"{workdir.name}.github_env"
    github_env.write_text("")
    step_env = {**env, **run.env, "CI": "true", "GITHUB_ENV": str(github_env), "GITHUB_WORKSPACE": str(workdir)}
    result, checked, masked = Result(), False, set[str]()
    for number, step in enumerate(run.steps, 1):
        if "run" not in step:
            if "uses" not in step:
                raise ValueError(f"step {number} has neither run nor uses")
            continue
        condition = str(step.get("if", "")).strip()
        if condition not in ("", "always()"):
            raise ValueError(f"step {number}: the runner here does not evaluate `if: {condition}`")
        if condition == "always()" and not checked:
            before_always()
            checked = True
        elif condition == "" and not result.passed:
            continue
        for line in github_env.read_text().splitlines():
            name, _, value = line.partition("=")
            step_env[name] = value
        script = _fill(step["run"], {})
        try:
            completed = subprocess.run(
                ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
                cwd=workdir, env=step_env, capture_output=True, text=True, timeout=STEP_TIMEOUT,
            )  # fmt: skip
            output = completed.stdout + completed.stderr
            # As GitHub does: a value a step masked never shows in any step's output.
            masked.update(MASK.findall(output))
            for secret in masked:
                output = output.replace(secret, "***")
            step_result = Step(step.get("name", script), completed.returncode, output)
        except subprocess.TimeoutExpired as timeout:
            step_result = Step(step.get("name", script), -1, f"timed out after {STEP_TIMEOUT}s: {timeout.output!r}")
        result.steps.append(step_result)
    if not checked:
        before_always()
    return result
