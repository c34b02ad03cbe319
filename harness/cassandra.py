"""Cassandra 5.0 run natively for the tests: the project's scale/cassandra.yaml, its
addresses and folders moved by code to free loopback ports and the test's folder, run
as `CassandraDaemon` on the jars harness/java_engines.py fetched, with the heap of the
compose service's environment, and waited for by a CQL request on its native port
instead of sleeping.

What compose.scale.yaml's cassandra container runs through Cassandra's scripts, this
runs directly: the JVM options of Cassandra's jvm17-server.options (the modules it opens,
G1), Jamm as its agent, and the project's cassandra-rackdc.properties and logging.
"""

import shutil
import socket
import struct
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml

from harness import java_engines
from harness.servers import Server, free_port, running

# Cassandra 5.0's conf/jvm17-server.options: G1, and the JDK internals Cassandra reaches.
JVM17_OPTIONS = (
    "-XX:+UseG1GC", "-XX:+ParallelRefProcEnabled", "-XX:MaxTenuringThreshold=1", "-XX:G1HeapRegionSize=16m",
    "-XX:G1RSetUpdatingPauseTimePercent=5", "-XX:MaxGCPauseMillis=300", "-XX:InitiatingHeapOccupancyPercent=70",
    "-Djdk.attach.allowAttachSelf=true",
    *(f"--add-exports={module}=ALL-UNNAMED" for module in (
        "java.base/jdk.internal.misc", "java.management.rmi/com.sun.jmx.remote.internal.rmi",
        "java.rmi/sun.rmi.registry", "java.rmi/sun.rmi.server", "java.sql/java.sql", "java.base/java.lang.ref",
        "jdk.unsupported/sun.misc", "jdk.compiler/com.sun.tools.javac.file", "jdk.attach/sun.tools.attach",
    )),
    *(f"--add-opens={module}=ALL-UNNAMED" for module in (
        "java.base/java.lang.module", "java.base/jdk.internal.loader", "java.base/jdk.internal.ref",
        "java.base/jdk.internal.reflect", "java.base/jdk.internal.math", "java.base/jdk.internal.module",
        "java.base/jdk.internal.util.jar", "jdk.management/com.sun.management.internal", "java.base/sun.nio.ch",
        "java.base/java.io", "java.base/java.lang.reflect", "jdk.compiler/com.sun.tools.javac",
        "java.base/java.lang", "java.base/java.util",
    )),
    "-Dio.netty.tryReflectionSetAccessible=true", "-Xss256k",
)  # fmt: skip

# Where compose.scale.yaml mounts the named volume cassandra-data.
DATA_VOLUME = "/var/lib/cassandra"


# --- Cassandra's native protocol (v4), just enough to probe a node and run a query.

_OPTIONS, _STARTUP, _READY, _AUTHENTICATE, _QUERY, _RESULT, _SUPPORTED, _AUTH_RESPONSE, _AUTH_SUCCESS = (
    0x05, 0x01, 0x02, 0x03, 0x07, 0x08, 0x06, 0x0F, 0x10
)  # fmt: skip
_ERROR = 0x00


class CqlError(Exception):
    """The node answered a request with an error (its message), or not at all."""


def _cql_string(value: str) -> bytes:
    data = value.encode()
    return struct.pack(">H", len(data)) + data


def _exchange(sock: socket.socket, opcode: int, body: bytes = b"") -> tuple[int, bytes]:
    """Send one request (stream 0); the response's opcode and body."""
    sock.sendall(struct.pack(">BBhBi", 0x04, 0, 0, opcode, len(body)) + body)
    header = _receive(sock, 9)
    if header[0] != 0x84:
        raise CqlError(f"not a CQL v4 response: {header!r}")
    answer, length = header[4], struct.unpack(">i", header[5:9])[0]
    body = _receive(sock, length)
    if answer == _ERROR:
        code, size = struct.unpack_from(">iH", body)
        raise CqlError(f"error 0x{code:04x}: {body[6 : 6 + size].decode(errors='replace')}")
    return answer, body


def _receive(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise CqlError("the node closed the connection")
        data += chunk
    return data


def native_port_answers(address: str, timeout: float = 2) -> bool:
    """Cassandra's native port answers a CQL OPTIONS request with SUPPORTED: the node has
    started and takes queries."""
    host, port = address.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=timeout) as sock:
            return _exchange(sock, _OPTIONS)[0] == _SUPPORTED
    except (OSError, CqlError, struct.error):
        return False


def cql(
    address: str, statement: str, credentials: tuple[str, str] | None = None, timeout: float = 30
) -> list[list[bytes | None]]:
    """Run one CQL statement at consistency ONE, logged in with `credentials` (user,
    password) where the node asks for them; the rows it returns, each a list of raw
    column values (None for null). CqlError with the node's message if it refuses."""
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        options = struct.pack(">H", 1) + _cql_string("CQL_VERSION") + _cql_string("3.0.0")
        answer, body = _exchange(sock, _STARTUP, options)
        if answer == _AUTHENTICATE:
            authenticator = body[2 : 2 + struct.unpack_from(">H", body)[0]].decode()
            if credentials is None:
                raise CqlError(f"the node asks for credentials ({authenticator})")
            user, password = credentials
            token = b"\x00" + user.encode() + b"\x00" + password.encode()  # SASL PLAIN
            answer, body = _exchange(sock, _AUTH_RESPONSE, struct.pack(">i", len(token)) + token)
            if answer != _AUTH_SUCCESS:
                raise CqlError(f"unexpected answer 0x{answer:02x} to the credentials")
        elif answer != _READY:
            raise CqlError(f"unexpected answer 0x{answer:02x} to STARTUP")
        # The query, consistency ONE, no flags.
        kind, body = _exchange(sock, _QUERY, _long_string(statement) + struct.pack(">HB", 0x0001, 0))
    assert kind == _RESULT, kind
    return _rows(body)


def _long_string(value: str) -> bytes:
    data = value.encode()
    return struct.pack(">i", len(data)) + data


def _rows(body: bytes) -> list[list[bytes | None]]:
    """The rows of a RESULT message ([] for a result that is not rows)."""
    at = 4
    if struct.unpack_from(">i", body)[0] != 2:  # kind Rows
        return []
    flags, columns = struct.unpack_from(">ii", body, at)
    at += 8
    if flags & 0x0002:  # paging state
        at += 4 + struct.unpack_from(">i", body, at)[0]
    strings = 2 if flags & 0x0001 else 0  # the table's keyspace and name, once
    for _ in range(strings):
        at += 2 + struct.unpack_from(">H", body, at)[0]
    for _ in range(columns):
        for _ in range(0 if flags & 0x0001 else 2):
            at += 2 + struct.unpack_from(">H", body, at)[0]
        at += 2 + struct.unpack_from(">H", body, at)[0]  # the column's name
        at = _skip_type(body, at)
    (count,) = struct.unpack_from(">i", body, at)
    at += 4
    rows = []
    for _ in range(count):
        row: list[bytes | None] = []
        for _ in range(columns):
            (length,) = struct.unpack_from(">i", body, at)
            at += 4
            row.append(None if length < 0 else body[at : at + length])
            at += max(length, 0)
        rows.append(row)
    return rows


def _skip_type(body: bytes, at: int) -> int:
    """Past a column's [option] type."""
    (kind,) = struct.unpack_from(">H", body, at)
    at += 2
    if kind == 0x0000:  # custom: a class name
        return at + 2 + struct.unpack_from(">H", body, at)[0]
    if kind in (0x0020, 0x0022):  # list, set
        return _skip_type(body, at)
    if kind == 0x0021:  # map
        return _skip_type(body, _skip_type(body, at))
    if kind in (0x0030, 0x0031):
        raise CqlError("user-defined and tuple types are not read here")
    return at


@dataclass
class CassandraServer(Server):
    """The node: ready once its native port answers CQL."""

    address: str = ""
    start_timeout: float = 120

    def ready(self) -> bool:
        return native_port_answers(self.address)


@dataclass
class Cassandra:
    address: str  # host:port of the native (CQL) port
    log: Path
    server: CassandraServer  # to stop it and start it again, on the same ports and data


def _heap(environment: Mapping[str, str]) -> list[str]:
    """The heap cassandra-env.sh sets from MAX_HEAP_SIZE and HEAP_NEWSIZE."""
    heap, young = environment["MAX_HEAP_SIZE"], environment["HEAP_NEWSIZE"]
    return [f"-Xms{heap}", f"-Xmx{heap}", f"-Xmn{young}"]


def _localized(config: dict, folder: Path, storage: int, native: int) -> dict:
    config = {**config, "listen_address": "127.0.0.1", "rpc_address": "127.0.0.1"}
    config |= {"storage_port": storage, "native_transport_port": native}
    config["seed_provider"] = [
        {**config["seed_provider"][0], "parameters": [{"seeds": f"127.0.0.1:{storage}"}]},
    ]

    def moved(path: str) -> str:
        assert path.startswith(DATA_VOLUME + "/"), f"{path}: not on the data volume"
        return str(folder / "cassandra-data" / path.removeprefix(DATA_VOLUME + "/"))

    config["data_file_directories"] = [moved(path) for path in config["data_file_directories"]]
    for key in ("commitlog_directory", "saved_caches_directory", "hints_directory", "cdc_raw_directory"):
        if key in config:
            config[key] = moved(config[key])
    return config


@contextmanager
def running_cassandra(
    config: Path,
    rackdc: Path,
    logback: Path,
    environment: Mapping[str, str],
    folder: Path,
    launcher: Sequence[str] = (),
) -> Iterator[Cassandra]:
    """One node with `config` (scale/cassandra.yaml), `rackdc` and `logback` (the files
    compose mounts) and compose's `environment` (its heap); its ports free loopback
    ones, its data in `folder`, removed at the end. `launcher` goes before the command."""
    java, classpath = java_engines.java(), java_engines.CASSANDRA.classpath()
    jamm = java_engines.CASSANDRA.jar("jamm")
    scratch = folder / "cassandra-tmp"  # the JVM's, where JNA unpacks its native library
    scratch.mkdir(exist_ok=True)

    def start() -> tuple[CassandraServer, Cassandra]:
        storage, native = free_port(), free_port()
        localized = _localized(yaml.safe_load(config.read_text()), folder, storage, native)
        (folder / "cassandra.yaml").write_text(yaml.safe_dump(localized))
        command = [
            java, *_heap(environment), *JVM17_OPTIONS, f"-javaagent:{jamm}",
            f"-Dcassandra.config=file://{folder / 'cassandra.yaml'}",
            f"-Dcassandra-rackdc.properties=file://{rackdc}",
            f"-Dlogback.configurationFile={logback}",
            "-Dcassandra-foreground=yes", f"-Djava.io.tmpdir={scratch}",
            "-cp", classpath, "org.apache.cassandra.service.CassandraDaemon",
        ]  # fmt: skip
        log = folder / "cassandra.log"
        server = CassandraServer(command, {}, "", log, launcher=launcher, address=f"127.0.0.1:{native}")
        return server, Cassandra(server.address, server.log, server)

    try:
        with running(start, "Cassandra") as cassandra:
            yield cassandra
    finally:
        shutil.rmtree(folder / "cassandra-data", ignore_errors=True)
        shutil.rmtree(scratch, ignore_errors=True)
