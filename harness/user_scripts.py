"""The project's own scripts, run as a user runs them, for the tests' certificates and
secrets: scripts/make-certs.sh and scripts/make-token.sh."""

import subprocess
from pathlib import Path

from harness import REPO


def make_certs(folder: Path) -> Path:
    """The certificates scripts/make-certs.sh makes, in `folder`."""
    subprocess.run([str(REPO / "scripts" / "make-certs.sh"), str(folder)], check=True, capture_output=True)
    return folder


def collector_token(folder: Path) -> dict[str, str]:
    """The token (and the scale variant's passwords) scripts/make-token.sh makes in
    `folder`, as the compose variables that name them: the app's COLLECTOR_AUTH_TOKEN,
    the collector's file, the folder of the passwords' files (SECRETS_DIR)."""
    subprocess.run([str(REPO / "scripts" / "make-token.sh"), str(folder)], check=True, capture_output=True)
    token = (folder / ".env").read_text().removeprefix("COLLECTOR_AUTH_TOKEN=").strip()
    secrets = folder / "secrets"
    return {"COLLECTOR_AUTH_TOKEN": token, "COLLECTOR_TOKEN_FILE": str(secrets / "collector-token"),
            "SECRETS_DIR": str(secrets)}  # fmt: skip
