"""The reference and the proving ground, apart. The reference is what a user copies: the
app, the smoke test's package, the scripts a user runs beside compose, the compose files
and every configuration they mount, and the GitHub workflow that runs them. The proving ground is tests/, harness/ and
benchmarks/: it may import and name the reference; the reference never names it."""

import ast
import re
import subprocess
from pathlib import Path

from harness import REPO

PROVING_GROUND = ("tests", "harness", "benchmarks")
# Words by which a file would name the proving ground, or talk about it.
NAMES_IT = re.compile(r"\b(harness|benchmarks?|pytest|the tests)\b|\btests/")


def reference_files() -> list[Path]:
    """Every file of the reference the repository tracks."""
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    paths = [REPO / name for name in tracked.split()]
    top = {"compose.yaml", "hardening.yaml", "tls.yaml", "jaeger-v2-image.yaml", "otel-collector-config.yaml",
           "jaeger-v2-config.yaml", "expected-trace.json", ".env.example"}  # fmt: skip
    return [
        path for path in paths
        if path.parts[len(REPO.parts)] in ("app", "smoke", "scripts", "scale", "limits", ".github")
        or path.name in top or re.fullmatch(r"compose\.[\w-]+\.yaml", path.name)
    ]  # fmt: skip


def test_the_reference_is_what_the_layout_says() -> None:
    found = {path.relative_to(REPO).parts[0] for path in reference_files()}
    assert {"app", "smoke", "scripts", "scale", "limits", ".github", "compose.yaml", "hardening.yaml"} <= found
    assert not found & set(PROVING_GROUND)


def test_no_module_of_the_reference_imports_the_proving_ground() -> None:
    imported = {}
    for path in reference_files():
        if path.suffix == ".py" or path.read_text(errors="replace").startswith("#!/usr/bin/env python"):
            tree = ast.parse(path.read_text(), filename=str(path))
            names = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
            names += [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
            imported[path.relative_to(REPO)] = {name.split(".")[0] for name in names}
    assert imported, "no Python module found in the reference"
    assert {path: names & set(PROVING_GROUND) for path, names in imported.items() if names & set(PROVING_GROUND)} == {}


def test_no_file_of_the_reference_names_or_talks_about_the_proving_ground() -> None:
    named = {
        f"{path.relative_to(REPO)}:{number}": line.strip()
        for path in reference_files()
        if path.suffix not in (".png",)
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
        if NAMES_IT.search(line)
    }
    assert named == {}
