"""The test certificates as scripts/make-certs.sh leaves them: each key only in the
folder of the container that uses it, no key readable by others, a CA that can sign
only end certificates."""

import os
import stat
import subprocess
from pathlib import Path

import pytest

from harness.stack import make_certs


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_certs(tmp_path_factory.mktemp("certs"))


def test_each_container_folder_holds_the_ca_and_only_its_own_pair(certs: Path) -> None:
    listing = {folder.name: sorted(path.name for path in folder.iterdir()) for folder in certs.iterdir()}
    assert listing == {
        "ca": ["ca.key", "ca.pem"],  # never mounted
        "server": ["ca.pem", "server.key", "server.pem"],  # Jaeger, the collector
        "client": ["ca.pem", "client.key", "client.pem"],  # the app
    }


def test_no_key_is_readable_by_others_and_the_containers_user_owns_the_mounted_ones(certs: Path) -> None:
    for key in ("ca/ca.key", "server/server.key", "client/client.key"):
        mode = (certs / key).stat().st_mode
        assert not mode & (stat.S_IROTH | stat.S_IWOTH), key
    assert stat.S_IMODE((certs / "ca").stat().st_mode) == 0o700
    if os.geteuid() != 0:
        return  # as another user, an ACL grants 10001 read access instead
    # Run as root, the script gives the mounted keys to the images' user 10001.
    assert {(certs / key).stat().st_uid for key in ("server/server.key", "client/client.key")} == {10001}


def test_the_ca_can_sign_only_end_certificates(certs: Path) -> None:
    text = subprocess.run(
        ["openssl", "x509", "-noout", "-text", "-in", str(certs / "ca" / "ca.pem")],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "CA:TRUE, pathlen:0" in text
