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
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml

from harness import java_engines
from harness.cql import native_port_answers
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


@dataclass
class CassandraServer(Server):
    """The node: ready once its native port answers CQL."""

    address: str = ""
    start_timeout: float = 600  # a hang, not a bound: a JVM starved by a busy machine starts slowly

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
