"""What a flood of token-less clients makes the collector hold: what sets the receiver's
limits in otel-collector-config.yaml.

The collector checks the token only once it has read and decoded a request whole, so
such a client makes it hold up to the largest request it takes (`max_recv_msg_size_mib`)
for each request in flight (`max_concurrent_streams` per connection), on every
connection: as bytes (one large attribute), or as objects (empty spans, 2 bytes each on
the wire, a whole span each once decoded: the worst case). Measured as the peak resident
memory (VmHWM) of the real collector, configured as compose configures it, flooded on
loopback, with the receiver's limits as they are and as they were before each
measurement. Each connection asks for 16 requests in flight; the server lets through
what its limit allows.

    ./benchmarks/run.sh flood [--quick]
"""

import re
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from benchmarks.side_by_side import benchmark_options, interleaved, median, spread, table
from harness import REPO, compose
from harness.flood import Flood, export_request, tiny_spans_request
from harness.native import running_natively
from harness.user_scripts import collector_token

CONFIG = REPO / "otel-collector-config.yaml"
NAMES = ("max_recv_msg_size_mib", "max_concurrent_streams")
# The limits until 2026-12-01, and until the empty-spans flood was measured (2026-12-06).
BEFORE = {"max_recv_msg_size_mib": 4, "max_concurrent_streams": 16}
BEFORE_EMPTY_SPANS = {"max_recv_msg_size_mib": 1, "max_concurrent_streams": 4}
SHAPES: dict[str, Callable[[int], bytes]] = {"one large attribute": export_request, "empty spans": tiny_spans_request}
QUICK, FULL = 1, 3  # repetitions


def limits(text: str) -> dict[str, int]:
    """The receiver's limits a config file sets."""
    return {name: int(re.search(rf"^\s+{name}: (\d+)$", text, re.M)[1]) for name in NAMES}


def peak_mib(receiver_limits: dict[str, int], shape: str, connections: int) -> float:
    """The collector's peak resident memory (MiB) through a three-round flood of
    `connections` connections of requests of `shape`, with these receiver limits."""
    with tempfile.TemporaryDirectory(prefix="benchmark-") as scratch:
        folder = Path(scratch)
        text = CONFIG.read_text()
        for name, value in receiver_limits.items():
            text = re.sub(rf"^(\s+{name}): \d+$", rf"\g<1>: {value}", text, flags=re.M)
        (folder / "config.yaml").write_text(text)
        config = compose.resolve("compose.yaml", "compose.collector.yaml", variables=collector_token(folder))
        for volume in config["services"]["otel-collector"]["volumes"]:
            if volume["source"] == str(CONFIG):
                volume["source"] = str(folder / "config.yaml")
        with running_natively(config, folder) as stack:
            assert stack.collector and stack.collector.server.process
            payload = SHAPES[shape]((receiver_limits["max_recv_msg_size_mib"] << 20) - 64)
            answered = Flood(connections, 16, payload, 3).run(stack.collector.otlp_grpc, timeout=600)
            assert set(answered) == {"UNAUTHENTICATED"}, answered
            with open(f"/proc/{stack.collector.server.process.pid}/status") as status:
                return int(next(line for line in status if line.startswith("VmHWM:")).split()[1]) / 1024


def run(repetitions: int) -> str:
    now = limits(CONFIG.read_text())
    cases = [("one large attribute", "before", BEFORE, 32), ("one large attribute", "now", now, 32)] + [
        ("empty spans", label, chosen, connections)
        for label, chosen in (("before", BEFORE_EMPTY_SPANS), ("now", now))
        for connections in (1, 2, 4)
    ]
    variants = {(*case[:2], case[3]): (lambda case=case: peak_mib(case[2], case[0], case[3])) for case in cases}
    results = interleaved(variants, repetitions)
    rows = [
        [shape, f"{chosen['max_recv_msg_size_mib']} MiB, {chosen['max_concurrent_streams']} streams ({label})",
         connections, f"{median(results[shape, label, connections]):.0f}",
         spread(results[shape, label, connections], ".0f")]
        for shape, label, chosen, connections in cases
    ]  # fmt: skip
    return "\n".join([
        "The collector's peak resident memory (MiB) through a token-less flood (16 requests asked in flight per"
        f" connection, each of the largest size taken, three rounds), median of {repetitions}; its container's"
        " limit is 512 MiB:",
        "",
        table(["requests", "receiver limits", "connections", "peak MiB", "spread"], rows),
    ])  # fmt: skip


def main(argv: Sequence[str] | None = None) -> None:
    options = benchmark_options(argv, __doc__, f"{QUICK} repetition instead of {FULL}")
    print(run(QUICK if options.quick else FULL))


if __name__ == "__main__":
    main()
