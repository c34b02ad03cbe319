"""scripts/make-token.sh and scripts/make-certs.sh as a user runs them: one token in the
collector's file and in .env, never printed; the scale variant's passwords, made once,
never printed; files yours alone to change and readable by the container's user only;
the same result run as yourself or with sudo; nothing written through a symbolic link;
nothing half made left by an interrupt; and no run with a Docker Compose that would
ignore `!override`."""

import os
import re
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from harness import REPO, binaries, compose, engine, variants
from harness.files import access_besides_the_owner

SCRIPTS = REPO / "scripts"
# Someone who ran sudo, and is not root: the owner of what the scripts write for them.
YOU = 4242


def run(script: str, folder: Path, env: dict[str, str] | None = None, user: int | None = None):
    """The script, on `folder`, as root or as `user` (setpriv: that uid and gid, no groups)."""
    command = [str(SCRIPTS / script), str(folder)]
    if user is not None:
        command = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *command]
    base = {"PATH": os.environ["PATH"], "HOME": str(folder)}
    return subprocess.run(command, env={**base, **(env or {})}, capture_output=True, text=True, timeout=60)


def token_of(folder: Path) -> str:
    return (folder / "secrets" / "collector-token").read_text().strip()


AS_ROOT = "needs root (a chown to another uid, setpriv): run it as root: sudo ./tests/run.sh tests/test_make_token.py"


@contextmanager
def folder_of_you() -> Iterator[Path]:
    """A project folder of user YOU's (pytest's own folders are root's alone), as root."""
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "project"
        folder.mkdir()
        os.chown(folder, YOU, YOU)
        Path(scratch).chmod(0o755)
        yield folder


@pytest.fixture
def shared() -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip(AS_ROOT)
    with folder_of_you() as folder:
        yield folder


@pytest.fixture
def yourself(tmp_path: Path) -> Iterator[tuple[Path, int | None]]:
    """A project folder, and whom to run the scripts as there: yourself (as root: YOU)."""
    if os.geteuid() != 0:
        (tmp_path / "project").mkdir()
        yield tmp_path / "project", None
    else:
        with folder_of_you() as folder:
            yield folder, YOU


def test_the_same_token_goes_to_the_collectors_file_and_to_env_and_is_never_printed(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("JAEGER_UI_PORT=16687\n")
    made = run("make-token.sh", tmp_path)
    assert made.returncode == 0, made.stderr
    token = token_of(tmp_path)
    assert len(token) == 43  # 32 random bytes, URL-safe base64
    assert (tmp_path / ".env").read_text() == f"JAEGER_UI_PORT=16687\nCOLLECTOR_AUTH_TOKEN={token}\n"
    assert token not in made.stdout + made.stderr
    # .env: yours alone. The token file: yours to change; the collector's user 10001 reads
    # it (an ACL, or, run as root without setfacl, its group), and no one else.
    assert stat.S_IMODE((tmp_path / ".env").stat().st_mode) == 0o600
    token_file = tmp_path / "secrets" / "collector-token"
    assert token_file.stat().st_uid == os.geteuid()
    assert access_besides_the_owner(token_file) == {"10001": "r"}


# The scale variant's passwords (compose.scale.yaml's secrets), each file readable by the
# one container user that reads it: Kafka's (1000), Cassandra's (999, the cassandra-setup
# task), the Jaeger roles' (10001). The Jaeger logins' passwords are in two files each.
PASSWORDS = {
    "kafka/admin-password": "1000",
    "kafka/jaeger-password": "1000",
    "cassandra/admin-password": "999",
    "cassandra/jaeger-password": "999",
    "jaeger/kafka-password": "10001",
    "jaeger/cassandra-password": "10001",
}
SAME_PASSWORD = [("kafka/jaeger-password", "jaeger/kafka-password"),
                 ("cassandra/jaeger-password", "jaeger/cassandra-password")]  # fmt: skip


def passwords_of(folder: Path) -> dict[str, str]:
    return {name: (folder / "secrets" / name).read_text() for name in PASSWORDS}


def test_the_scale_variants_passwords_are_made_private_each_readable_by_its_containers_user(tmp_path: Path) -> None:
    made = run("make-token.sh", tmp_path)
    assert made.returncode == 0, made.stderr
    passwords = passwords_of(tmp_path)
    for name, password in passwords.items():
        # 32 random bytes, URL-safe (no comma for Kafka's --add-scram, no quote for CQL), and
        # no newline: Jaeger reads the file's exact bytes.
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", password), name
        assert password not in made.stdout + made.stderr, f"{name} printed"
        file = tmp_path / "secrets" / name
        assert file.stat().st_uid == os.geteuid(), name
        assert access_besides_the_owner(file) == {PASSWORDS[name]: "r"}, name
    for engines, roles in SAME_PASSWORD:  # the engine's copy and the Jaeger roles'
        assert passwords[engines] == passwords[roles]
    # Four logins, four passwords.
    assert len(set(passwords.values())) == 4
    assert made.stdout == (
        f"token in {tmp_path}/secrets/collector-token and {tmp_path}/.env\n"
        f"passwords of the scale variant in {tmp_path}/secrets/kafka, cassandra and jaeger\n"
    )


def path_without_setfacl(folder: Path) -> dict[str, str]:
    """A PATH of links to every program of this one, but setfacl: those in the folders of
    PATH that any user may list (root's own may be root's alone)."""
    folder.mkdir()
    folder.chmod(0o755)
    for each in map(Path, os.environ["PATH"].split(":")):
        listable = os.access(each, os.R_OK | os.X_OK)
        if not listable or not all(os.stat(up).st_mode & stat.S_IXOTH for up in [each, *each.parents]):
            continue
        for program in each.iterdir():
            if program.name != "setfacl" and not (folder / program.name).exists():
                (folder / program.name).symlink_to(program)
    return {"PATH": str(folder)}


def test_without_setfacl_as_root_each_file_is_readable_by_its_reader_through_its_group(tmp_path: Path) -> None:
    # Where there is no setfacl (run as root), each file's group is its one reader's, mode
    # 640: why no file is read by two container users, and the Jaeger logins' passwords
    # are in two files.
    if os.geteuid() != 0:
        pytest.skip(AS_ROOT)
    made = run("make-token.sh", tmp_path / "project", path_without_setfacl(tmp_path / "bin"))
    assert made.returncode == 0, made.stderr
    for name, reader in {**PASSWORDS, "collector-token": "10001"}.items():
        file = tmp_path / "project" / "secrets" / name
        assert (file.stat().st_gid, stat.S_IMODE(file.stat().st_mode)) == (int(reader), 0o640), name
        assert access_besides_the_owner(file) == {reader: "r"}, name


@pytest.mark.parametrize("script", ["make-token.sh", "make-certs.sh"])
def test_without_setfacl_as_yourself_on_linux_the_script_stops_saying_to_install_acl(
    script: str, yourself: tuple[Path, int | None]
) -> None:
    # Rather than leave a key readable by others, or by no container.
    project, user = yourself
    target = project if script == "make-token.sh" else project / "certs"
    stopped = run(script, target, path_without_setfacl(project.parent / "bin"), user=user)
    assert stopped.returncode == 1
    assert re.fullmatch(r"error: \S+ must be readable by the containers' user \d+: install setfacl \(package acl\),"
                        r" or run this script with sudo\n", stopped.stderr), stopped.stderr  # fmt: skip


def test_a_second_run_keeps_the_passwords_and_makes_a_missing_copy_from_the_other(tmp_path: Path) -> None:
    # Kafka and Cassandra keep the passwords in their volumes: a new one would lock the
    # Jaeger roles out. The token is replaced; the passwords stay.
    run("make-token.sh", tmp_path)
    first = passwords_of(tmp_path)
    (tmp_path / "secrets" / "jaeger" / "kafka-password").unlink()
    again = run("make-token.sh", tmp_path)
    assert again.returncode == 0, again.stderr
    assert passwords_of(tmp_path) == first
    assert access_besides_the_owner(tmp_path / "secrets" / "jaeger" / "kafka-password") == {"10001": "r"}


@pytest.mark.parametrize(("script", "made"), [("make-token.sh", "secrets/collector-token"),
                                             ("make-certs.sh", "certs/ca/ca.pem")])  # fmt: skip
def test_with_no_argument_the_script_writes_in_the_project_folder(script: str, made: str, tmp_path: Path) -> None:
    # As the README and the workflow run them: ./scripts/make-….sh, from the project folder.
    shutil.copytree(SCRIPTS, tmp_path / "scripts")
    ran = subprocess.run([f"./scripts/{script}"], cwd=tmp_path, env={"PATH": os.environ["PATH"], "HOME": str(tmp_path)},
                         capture_output=True, text=True, timeout=60)  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    assert (tmp_path / made).is_file()


def test_a_second_run_replaces_the_token_in_both_places(tmp_path: Path) -> None:
    run("make-token.sh", tmp_path)
    first = token_of(tmp_path)
    run("make-token.sh", tmp_path)
    second = token_of(tmp_path)
    assert second != first
    assert (tmp_path / ".env").read_text() == f"COLLECTOR_AUTH_TOKEN={second}\n"


def test_the_token_file_is_rewritten_in_place_so_the_running_collector_sees_the_new_one(tmp_path: Path) -> None:
    # Compose mounts the file itself: a file replaced by another would not be seen.
    run("make-token.sh", tmp_path)
    inode = (tmp_path / "secrets" / "collector-token").stat().st_ino
    run("make-token.sh", tmp_path)
    assert (tmp_path / "secrets" / "collector-token").stat().st_ino == inode


@pytest.mark.parametrize("script", ["make-token.sh", "make-certs.sh"])
def test_with_sudo_what_the_script_writes_stays_yours(script: str, shared: Path) -> None:
    target = shared if script == "make-token.sh" else shared / "certs"
    made = run(script, target, {"SUDO_UID": str(YOU), "SUDO_GID": str(YOU)})
    assert made.returncode == 0, made.stderr
    written = [target, *target.rglob("*")]
    assert written and {path.stat().st_uid for path in written} == {YOU}, written


def test_a_token_made_with_sudo_can_be_made_again_as_yourself_and_compose_reads_env(shared: Path) -> None:
    if not _setfacl():
        engine.apt_install("acl")  # run as yourself on Linux, the scripts need setfacl (package acl)
    assert run("make-token.sh", shared, {"SUDO_UID": str(YOU), "SUDO_GID": str(YOU)}).returncode == 0
    again = run("make-token.sh", shared, user=YOU)
    assert again.returncode == 0, again.stderr
    readable = subprocess.run(["setpriv", f"--reuid={YOU}", f"--regid={YOU}", "--clear-groups", "cat",
                               str(shared / ".env")], capture_output=True, text=True)  # fmt: skip
    assert readable.stdout == f"COLLECTOR_AUTH_TOKEN={token_of(shared)}\n"


def _setfacl() -> bool:
    return subprocess.run(["sh", "-c", "command -v setfacl"], capture_output=True).returncode == 0


# --- links and folders: what root writes for you goes nowhere else, and is yours alone


def state_of(path: Path) -> list[tuple[str, int, int, bytes]]:
    """Each file and folder at `path` (a link's target): name, mode, owner, content."""
    return [(str(each), each.stat().st_mode, each.stat().st_uid, each.read_bytes() if each.is_file() else b"")
            for each in [path, *sorted(path.rglob("*"))]]  # fmt: skip


@pytest.mark.parametrize(("script", "link", "points_to"), [("make-token.sh", "secrets/collector-token", "a file"),
                                                          ("make-token.sh", "secrets/kafka/admin-password", "a file"),
                                                          ("make-token.sh", ".env", "a file"),
                                                          ("make-token.sh", "secrets", "a folder"),
                                                          ("make-certs.sh", "certs", "a folder"),
                                                          ("make-certs.sh", "certs/jaeger", "a folder")])  # fmt: skip
def test_a_symbolic_link_where_the_script_writes_is_refused_and_what_it_points_to_is_left_alone(
    script: str, link: str, points_to: str, tmp_path: Path
) -> None:
    # Run with sudo, a link planted there (to /etc/shadow, say) would have root write the
    # token into what it points to, and chown it to the user who ran sudo.
    project = tmp_path / "project"
    (project / link).parent.mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere"
    if points_to == "a file":
        elsewhere.write_text("someone else's\n")
        elsewhere.chmod(0o644)
    else:
        elsewhere.mkdir(mode=0o755)
        (elsewhere / "kept").write_text("someone else's\n")
    before = state_of(elsewhere)
    (project / link).symlink_to(elsewhere)
    target = project if script == "make-token.sh" else project / "certs"
    refused = run(script, target, {"SUDO_UID": str(YOU), "SUDO_GID": str(YOU)})
    assert refused.returncode == 5
    assert refused.stderr == (
        f"error: {project / link} is a symbolic link: remove it (the script writes only files of its own)\n"
    )
    assert state_of(elsewhere) == before


def test_the_secrets_folders_are_yours_alone_even_where_they_were_made_open_before(tmp_path: Path) -> None:
    folders = [tmp_path / "secrets", *(tmp_path / "secrets" / each for each in ("kafka", "cassandra", "jaeger"))]
    for folder in folders:
        folder.mkdir(mode=0o755)
        folder.chmod(0o755)
    made = run("make-token.sh", tmp_path)
    assert made.returncode == 0, made.stderr
    assert {str(folder): stat.S_IMODE(folder.stat().st_mode) for folder in folders} == {
        str(folder): 0o700 for folder in folders
    }


# --- an interrupt leaves what was there


@pytest.mark.parametrize("script, slow_program", [("make-token.sh", "python3"), ("make-certs.sh", "openssl")])
@pytest.mark.parametrize("sent", [signal.SIGINT, signal.SIGTERM], ids=["Ctrl+C", "SIGTERM"])
def test_an_interrupted_run_leaves_the_earlier_files_and_no_half_made_ones(
    script: str, slow_program: str, sent: signal.Signals, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    target = project if script == "make-token.sh" else project / "certs"
    assert run(script, target).returncode == 0
    before = {path: path.read_bytes() for path in target.rglob("*") if path.is_file()}
    # The program the script calls while it writes, made slow: the seam is PATH.
    slow = tmp_path / "slow"
    slow.mkdir()
    real = subprocess.run(["sh", "-c", f"command -v {slow_program}"], capture_output=True, text=True).stdout.strip()
    (slow / slow_program).write_text(f'#!/bin/sh\nsleep 30\nexec {real} "$@"\n')
    (slow / slow_program).chmod(0o755)
    process = subprocess.Popen([str(SCRIPTS / script), str(target)], env={"PATH": f"{slow}:{os.environ['PATH']}"},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)  # fmt: skip
    scratch_root = project if script == "make-token.sh" else target
    deadline = time.monotonic() + 30
    while not list(scratch_root.glob(".new.*")) and time.monotonic() < deadline:
        time.sleep(0.05)  # polling for the script's scratch folder, not synchronising on time
    assert list(scratch_root.glob(".new.*")), "the script never started writing"
    os.killpg(process.pid, sent)  # to the script and what it runs, as Ctrl+C in a terminal does
    assert process.wait(timeout=30) == 128 + sent
    assert {path: path.read_bytes() for path in target.rglob("*") if path.is_file()} == before
    assert not list(scratch_root.glob(".new.*"))


# --- a Compose that would ignore `!override`


@pytest.fixture(scope="module")
def docker_config_with(tmp_path_factory: pytest.TempPathFactory):
    """A DOCKER_CONFIG folder whose Compose plugin is `binary`."""

    def make(binary: binaries.GoModuleBinary) -> dict[str, str]:
        folder = tmp_path_factory.mktemp(f"compose-{binary.version}")
        (folder / "cli-plugins").mkdir()
        (folder / "cli-plugins" / "docker-compose").symlink_to(binaries.ensure(binary))
        return {"DOCKER_CONFIG": str(folder)}

    return make


def test_compose_before_2_24_4_would_leave_the_scale_query_role_on_the_collectors_network() -> None:
    # Why the scripts refuse it: it merges what the scale overlay's `networks: !override`
    # replaces. (No variant needs `!override` to keep Jaeger's receiver off the host:
    # tests/test_compose.py.)
    files = variants.past_one_machine()["collector+scale"]
    old = compose.resolve(*files, variables={"COLLECTOR_AUTH_TOKEN": "t"}, release=binaries.OLD_COMPOSE)
    current = compose.resolve(*files, variables={"COLLECTOR_AUTH_TOKEN": "t"})
    assert set(current["services"]["jaeger"]["networks"]) == {"store", "ui"}
    assert set(old["services"]["jaeger"]["networks"]) == {"backend", "store", "ui"}


@pytest.mark.parametrize("script", ["make-token.sh", "make-certs.sh"])
def test_the_scripts_refuse_a_compose_older_than_2_24_4_naming_it(
    script: str, docker_config_with, tmp_path: Path
) -> None:
    old = run(script, tmp_path / "old", docker_config_with(binaries.OLD_COMPOSE))
    assert old.returncode == 3
    assert old.stderr == (
        "error: Docker Compose 2.23.3 is too old: the TLS and collector variants need 2.24.4 or newer (older"
        " releases ignore `!override`, which the scale variant's overlay needs)\n"
    )
    assert not (tmp_path / "old").exists() or not any((tmp_path / "old").iterdir())
    current = run(script, tmp_path / "current", docker_config_with(binaries.COMPOSE))
    assert current.returncode == 0, current.stderr
