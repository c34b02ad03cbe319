"""The front service: a Flask app that calls the back service (items.py) with requests,
traced by opentelemetry-instrument. Run as `opentelemetry-instrument flask --app
harness.web_services.front run`, with ITEMS_URL the back service's base URL.

Each route passes its request on to the same route of the back service, and answers
with the back service's answer and the id of the request's trace (`trace_id`), so that a
test can ask Jaeger for that trace.
"""

import os

import requests
from flask import Flask, request
from opentelemetry import trace
from opentelemetry.instrumentation.wsgi import OpenTelemetryMiddleware

app = Flask(__name__)
# opentelemetry-instrumentation-flask, which opentelemetry-instrument would apply by
# itself, has no release for the pinned opentelemetry-instrumentation (requirements-dev.in);
# this is the WSGI middleware it wraps Flask in, applied by hand.
app.wsgi_app = OpenTelemetryMiddleware(app.wsgi_app)
ITEMS_URL = os.environ["ITEMS_URL"]


def _passed_on(path: str) -> dict:
    answer = requests.get(f"{ITEMS_URL}{path}", params=request.args, timeout=60)
    answer.raise_for_status()
    trace_id = format(trace.get_current_span().get_span_context().trace_id, "032x")
    return {"answer": answer.text, "trace_id": trace_id}


@app.get("/items/<int:item_id>")
def item(item_id: int) -> dict:
    return _passed_on(f"/items/{item_id}")


@app.get("/stream")
def stream() -> dict:
    return _passed_on("/stream")


@app.get("/slow")
def slow() -> dict:
    return _passed_on("/slow")
