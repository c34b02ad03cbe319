"""The combinations of compose files the project supports are one list
(harness/variants.py). What users read names only those: every `docker compose -f …`
command of the README, the docs and the compose files' headers, and every row of the
workflow. And each combination of 1.55 and of the scale variant is shown to users
somewhere; the Jaeger v2 ones by the rule its page and overlay state (its overlay right
after compose.yaml, every other on top)."""

import re
from pathlib import Path

import pytest
import yaml

from harness import REPO, variants

COMMAND = re.compile(r"docker compose((?:\s+-f\s+[\w./-]+\.yaml)+)")


def commands_in(text: str, compose_file: bool = False) -> set[variants.Files]:
    """The file lists of the `docker compose -f …` commands a page shows (of a compose
    file: its comments), continuation lines joined."""
    lines = text.splitlines()
    if compose_file:
        lines = [line.lstrip()[1:].strip() for line in lines if line.lstrip().startswith("#")]
    joined = re.sub(r"\\\s*\n\s*", " ", "\n".join(lines))
    return {tuple(re.findall(r"-f\s+([\w./-]+\.yaml)", match)) for match in COMMAND.findall(joined)}


def shown_to_users() -> dict[str, set[variants.Files]]:
    """Each page's and compose file's commands, by its path."""
    pages = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
    compose_files = [REPO / "compose.yaml", *variants.overlays()]
    shown = {page.name: commands_in(page.read_text()) for page in pages}
    return shown | {path.name: commands_in(path.read_text(), compose_file=True) for path in compose_files}


def workflow_rows() -> dict[str, variants.Files]:
    """The GitHub workflow's matrix: each row's name and its COMPOSE_FILE."""
    job = yaml.safe_load((REPO / ".github" / "workflows" / "smoke.yml").read_text())["jobs"]["compose-smoke"]
    return {row["path"]: tuple(row["files"].split(":")) for row in job["strategy"]["matrix"]["include"]}


def test_every_combination_a_page_or_a_compose_header_shows_is_in_the_list() -> None:
    unknown = {page: files - set(variants.COMBINATIONS) for page, files in shown_to_users().items()}
    assert {page: files for page, files in unknown.items() if files} == {}


def test_every_row_of_the_workflow_is_in_the_list() -> None:
    assert {row: files for row, files in workflow_rows().items() if files not in variants.COMBINATIONS} == {}


def test_every_combination_on_1_55_or_past_one_machine_is_shown_to_users() -> None:
    shown = set().union(*shown_to_users().values()) | set(workflow_rows().values())
    assert [files for files in variants.ON_1_55 + variants.SCALED if files not in shown] == []


def test_every_overlay_is_in_some_combination() -> None:
    used = {name for files in variants.COMBINATIONS for name in files}
    assert {path.name for path in variants.overlays()} <= used


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("docker compose -f compose.yaml -f compose.other.yaml up", {("compose.yaml", "compose.other.yaml")}),
        ("  docker compose -f compose.yaml \\\n    -f compose.other.yaml up", {("compose.yaml", "compose.other.yaml")}),
        ("docker compose up", set()),
    ],
)
def test_a_command_is_found_whole_also_across_continuation_lines(text: str, found: set) -> None:
    assert commands_in(text) == found


def test_a_compose_file_is_read_for_its_comments_only(tmp_path: Path) -> None:
    text = "# docker compose -f compose.yaml -f compose.a.yaml up\nx: docker compose -f compose.b.yaml\n"
    assert commands_in(text, compose_file=True) == {("compose.yaml", "compose.a.yaml")}
