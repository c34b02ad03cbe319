"""The test certificates as scripts/make-certs.sh leaves them: each key only in the
folder of the container that uses it, a key of its own for each server, no key
readable by others nor writable by the containers' user, a CA that can sign only end
certificates."""

import os
import stat
import subprocess
from pathlib import Path

import pytest

from harness.files import access_besides_the_owner
from harness.user_scripts import make_certs
from inprocess_grpc.traced_run import DEFAULT_SERVICE_NAME


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_certs(tmp_path_factory.mktemp("certs"))


def test_each_container_folder_holds_the_ca_and_only_its_own_pair(certs: Path) -> None:
    listing = {folder.name: sorted(path.name for path in folder.iterdir()) for folder in certs.iterdir()}
    assert listing == {
        "ca": ["ca.key", "ca.pem"],  # never mounted
        "jaeger": ["ca.pem", "server.key", "server.pem"],
        "collector": ["ca.pem", "server.key", "server.pem"],
        "client": ["ca.pem", "client.key", "client.pem"],  # the app
    }


def test_each_server_has_a_key_of_its_own_naming_only_its_own_host(certs: Path) -> None:
    assert (certs / "jaeger" / "server.key").read_bytes() != (certs / "collector" / "server.key").read_bytes()
    for server, host in (("jaeger", "jaeger"), ("collector", "otel-collector")):
        text = subprocess.run(
            ["openssl", "x509", "-noout", "-ext", "subjectAltName", "-in", str(certs / server / "server.pem")],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        assert text.split("\n", 1)[1].strip() == f"DNS:{host}, DNS:localhost, IP Address:127.0.0.1"


def test_each_key_is_yours_to_change_and_readable_only_by_its_containers_user(certs: Path) -> None:
    for key in ("jaeger/server.key", "collector/server.key", "client/client.key"):
        assert (certs / key).stat().st_uid == os.geteuid(), key  # yours, not the containers' user's
        assert access_besides_the_owner(certs / key) == {"10001": "r"}, key
    assert access_besides_the_owner(certs / "ca" / "ca.key") == {}
    assert stat.S_IMODE((certs / "ca").stat().st_mode) == 0o700


def test_the_ca_can_sign_only_end_certificates(certs: Path) -> None:
    text = subprocess.run(
        ["openssl", "x509", "-noout", "-text", "-in", str(certs / "ca" / "ca.pem")],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "CA:TRUE, pathlen:0" in text


def test_the_apps_certificate_names_the_app_as_jaeger_lists_it(certs: Path) -> None:
    subject = subprocess.run(
        ["openssl", "x509", "-noout", "-subject", "-nameopt", "sep_multiline", "-in", str(certs / "client/client.pem")],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert f"CN={DEFAULT_SERVICE_NAME}" in subject.split()
