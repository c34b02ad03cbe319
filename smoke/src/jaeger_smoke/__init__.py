"""jaeger-smoke: checks that a trace in Jaeger has the shape a JSON file declares.

For CI: after a service has sent its traces, `jaeger-smoke --expect expected-trace.json`
waits for the newest fitting trace in Jaeger's stable api_v3 and exits 0 when it is
right, 1 with a diff when it is not (docs/smoke-test.md). Standard library only.
"""

__version__ = "0.1.0"
