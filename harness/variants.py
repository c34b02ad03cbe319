"""The combinations of compose files the project supports, listed once. Tests that must
cover every combination a user may run take them from here; tests/test_variants.py
checks that the workflow's matrix, the README, the docs and the compose files' headers
name only these, and that each is shown to users somewhere."""

from pathlib import Path

from harness import REPO

Files = tuple[str, ...]

V2 = "compose.jaeger-v2.yaml"
SCALE = "compose.scale.yaml"

# On one machine, with Jaeger all-in-one 1.55: straight to Jaeger or through the
# collector, plaintext, TLS or mTLS, the app set up by itself or by the distro; and
# Jaeger's receiver published for an app run on the host.
ON_1_55: tuple[Files, ...] = (
    ("compose.yaml",),
    ("compose.yaml", "compose.host-otlp.yaml"),
    ("compose.yaml", "compose.jaeger-tls.yaml"),
    ("compose.yaml", "compose.jaeger-mtls.yaml"),
    ("compose.yaml", "compose.jaeger-tls.yaml", "compose.jaeger-mtls.yaml"),
    ("compose.yaml", "compose.distro.yaml"),
    ("compose.yaml", "compose.collector.yaml"),
    ("compose.yaml", "compose.collector.yaml", "compose.collector-tls.yaml"),
    ("compose.yaml", "compose.collector.yaml", "compose.collector-mtls.yaml"),
    ("compose.yaml", "compose.collector.yaml", "compose.collector-tls.yaml", "compose.collector-mtls.yaml"),
    ("compose.yaml", "compose.collector.yaml", "compose.distro.yaml"),
)
# Each of them also on Jaeger v2: its overlay right after compose.yaml, as it asks.
ON_V2: tuple[Files, ...] = tuple((files[0], V2, *files[1:]) for files in ON_1_55)
# Past one machine: the scale variant on the collector, plaintext, TLS or mTLS. It runs
# Jaeger v2 in roles of its own.
SCALED: tuple[Files, ...] = (
    ("compose.yaml", "compose.collector.yaml", SCALE),
    ("compose.yaml", "compose.collector.yaml", "compose.collector-tls.yaml", SCALE),
    ("compose.yaml", "compose.collector.yaml", "compose.collector-mtls.yaml", SCALE),
)
COMBINATIONS: tuple[Files, ...] = ON_1_55 + ON_V2 + SCALED


def overlays() -> list[Path]:
    """Every compose file beside compose.yaml."""
    return sorted(path for path in REPO.glob("compose.*.yaml"))


def label(files: Files) -> str:
    """A combination's short name: its overlays, or "direct" for compose.yaml alone."""
    overlays = [name.removeprefix("compose.").removesuffix(".yaml") for name in files[1:]]
    return "+".join(overlays) or "direct"


def on_one_machine() -> dict[str, Files]:
    """Every combination but the scale variant's, by label."""
    return {label(files): files for files in ON_1_55 + ON_V2}


def past_one_machine() -> dict[str, Files]:
    """The combinations of the scale variant, by label."""
    return {label(files): files for files in SCALED}
