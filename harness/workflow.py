"""The GitHub workflow's steps, run here as GitHub's runner runs them.

The Docker tests do not keep a second copy of what the workflow does: they read
`.github/workflows/smoke.yml` and, for one entry of its matrix, run its `run:` steps in
order with the job's environment (`${{ matrix.* }}` filled in), in a copy of the
repository as `actions/checkout` would leave it. A `uses:` step of a local action
(`uses: ./smoke`) runs that action (below); other `uses:` steps are skipped. Lines a
step appends to $GITHUB_ENV reach the steps after it, and those it appends to
$GITHUB_OUTPUT are its outputs (Result.outputs); a step without `if:` runs only
while all before it passed, an `if: always()` step runs regardless. Anything else the
runner here does not know (another `if:`, an expression left in a script) fails the
run instead of being skipped, so a change to the workflow is tested, not ignored.

A composite action (smoke/action.yml) runs the same way, as a workflow's `uses:` step
would run it with its `with:` inputs: its `run:` steps in order, `${{ inputs.* }}` (the
input's default where not given) and `${{ github.action_path }}` filled in, in each
step's `env:`. An input expression inside a script is refused here: GitHub would paste
the value into the script (script injection), so the action must pass inputs through
`env:`.
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
EXPRESSION = re.compile(r"\$\{\{\s*(matrix|inputs|github)\.([\w-]+)\s*\}\}")
INPUT_IN_SCRIPT = re.compile(r"\$\{\{[^}]*\binputs\.")
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
    # Each step's outputs (`name=value` lines it appended to $GITHUB_OUTPUT), by its id.
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return all(step.returncode == 0 for step in self.steps)

    def report(self) -> str:
        return "\n".join(f"--- {step.name}: exit {step.returncode}\n{step.output[-4000:]}" for step in self.steps)


def _fill(value: str, contexts: Mapping[str, Mapping[str, str]]) -> str:
    """`value` with `${{ context.key }}` filled in from `contexts` (matrix, inputs, github)."""

    def value_of(match: re.Match) -> str:
        context, key = match[1], match[2]
        if context not in contexts or (context == "github" and key not in contexts[context]):
            return match[0]  # left as it is: refused below
        # GitHub gives an empty string for a key the matrix entry (or the inputs) lack.
        return str(contexts[context].get(key, ""))

    filled = EXPRESSION.sub(value_of, value)
    if "${{" in filled:
        raise ValueError(f"an expression the runner here does not evaluate: {filled!r}")
    return filled


def runs(path: Path = WORKFLOW, job_name: str = "compose-smoke") -> list[Run]:
    """Every matrix entry of a job of the workflow (by default the one that runs the
    stack); a job without a matrix is one run."""
    job = yaml.safe_load(path.read_text())["jobs"][job_name]
    result = []
    for matrix in (job.get("strategy") or {}).get("matrix", {}).get("include") or [{}]:
        env = {name: _fill(str(value), {"matrix": matrix}) for name, value in (job.get("env") or {}).items()}
        result.append(Run(_fill(job.get("name", job_name), {"matrix": matrix}), env, job["steps"]))
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
    github_output = workdir.parent / f"{workdir.name}.github_output"
    step_env = {**env, **run.env, "CI": "true", "GITHUB_ENV": str(github_env), "GITHUB_WORKSPACE": str(workdir)}
    result, checked, masked = Result(), False, set[str]()
    for number, step in enumerate(run.steps, 1):
        if "run" not in step and "uses" not in step:
            raise ValueError(f"step {number} has neither run nor uses")
        if "run" not in step and not step["uses"].startswith("./"):
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
        own_env = {name: _fill(str(value), {"matrix": {}}) for name, value in (step.get("env") or {}).items()}
        if "uses" in step:
            # A local action, from the checked-out workspace, as GitHub runs it.
            inputs = {name: _fill(str(value), {"matrix": {}}) for name, value in (step.get("with") or {}).items()}
            ran = execute_action(workdir / step["uses"], inputs, workdir, {**step_env, **own_env})
            output = "".join(each.output for each in ran.steps)
            step_result = Step(step.get("name", step["uses"]), 0 if ran.passed else 1, output)
        else:
            github_output.write_text("")
            script = _fill(step["run"], {"matrix": {}})
            step_result = _run_script(
                step.get("name", script), script, workdir, {**step_env, **own_env, "GITHUB_OUTPUT": str(github_output)}
            )
            if "id" in step:
                lines = github_output.read_text().splitlines()
                result.outputs[step["id"]] = dict(line.partition("=")[::2] for line in lines)
        # As GitHub does: a value a step masked never shows in any step's output.
        masked.update(MASK.findall(step_result.output))
        for secret in masked:
            step_result.output = step_result.output.replace(secret, "***")
        result.steps.append(step_result)
    if not checked:
        before_always()
    return result


def _run_script(name: str, script: str, workdir: Path, env: Mapping[str, str]) -> Step:
    """One `run:` script, as GitHub's runner runs a bash step."""
    try:
        completed = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
            cwd=workdir, env=env, capture_output=True, text=True, timeout=STEP_TIMEOUT,
        )  # fmt: skip
    except subprocess.TimeoutExpired as timeout:
        return Step(name, -1, f"timed out after {STEP_TIMEOUT}s: {timeout.output!r}")
    return Step(name, completed.returncode, completed.stdout + completed.stderr)


def execute_action(action: Path, inputs: Mapping[str, str], workdir: Path, env: Mapping[str, str]) -> Result:
    """Run the composite action in the folder `action` (its action.yml) with `inputs`, as
    a `uses:` step with `with: inputs` and `env` would, in `workdir` (the workspace). The
    steps stop at the first that fails, as GitHub stops a composite action."""
    spec = yaml.safe_load((action / "action.yml").read_text())
    if spec["runs"]["using"] != "composite":
        raise ValueError(f"{action}: not a composite action")
    declared = spec.get("inputs") or {}
    if unknown := set(inputs) - set(declared):
        raise ValueError(f"inputs the action does not declare: {sorted(unknown)}")
    values = {name: str(inputs.get(name, (spec_ or {}).get("default", ""))) for name, spec_ in declared.items()}
    contexts = {"inputs": values, "github": {"action_path": str(action)}}
    base_env = {**env, "CI": "true", "GITHUB_WORKSPACE": str(workdir), "GITHUB_ACTION_PATH": str(action)}
    result = Result()
    for number, step in enumerate(spec["runs"]["steps"], 1):
        if "run" not in step or step.get("shell") != "bash" or "if" in step:
            raise ValueError(f"step {number}: the runner here runs `run:` steps with `shell: bash` and no `if:`")
        if INPUT_IN_SCRIPT.search(step["run"]):
            raise ValueError(f"step {number}: an input pasted into the script (script injection); pass it in env:")
        if not result.passed:
            break
        step_env = {
            **base_env,
            **{name: _fill(str(value), contexts) for name, value in (step.get("env") or {}).items()},
        }
        script = _fill(step["run"], contexts)
        result.steps.append(_run_script(step.get("name", script), script, workdir, step_env))
    return result
