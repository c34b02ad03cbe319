"""jaeger-smoke's own tests: the expectation parser, the matcher, recording and the CLI,
on OTLP JSON shaped as Jaeger 1.55 and v2 answer. Standard library only, no Jaeger:

    cd smoke && python3 -m unittest

The package is found in ../src when it is not installed, so no PYTHONPATH is needed.
Its checks against the real Jaeger 1.55 and v2 live in the repository that holds this folder.
"""

import importlib.util
import sys
from pathlib import Path

if importlib.util.find_spec("jaeger_smoke") is None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
