"""The GitHub workflow as written (.github/workflows/smoke.yml): its actions pinned by
commit, every image the compose files name scanned once, in a scan job of its own, and
the compose rows not slowed by a scan. (Its compose rows are run step by step under the
real engine by tests/test_docker.py.)"""

import os
import re
from pathlib import Path

import yaml

from harness import REPO, workflow

WORKFLOW = yaml.safe_load((REPO / ".github" / "workflows" / "smoke.yml").read_text())


def compose_images() -> set[str]:
    """Every image an `image:` line of a compose file names, as written."""
    files = (REPO / "compose.yaml", *sorted(REPO.glob("compose.*.yaml")))
    return {image for path in files for image in re.findall(r"^\s+image:\s*(\S+)", path.read_text(), re.M)}


def test_every_image_of_the_stack_is_scanned_once_and_the_apps_findings_fail_the_job() -> None:
    scanned = [
        (row["image"], row["fail-on-findings"]) for row in WORKFLOW["jobs"]["scan"]["strategy"]["matrix"]["include"]
    ]
    images = [image for image, _ in scanned]
    assert len(images) == len(set(images))
    assert set(images) == compose_images() | {"app"}
    assert dict(scanned)["app"] == "1"


def test_the_compose_rows_run_no_scan() -> None:
    steps = WORKFLOW["jobs"]["compose-smoke"]["steps"]
    assert not [step for step in steps if "trivy" in step.get("uses", "")]


def test_every_action_is_pinned_by_commit_and_checkout_keeps_no_credentials() -> None:
    steps = [step for job in WORKFLOW["jobs"].values() for step in job["steps"]]
    uses = [step["uses"] for step in steps if "uses" in step]
    assert uses and all(re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", use) for use in uses), uses
    checkouts = [step for step in steps if step.get("uses", "").startswith("actions/checkout@")]
    assert checkouts and all(step["with"]["persist-credentials"] is False for step in checkouts)


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
