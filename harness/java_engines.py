"""Fetches the real Kafka and Cassandra from Maven Central, and caches them.

The scale tests (compose.scale.yaml's pipeline, run natively) need the engines the
images hold, and no container registry is reachable: Kafka's and Cassandra's own jars,
with their runtime dependencies, run on this machine's Java 17 are the same programs.
Maven resolves them (`mvn dependency:copy-dependencies` on a throwaway pom listing the
artifacts), checked against the checksums Maven Central publishes.

Jars are cached outside the repository, one folder per engine and version
(`~/.cache/otel-python-jaeger-reference/kafka-<version>/lib`), so a second run costs
nothing; Maven's own repository is a scratch folder, removed once the jars are copied.
`python -m harness.java_engines` fetches both, installing Maven (and Java) with apt
where they are missing and this is root.
"""

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from harness import REPO
from harness.binaries import pinned_image
from harness.cache import cache_dir, made_once

# Java 17: what cassandra:5.0 and the Kafka 4 scripts run on, and the oldest both support.
JAVA_MAJOR = 17


@dataclass(frozen=True)
class MavenEngine:
    """An engine's jars: `artifacts` (group:artifact, at `version` unless given) and their runtime dependencies."""

    name: str
    version: str
    artifacts: tuple[str, ...]

    @property
    def path(self) -> Path:
        """The folder of jars."""
        return cache_dir() / f"{self.name}-{self.version}" / "lib"

    def classpath(self) -> str:
        return ":".join(str(jar) for jar in sorted(ensure(self).glob("*.jar")))

    def jar(self, prefix: str) -> Path:
        """The one jar whose name starts with `prefix-` and a version (`jamm`, say)."""
        [found] = [jar for jar in ensure(self).glob(f"{prefix}-*.jar") if re.match(rf"{prefix}-\d", jar.name)]
        return found

    def _pom(self) -> str:
        dependencies = ""
        for coordinates in self.artifacts:
            group, artifact, *version = coordinates.split(":")
            dependencies += (
                f"<dependency><groupId>{group}</groupId><artifactId>{artifact}</artifactId>"
                f"<version>{version[0] if version else self.version}</version></dependency>\n"
            )
        return (
            '<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>\n'
            f"<groupId>local</groupId><artifactId>{self.name}-jars</artifactId><version>0</version>"
            f"<packaging>pom</packaging>\n<dependencies>\n{dependencies}</dependencies></project>\n"
        )

    def fetch(self, target: Path) -> None:
        scratch = target.parent
        (scratch / "pom.xml").write_text(self._pom())
        subprocess.run(
            [_tool("mvn", "maven"), "--batch-mode", "--quiet", "-Dstyle.color=never",
             f"-Dmaven.repo.local={scratch / 'repository'}", "dependency:copy-dependencies",
             "-DincludeScope=runtime", f"-DoutputDirectory={target}"],
            cwd=scratch, check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip


def _image_version(service: str) -> str:
    """The version of the image compose.scale.yaml runs for `service`: its tag."""
    return pinned_image(REPO / "compose.scale.yaml", service).partition("@")[0].rpartition(":")[2]


# Kafka, the version of compose.scale.yaml's image: the broker (kafka_2.13), the admin
# tools compose's kafka-topics service runs (kafka-tools), and the binding that sends
# Kafka's SLF4J logging to its Log4j 2, as Kafka's own distribution does.
KAFKA = MavenEngine(
    "kafka",
    _image_version("kafka"),
    ("org.apache.kafka:kafka_2.13", "org.apache.kafka:kafka-tools", "org.apache.logging.log4j:log4j-slf4j-impl:2.24.3"),
)
# Cassandra, the version of compose.scale.yaml's image: the server and its dependencies.
CASSANDRA = MavenEngine("cassandra", _image_version("cassandra"), ("org.apache.cassandra:cassandra-all",))
ALL = (KAFKA, CASSANDRA)


def _tool(command: str, package: str) -> str:
    """`command`'s path; installed with apt (Debian's `package`) when missing, as root."""
    found = shutil.which(command)
    if found:
        return found
    from harness.engine import NoEngine, apt_install  # the project's apt helper

    try:
        apt_install(package)
    except NoEngine:
        message = f"{command} is missing: install {package} (Debian's package), or run as root with apt-get"
        raise SystemExit(message) from None
    return shutil.which(command) or sys.exit(f"{command} still missing after installing {package}")


def java() -> str:
    """The `java` that runs the engines: Java 17 or newer, installed with apt where missing."""
    path = _tool("java", f"openjdk-{JAVA_MAJOR}-jre-headless")
    version = subprocess.run([path, "-version"], capture_output=True, text=True).stderr
    major = re.search(r'version "(\d+)', version)
    if not major or int(major.group(1)) < JAVA_MAJOR:
        raise SystemExit(f"{path} is not Java {JAVA_MAJOR} or newer: {version.splitlines()[0]}")
    return path


def ensure(engine: MavenEngine) -> Path:
    """Return the engine's folder of jars, fetching them first if they are not there yet."""
    return made_once(engine.path, engine.fetch, f"fetching {engine.name} {engine.version} from Maven Central")


if __name__ == "__main__":
    print(java())
    for each in ALL:
        print(ensure(each))
