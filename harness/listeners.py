"""Where a collector-style configuration (Jaeger v2's roles, the collector's) listens:
the tests compare it with what the stack promises to expose."""


def listening(node: object) -> list[str]:
    """Every `endpoint:` of the configuration and its Prometheus reader as `host:metrics`,
    with `${env:NAME:-default}` at its default (what runs when compose does not set it)."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "endpoint" and isinstance(value, str):
                found.append(value.split(":-", 1)[1].rstrip("}") if value.startswith("${env:") else value)
            elif key == "prometheus":
                found.append(f"{value['host']}:metrics")
            else:
                found.extend(listening(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(listening(item))
    return found
