# Not a package a user imports (that is src/jaeger_smoke): it gives this folder's own
# test modules the name smoke.tests, apart from the repository's test package of the
# same short name, when one run collects both. Alone, `python3 -m unittest` here runs them.
