"""The combinations of compose files the project tells users to run: the workflow's
matrix, and every `docker compose -f … -f …` command in the README, the docs and the
compose files' own headers. Tests that must cover every combination a user may run
take them from here, so that a new overlay, once its header shows how to run it, is
covered without a test being edited."""

import re
from pathlib import Path

import yaml

from harness import REPO

Files = tuple[str, ...]

_COMMAND = re.compile(r"docker compose((?:\s+-f\s+[\w./-]+\.yaml)+)")
V2 = "compose.jaeger-v2.yaml"


def workflow_rows() -> dict[str, Files]:
    """The GitHub workflow's matrix: each row's name and its COMPOSE_FILE."""
    job = yaml.safe_load((REPO / ".github" / "workflows" / "smoke.yml").read_text())["jobs"]["compose-smoke"]
    return {row["path"]: tuple(row["files"].split(":")) for row in job["strategy"]["matrix"]["include"]}


def overlays() -> list[Path]:
    """Every compose file beside compose.yaml."""
    return sorted(path for path in REPO.glob("compose.*.yaml"))


def commands_in(path: Path) -> set[Files]:
    """The file lists of the `docker compose -f …` commands a page or a compose file's
    comments show, continuation lines joined."""
    lines = path.read_text().splitlines()
    if path.suffix == ".yaml":  # a compose file: only its comments
        lines = [line.lstrip()[1:].strip() for line in lines if line.lstrip().startswith("#")]
    text = re.sub(r"\\\s*\n\s*", " ", "\n".join(lines))
    return {tuple(re.findall(r"-f\s+([\w./-]+\.yaml)", match)) for match in _COMMAND.findall(text)}


def documented() -> set[Files]:
    """Every combination the README, the docs and the compose files' headers show."""
    pages = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md")), REPO / "compose.yaml", *overlays()]
    return {files for page in pages for files in commands_in(page)}


def named() -> set[Files]:
    """Every combination the docs and the workflow name, and each also on Jaeger v2 (its
    overlay right after compose.yaml, as it asks), except the scale variant, which runs
    Jaeger v2 in roles of its own."""
    found = documented() | set(workflow_rows().values())
    on_v2 = {(files[0], V2, *files[1:]) for files in found if V2 not in files and "compose.scale.yaml" not in files}
    return found | on_v2


SCALE = "compose.scale.yaml"


def label(files: Files) -> str:
    """A combination's short name: its overlays, or "direct" for compose.yaml alone."""
    overlays = [name.removeprefix("compose.").removesuffix(".yaml") for name in files[1:]]
    return "+".join(overlays) or "direct"


def on_one_machine() -> dict[str, Files]:
    """Every named combination but the scale variant's, by label."""
    return {label(files): files for files in sorted(named()) if SCALE not in files}


def past_one_machine() -> dict[str, Files]:
    """The named combinations of the scale variant, by label."""
    return {label(files): files for files in sorted(named()) if SCALE in files}
