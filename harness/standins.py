"""Stand-in images for the Docker tests, on machines that cannot pull the pinned ones.

The test machines reach package registries but no container registry. So that the
stack still runs under a real Docker Engine there, each image compose names is built
here from the same source as upstream's, and shaped like it: the same binary (the one
the native tests run, built static), at upstream's path, run as upstream's user.

- jaegertracing/all-in-one and jaegertracing/jaeger (v2): upstream's own Dockerfiles (they
  ship in Jaeger's module), on a BusyBox root standing in for their Alpine base: `sh`
  and `wget` for the healthcheck, the CA bundle, `/tmp` writable by all.
- otel/opentelemetry-collector-contrib: the builder manifest's collector, at the contrib
  image's paths, on an empty root (no shell), as upstream's.
- python (the app's base, in a copy of the Dockerfile with its FROM line changed): Debian
  bookworm made by debootstrap from this machine's own apt sources, with `python`,
  `venv` and this machine's CA bundle: the network here intercepts TLS, and pip inside
  the build fails without it.
- apache/kafka and cassandra: upstream's layout and users on a Debian Java base made
  the same way (with Python for Cassandra's, as upstream's has for cqlsh), with the
  engines' own jars from Maven Central (harness/java_engines.py, those the native tests
  run). Their launch scripts and Cassandra's `cqlsh` are the stand-ins' own, small ones
  (standins/kafka-bin/, standins/cassandra-bin/; the cqlsh on the tests' CQL client,
  harness/cql.py, copied into the image): the release archives upstream's come from
  cannot be fetched here. What the stack's compose file asks of them (paths, options,
  environment variables) they take as upstream's do; what else upstream's do they do not.

Each is tagged with a hash of what it is built from, so it is built once per source.
"""

import fcntl
import functools
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path

from harness import binaries, cassandra, cql, engine, java_engines, kafka
from harness.cache import cache_dir

HERE = Path(__file__).resolve().parent / "standins"
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
PREFIX = "otel-python-jaeger-standin"
# The Debian release of the python image the Dockerfile pins (…-slim-bookworm).
DEBIAN_SUITE = "bookworm"
PYTHON_PACKAGES = ("python3", "python3-venv", "python-is-python3", "ca-certificates")
# The engines' Java, and `passwd` for the images' users.
JAVA_PACKAGES = (f"openjdk-{java_engines.JAVA_MAJOR}-jre-headless", "ca-certificates", "passwd")
# Cassandra's image has Python besides, for cqlsh (the stand-in's is Python too).
CQLSH_PACKAGES = ("python3",)


def docker(*args: str, stdin: bytes | None = None, **env: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["docker", *args], input=stdin, capture_output=True, env={**os.environ, **env})


def exists(image: str) -> bool:
    return docker("image", "inspect", image).returncode == 0


def _key(*parts: bytes | str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode() if isinstance(part, str) else part)
        digest.update(b"\0")
    return digest.hexdigest()[:12]


def _checked(completed: subprocess.CompletedProcess[bytes], what: str) -> None:
    if completed.returncode != 0:
        raise RuntimeError(f"{what} failed:\n{completed.stderr.decode(errors='replace')[-3000:]}")


def _once(tag: str, build: Callable[[str], None]) -> str:
    if exists(tag):
        return tag
    lock = cache_dir() / "stand-ins.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # another test worker may be building it: wait
        if not exists(tag):
            print(f"building stand-in image {tag}, once", file=sys.stderr, flush=True)
            build(tag)
    return tag


def _import(tag: str, root: bytes, *changes: str) -> None:
    """`docker import` of a root filesystem given as a tar archive."""
    options = [arg for change in changes for arg in ("--change", change)]
    _checked(docker("import", *options, "-", tag, stdin=root), f"docker import {tag}")


def _legacy_build(tag: str, context: Path, dockerfile: Path, *options: str) -> None:
    # The classic builder: `docker build` through BuildKit needs buildx, which the
    # engine's Debian package lacks. Compose builds the app through BuildKit itself.
    completed = docker(
        "build", "--quiet", "-t", tag, "-f", str(dockerfile), *options, str(context), DOCKER_BUILDKIT="0"
    )
    _checked(completed, f"docker build {tag}")


def _add(tar: tarfile.TarFile, name: str, *, data: bytes | None = None, mode: int = 0o755, link: str = "") -> None:
    info = tarfile.TarInfo(name)
    info.mode = mode
    if link:
        info.type, info.linkname = tarfile.SYMTYPE, link
    elif data is None:
        info.type = tarfile.DIRTYPE
    else:
        info.size = len(data)
    tar.addfile(info, io.BytesIO(data) if data is not None else None)


def _busybox() -> bytes:
    """Debian's static BusyBox, taken from its package without installing it."""
    with tempfile.TemporaryDirectory() as scratch:
        engine.apt("download", "-o", "APT::Sandbox::User=root", "busybox-static", cwd=Path(scratch))
        [package] = Path(scratch).glob("*.deb")
        subprocess.run(["dpkg-deb", "-x", str(package), scratch], check=True)
        return (Path(scratch) / "bin" / "busybox").read_bytes()


def busybox_root() -> str:
    """A minimal root like the Alpine base of Jaeger's images: shell, wget, CA bundle, /tmp."""
    tag = f"{PREFIX}/busybox-root:{_key(CA_BUNDLE.read_bytes(), 'busybox-static')}"

    def build(tag: str) -> None:
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            for folder in ("bin", "etc", "etc/ssl", "etc/ssl/certs"):
                _add(tar, folder)
            _add(tar, "tmp", mode=0o1777)
            _add(tar, "bin/busybox", data=_busybox())
            for applet in ("sh", "wget", "ls", "cat", "id"):
                _add(tar, f"bin/{applet}", link="busybox")
            _add(tar, "etc/ssl/certs/ca-certificates.crt", data=CA_BUNDLE.read_bytes(), mode=0o644)
            _add(tar, "etc/passwd", data=b"root:x:0:0:root:/root:/bin/sh\n", mode=0o644)
        # After the archive is closed: only then does it end as a tar must.
        _import(tag, buffer.getvalue(), "ENV PATH=/bin", 'CMD ["/bin/sh"]')

    return _once(tag, build)


def _jaeger(binary: binaries.GoModuleBinary, command: str, image: str, executable: str, strategies: str) -> str:
    """A Jaeger image built by upstream's own Dockerfile (the module's cmd/`command`),
    from the tests' binary, on the BusyBox root."""
    built = binaries.ensure(binary)
    source = binaries.module_dir(binary) / "cmd" / command
    base = busybox_root()
    tag = f"{PREFIX}/{image}:{binary.version}-{_key(built.read_bytes(), base)}"

    def build(tag: str) -> None:
        with tempfile.TemporaryDirectory() as scratch:
            context = Path(scratch)
            shutil.copy(built, context / executable)
            shutil.copy(source / strategies, context)
            _legacy_build(tag, context, source / "Dockerfile", "--target", "release",
                          "--build-arg", f"base_image={base}", "--build-arg", f"debug_image={base}",
                          "--build-arg", "TARGETARCH=amd64")  # fmt: skip

    return _once(tag, build)


def jaeger_all_in_one() -> str:
    """jaegertracing/all-in-one 1.55."""
    executable, strategies = "all-in-one-linux-amd64", "sampling_strategies.json"
    return _jaeger(binaries.JAEGER, "all-in-one", "jaeger-all-in-one", executable, strategies)


def jaeger_v2() -> str:
    """jaegertracing/jaeger, v2."""
    return _jaeger(binaries.JAEGER_V2, "jaeger", "jaeger", "jaeger-linux-amd64", "sampling-strategies.json")


def collector_contrib() -> str:
    """otel/opentelemetry-collector-contrib's layout, with the builder manifest's collector."""
    binary = binaries.ensure(binaries.COLLECTOR)
    dockerfile = HERE / "otelcol-contrib.Dockerfile"
    tag = f"{PREFIX}/otelcol-contrib:{binaries.COLLECTOR.version}-{_key(binary.read_bytes(), dockerfile.read_bytes())}"

    def build(tag: str) -> None:
        with tempfile.TemporaryDirectory() as scratch:
            context = Path(scratch)
            shutil.copy(binary, context / "otelcol-contrib")
            shutil.copy(CA_BUNDLE, context / "ca-certificates.crt")
            shutil.copy(HERE / "otelcol-contrib.yaml", context / "config.yaml")
            _legacy_build(tag, context, dockerfile)

    return _once(tag, build)


def _debian_mirror() -> str:
    """The Debian mirror this machine's apt uses (never written into the repository)."""
    sources = Path("/etc/apt/sources.list.d")
    for path in [*sorted(sources.glob("*.sources")), Path("/etc/apt/sources.list"), *sorted(sources.glob("*.list"))]:
        if not path.is_file():
            continue
        text = path.read_text()
        if path.suffix == ".sources":  # deb822 stanzas
            for stanza in text.split("\n\n"):
                fields = dict(line.split(":", 1) for line in stanza.splitlines() if ":" in line and line[0] != "#")
                suites = fields.get("Suites", "").split()
                if DEBIAN_SUITE in suites and "main" in fields.get("Components", "").split():
                    return fields["URIs"].split()[0]
        for line in text.splitlines():
            words = line.split()
            if words[:1] == ["deb"] and DEBIAN_SUITE in words and "main" in words:
                return next(word for word in words[1:] if "://" in word)
    raise RuntimeError(f"no apt source for Debian {DEBIAN_SUITE} main on this machine")


def _debian(name: str, packages: tuple[str, ...], *changes: str) -> str:
    """Debian made by debootstrap from this machine's apt sources, with `packages` and this
    machine's CA bundle; `changes` as `docker import --change` takes them."""
    tag = f"{PREFIX}/{name}:{DEBIAN_SUITE}-{_key(CA_BUNDLE.read_bytes(), *packages)}"

    def build(tag: str) -> None:
        if not shutil.which("debootstrap"):
            engine.apt_install("debootstrap")
        with tempfile.TemporaryDirectory() as scratch:
            root = Path(scratch) / "root"
            subprocess.run(
                ["debootstrap", "--variant=minbase", f"--include={','.join(packages)}",
                 DEBIAN_SUITE, str(root), _debian_mirror()],
                check=True, capture_output=True,
            )  # fmt: skip
            shutil.copy(CA_BUNDLE, root / "etc/ssl/certs/ca-certificates.crt")
            for cache in ("var/lib/apt/lists", "var/cache/apt/archives"):
                shutil.rmtree(root / cache, ignore_errors=True)
            archive = subprocess.run(
                ["tar", "-C", str(root), "--numeric-owner", "-c", "."], capture_output=True, check=True
            )
            _import(tag, archive.stdout, *changes)

    return _once(tag, build)


def python_base() -> str:
    """Debian bookworm with Python and this machine's CA bundle, for PYTHON_IMAGE."""
    # pip in a venv reads certifi's bundle unless told otherwise.
    return _debian("python", PYTHON_PACKAGES, f"ENV SSL_CERT_FILE={CA_BUNDLE} PIP_CERT={CA_BUNDLE}", 'CMD ["python3"]')


def java_base(*packages: str) -> str:
    """Debian bookworm with the Java the engines run on (and `packages`), the base of the
    Kafka and Cassandra stand-ins."""
    return _debian("java", (*JAVA_PACKAGES, *packages), 'CMD ["bash"]')


def _java_engine(
    image: str,
    jars: java_engines.MavenEngine,
    folder: str,
    options: str,
    jvm_options: tuple[str, ...],
    base: str,
    files: dict[str, Path] | None = None,
) -> str:
    """A Java engine's stand-in: `image`.Dockerfile on `base`, with the engine's jars in
    `folder`, the stand-in's scripts (`image`-bin/) in bin/, `jvm_options` (the native
    tests' own) in the argument file `options`, and `files` (path in the build context:
    file) besides."""
    dockerfile, scripts = HERE / f"{image}.Dockerfile", HERE / f"{image}-bin"
    files = files or {}
    names = sorted(jar.name for jar in java_engines.ensure(jars).glob("*.jar"))
    sources = [dockerfile.read_bytes(), *(path.read_bytes() for path in sorted(scripts.iterdir())), *jvm_options,
               *(part for name, path in sorted(files.items()) for part in (name, path.read_bytes()))]  # fmt: skip
    tag = f"{PREFIX}/{image}:{jars.version}-{_key(base, *names, *sources)}"

    def build(tag: str) -> None:
        with tempfile.TemporaryDirectory() as scratch:
            context = Path(scratch)
            shutil.copytree(java_engines.ensure(jars), context / folder)
            shutil.copytree(scripts, context / "bin")
            (context / options).write_text("".join(f"{option}\n" for option in jvm_options))
            for name, path in files.items():
                (context / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(path, context / name)
            _legacy_build(tag, context, dockerfile, "--build-arg", f"base={base}")

    return _once(tag, build)


def kafka_image() -> str:
    """apache/kafka."""
    return _java_engine("kafka", java_engines.KAFKA, "libs", "jvm-performance.options", kafka.JVM_OPTIONS, java_base())


def cassandra_image() -> str:
    """cassandra, with the stand-in's cqlsh on the tests' CQL client (pylib/harness/cql.py)."""
    return _java_engine("cassandra", java_engines.CASSANDRA, "lib", "jvm17-server.options", cassandra.JVM17_OPTIONS,
                        java_base(*CQLSH_PACKAGES), {"pylib/harness/cql.py": Path(cql.__file__)})  # fmt: skip


# The repository part of each image compose names, and how to stand it in.
BY_REPOSITORY: dict[str, Callable[[], str]] = {
    "jaegertracing/all-in-one": jaeger_all_in_one,
    "jaegertracing/jaeger": jaeger_v2,
    "otel/opentelemetry-collector-contrib": collector_contrib,
    "python": python_base,
    "apache/kafka": kafka_image,
    "cassandra": cassandra_image,
}


def repository(image: str) -> str:
    """`name` of `name:tag@sha256:…`."""
    name = image.split("@")[0]
    return name.rsplit(":", 1)[0] if ":" in name.split("/")[-1] else name


@functools.cache
def available(image: str) -> bool:
    """The image is here, or can be pulled."""
    return exists(image) or docker("pull", "--quiet", image).returncode == 0


# What ran for each pinned image in this session: itself, or its stand-in.
USED: dict[str, str] = {}


def _runnable(image: str) -> str | None:
    """None where the pinned image itself can run; else its stand-in."""
    if available(image):
        USED[image] = image
        return None
    USED[image] = BY_REPOSITORY[repository(image)]()
    return USED[image]


def _with_stand_ins(dockerfile: str) -> str | None:
    """The Dockerfile with each base image it names (`FROM image`, not an earlier stage)
    replaced by its stand-in where the image cannot be had here; None where none is."""
    stages: set[str] = set()
    replaced = False

    def stand_in(match: re.Match) -> str:
        nonlocal replaced
        image, stage = match["image"], match["stage"]
        tag = None if image in stages else _runnable(image)
        if stage:
            stages.add(stage)
        replaced |= tag is not None
        return match[0].replace(image, tag) if tag else match[0]

    text = re.sub(r"^FROM (?P<image>\S+)(?: AS (?P<stage>\S+))?$", stand_in, dockerfile, flags=re.M | re.I)
    return text if replaced else None


def override(config: dict, folder: Path) -> dict:
    """A compose override that runs a stand-in for each image of `config` (resolved by
    `docker compose config`) that cannot be had here; empty where all can. A build's
    Dockerfile is copied into `folder` with its base images replaced."""
    services: dict[str, dict] = {}
    for name, service in config["services"].items():
        if "build" in service:
            build = service["build"]
            dockerfile = Path(build["context"]) / build.get("dockerfile", "Dockerfile")
            if (text := _with_stand_ins(dockerfile.read_text())) is not None:
                copy = folder / f"{name}.stand-in.Dockerfile"
                copy.write_text(text)
                services[name] = {"build": {"dockerfile": str(copy)}}
        elif tag := _runnable(service["image"]):
            services[name] = {"image": tag}
    return {"services": services} if services else {}


if __name__ == "__main__":
    print(json.dumps({name: build() for name, build in BY_REPOSITORY.items()}, indent=2))
