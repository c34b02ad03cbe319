"""The GitHub workflow as written (.github/workflows/smoke.yml): its actions pinned by
commit, the compose rows checked by the project's own Action, every image the compose
files run scanned once, from the list compose itself gives, in a scan job of its own,
and the compose rows not slowed by a scan. (Its compose rows are run step by step under
the real engine by tests/test_docker.py.)"""

import json
import os
import re
from pathlib import Path

import yaml

from harness import REPO, binaries, compose, variants, workflow

WORKFLOW = yaml.safe_load((REPO / ".github" / "workflows" / "smoke.yml").read_text())


def test_the_compose_rows_check_the_trace_with_the_projects_own_action_after_start_and_restart() -> None:
    steps = WORKFLOW["jobs"]["compose-smoke"]["steps"]
    checks = [number for number, step in enumerate(steps) if step.get("uses") == "./smoke"]
    restart = [number for number, step in enumerate(steps) if "docker compose restart jaeger" in step.get("run", "")]
    assert len(checks) == 2 and checks[0] < restart[0] < checks[1]
    assert not [step for step in steps if "smoke_test.py" in step.get("run", "")]


def test_the_runner_here_runs_a_local_action_with_its_inputs_as_a_step(tmp_path: Path) -> None:
    action = {
        "runs": {
            "using": "composite",
            "steps": [
                {"shell": "bash", "env": {"WORD": "${{ inputs.word }}"}, "run": 'echo "$WORD"; test "$WORD" = yes'}
            ],
        },
        "inputs": {"word": {"default": ""}},
    }
    (tmp_path / "act").mkdir()
    (tmp_path / "act" / "action.yml").write_text(yaml.safe_dump(action))
    steps = [
        {"name": "yes", "uses": "./act", "with": {"word": "yes"}},
        {"name": "no", "uses": "./act", "with": {"word": "no"}},
    ]
    (tmp_path / "workflow.yml").write_text(yaml.safe_dump({"jobs": {"job": {"steps": steps}}}))
    [run] = workflow.runs(tmp_path / "workflow.yml", job_name="job")
    result = workflow.execute(run, tmp_path, {"PATH": os.environ["PATH"]})
    assert [(step.name, step.returncode, step.output) for step in result.steps] == [
        ("yes", 0, "yes\n"),
        ("no", 1, "no\n"),
    ]


def test_the_image_list_is_every_image_of_every_combination_once_as_compose_resolves_it(tmp_path: Path) -> None:
    # The list job's own step, run here with the real docker CLI and Compose.
    plugins = tmp_path / "docker-config" / "cli-plugins"
    plugins.mkdir(parents=True)
    (plugins / "docker-compose").symlink_to(binaries.ensure(binaries.COMPOSE))
    [run] = workflow.runs(job_name="images")
    workdir = workflow.checkout(tmp_path / "repo")
    result = workflow.execute(run, workdir, {"PATH": os.environ["PATH"], "DOCKER_CONFIG": str(plugins.parent)})
    assert result.passed, result.report()
    listed = json.loads(result.outputs["list"]["images"])

    resolved = [compose.resolve(*files, variables={"COLLECTOR_AUTH_TOKEN": "t"}) for files in variants.COMBINATIONS]
    images = {
        service.get("image") or f"{config['name']}-{name}"  # what compose names an image it builds
        for config in resolved
        for name, service in config["services"].items()
    }
    assert listed == sorted(images)
    assert WORKFLOW["jobs"]["images"]["outputs"]["images"] == "${{ steps.list.outputs.images }}"


def test_every_listed_image_is_scanned_and_only_the_apps_findings_fail_the_job() -> None:
    scan = WORKFLOW["jobs"]["scan"]
    assert scan["needs"] == "images"
    assert scan["strategy"]["matrix"] == {"image": "${{ fromJSON(needs.images.outputs.images) }}"}
    # The app's image, as compose names it, is the one built here and failed on.
    config = compose.resolve("compose.yaml")
    assert "build" in config["services"]["app"]
    assert scan["env"]["APP_IMAGE"] == f"{config['name']}-app"
    [trivy] = [step for step in scan["steps"] if "trivy" in step.get("uses", "")]
    assert trivy["with"]["exit-code"] == "${{ matrix.image == env.APP_IMAGE && '1' || '0' }}"
    [build] = [step for step in scan["steps"] if "docker build" in step.get("run", "")]
    assert build["if"] == "matrix.image == env.APP_IMAGE" and '--tag "$APP_IMAGE"' in build["run"]


def test_the_compose_rows_run_no_scan() -> None:
    steps = WORKFLOW["jobs"]["compose-smoke"]["steps"]
    assert not [step for step in steps if "trivy" in step.get("uses", "")]


def test_every_action_is_pinned_by_commit_or_is_the_projects_own_and_checkout_keeps_no_credentials() -> None:
    steps = [step for job in WORKFLOW["jobs"].values() for step in job["steps"]]
    uses = [step["uses"] for step in steps if "uses" in step and not step["uses"].startswith("./")]
    assert uses and all(re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", use) for use in uses), uses
    local = {step["uses"] for step in steps if step.get("uses", "").startswith("./")}
    assert all((REPO / use / "action.yml").is_file() for use in local), local
    checkouts = [step for step in steps if step.get("uses", "").startswith("actions/checkout@")]
    assert checkouts and all(step["with"]["persist-credentials"] is False for step in checkouts)
    # A job that uses a local action has the repository checked out before it.
    for job in WORKFLOW["jobs"].values():
        names = [step.get("uses", "") for step in job["steps"]]
        if "./smoke" in names:
            assert names.index("./smoke") > 0 and names[0].startswith("actions/checkout@")


def test_the_token_and_every_password_of_the_scale_tier_are_masked_before_any_step_could_print_them(
    tmp_path: Path,
) -> None:
    [scale] = [run for run in workflow.runs() if "compose.scale.yaml" in run.env["COMPOSE_FILE"]]
    [made] = [step for step in scale.steps if "make-token.sh" in step.get("run", "")]
    printing = {"name": "a step that prints every secret", "run": "cat secrets/collector-token secrets/*/*"}
    workdir = workflow.checkout(tmp_path / "checkout")
    result = workflow.execute(workflow.Run(scale.name, scale.env, [made, printing]), workdir, dict(os.environ))
    assert result.passed, result.report()
    secrets = [path.read_text().strip() for path in (workdir / "secrets").rglob("*") if path.is_file()]
    assert len(secrets) == 7  # the collector's token and the six passwords of the scale tier
    printed = result.steps[-1].output
    assert printed.count("***") == 7 and not [secret for secret in secrets if secret in printed]
