"""The app image (app/Dockerfile), checked without a Docker engine: what it is built from,
who it runs as, and that its locked dependencies install on its Python and platforms."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from harness import REPO

DOCKERFILE = (REPO / "app" / "Dockerfile").read_text()


def base_python_version() -> str:
    # One literal FROM of an image, which Dependabot reads (it does not follow ARGs);
    # the other stages start from it.
    images = [image for image in re.findall(r"^FROM (\S+)", DOCKERFILE, re.M) if ":" in image]
    assert len(images) == 1 and "$" not in DOCKERFILE.split("FROM", 1)[1].split("\n", 1)[0], images
    match = re.fullmatch(r"python:(\d+\.\d+)\.\d+-slim-\w+@sha256:[0-9a-f]{64}", images[0])
    assert match, "the base image is pinned to an exact python:X.Y.Z-slim-<debian> tag and its digest"
    return match.group(1)


def test_the_image_is_pinned_non_root_and_installs_only_hashed_wheels() -> None:
    base_python_version()
    users = re.findall(r"^USER (\S+)", DOCKERFILE, re.M)
    assert users and users[-1].split(":")[0] not in ("0", "root")
    assert "--require-hashes" in DOCKERFILE and "--only-binary=:all:" in DOCKERFILE


def _pins(path: str) -> dict[str, str]:
    text = (REPO / path).read_text()
    return dict(re.findall(r"^([a-z0-9._-]+)==(\S+) \\$", text, re.M))


def test_the_image_gets_the_exact_packages_the_tests_run_with() -> None:
    image, tested = _pins("app/requirements.txt"), _pins("requirements-dev.txt")
    assert image and all(tested.get(name) == version for name, version in image.items())
    text = (REPO / "app" / "requirements.txt").read_text()
    assert text.count("==") == len(image) and text.count("--hash=sha256:") >= len(image)


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_the_locked_wheels_install_on_the_image_python_for_amd64_and_arm64(arch: str, tmp_path: Path) -> None:
    # What the image's `pip install --require-hashes --only-binary=:all:` will meet:
    # every pinned package has a wheel for that Python and platform, with a listed hash.
    platforms = [f"--platform={tag}_{arch}" for tag in ("manylinux_2_28", "manylinux_2_17", "manylinux2014")]
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--disable-pip-version-check",
            "--only-binary=:all:",
            f"--python-version={base_python_version()}",
            *platforms,
            "--require-hashes",
            "-r",
            str(REPO / "app" / "requirements.txt"),
            "-d",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 0, completed.stderr
