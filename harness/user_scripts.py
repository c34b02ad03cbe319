"""The project's own scripts, run as a user runs them, for the tests' certificates and
secrets: scripts/make-certs.sh and scripts/make-token.sh."""

import subprocess
from pathlib import Path

from harness import REPO, Missing


def _run(script: str, folder: Path) -> None:
    """The script on `folder`; where it stops for lack of setfacl (a normal user on Linux
    without the package acl), Missing, with the script's own line."""
    ran = subprocess.run([str(REPO / "scripts" / script), str(folder)], capture_output=True, text=True)
    if ran.returncode == 1 and "(package acl)" in ran.stderr:
        raise Missing(ran.stderr.strip())
    if ran.returncode != 0:
        raise RuntimeError(f"{script} {folder} exited {ran.returncode}: {ran.stderr.strip()}")


def make_certs(folder: Path) -> Path:
    """The certificates scripts/make-certs.sh makes, in `folder`."""
    _run("make-certs.sh", folder)
    return folder


def collector_token(folder: Path) -> dict[str, str]:
    """The token (and the scale variant's passwords) scripts/make-token.sh makes in
    `folder`, as the compose variables that name them: the app's COLLECTOR_AUTH_TOKEN,
    the collector's file, the folder of the passwords' files (SECRETS_DIR)."""
    _run("make-token.sh", folder)
    token = (folder / ".env").read_text().removeprefix("COLLECTOR_AUTH_TOKEN=").strip()
    secrets = folder / "secrets"
    return {"COLLECTOR_AUTH_TOKEN": token, "COLLECTOR_TOKEN_FILE": str(secrets / "collector-token"),
            "SECRETS_DIR": str(secrets)}  # fmt: skip
