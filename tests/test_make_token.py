"""scripts/make-token.sh: one token in the collector's file and in .env, private, never printed."""

import stat
import subprocess
from pathlib import Path

from harness import REPO


def make_token(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(REPO / "scripts" / "make-token.sh"), str(folder)], capture_output=True, text=True)


def test_the_same_token_goes_to_the_collectors_file_and_to_env_and_is_never_printed(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("JAEGER_UI_PORT=16687\n")
    made = make_token(tmp_path)
    assert made.returncode == 0, made.stderr
    token = (tmp_path / "secrets" / "collector-token").read_text().strip()
    assert len(token) == 43  # 32 random bytes, URL-safe base64
    assert (tmp_path / ".env").read_text() == f"JAEGER_UI_PORT=16687\nCOLLECTOR_AUTH_TOKEN={token}\n"
    assert token not in made.stdout + made.stderr
    for private in (tmp_path / ".env", tmp_path / "secrets" / "collector-token"):
        assert stat.S_IMODE(private.stat().st_mode) & 0o077 == 0, private


def test_a_second_run_replaces_the_token_in_both_places(tmp_path: Path) -> None:
    make_token(tmp_path)
    first = (tmp_path / "secrets" / "collector-token").read_text().strip()
    make_token(tmp_path)
    second = (tmp_path / "secrets" / "collector-token").read_text().strip()
    assert second != first
    assert (tmp_path / ".env").read_text() == f"COLLECTOR_AUTH_TOKEN={second}\n"
