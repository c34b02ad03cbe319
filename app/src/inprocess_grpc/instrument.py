"""`python -m inprocess_grpc.instrument COMMAND...`: `opentelemetry-instrument COMMAND...`,
after the same look at the OTEL_* values the explicit set-up takes (`env_checks`).

Under `opentelemetry-instrument` the distro builds the exporter before the app's own
code runs, and the SDK's header parser logs a malformed OTEL_EXPORTER_OTLP_HEADERS entry
whole, token and all. Checked first, such a value stops the run with one line that never
repeats it (exit 4), as on the explicit path; a right one runs the command unchanged.
compose.distro.yaml starts the app this way.
"""

import os
import shutil
import sys
from collections.abc import Sequence

from inprocess_grpc import cli, outcome
from inprocess_grpc.env_checks import ConfigError, check


def main(argv: Sequence[str] | None = None) -> int:
    """Check the environment, then become `opentelemetry-instrument COMMAND...`."""
    command = list(sys.argv[1:] if argv is None else argv)
    if not command:
        print(f"{cli.PROG}: error: usage: python -m inprocess_grpc.instrument COMMAND...", file=sys.stderr)
        return cli.EXIT_USAGE
    try:
        check(os.environ)
    except ConfigError as error:
        return cli.report(outcome.for_config(error))
    # The distro's launcher of this Python's environment, as the image's PATH has it.
    launcher = shutil.which("opentelemetry-instrument", path=os.path.dirname(sys.executable))
    os.execv(launcher or "opentelemetry-instrument", ["opentelemetry-instrument", *command])


if __name__ == "__main__":
    sys.exit(main())
