# Not a package a user imports (that is src/jaeger_smoke): it makes this folder's tests
# importable as smoke.tests when the repository's pytest collects them beside its own
# tests/ package. Alone, `python3 -m unittest` in this folder runs them as tests.
