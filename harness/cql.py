"""Cassandra's native protocol (v4), just enough to probe a node, log in and run a
statement: what the tests ask of Cassandra without a driver.

The standard library only, so that it also runs where the rest of the harness does
not: the Cassandra stand-in image carries a copy for its `cqlsh` (harness/standins/),
and the Docker tests run it in a throwaway container on the stack's networks.
"""

import socket
import struct

_OPTIONS, _STARTUP, _READY, _AUTHENTICATE, _QUERY, _RESULT, _SUPPORTED, _AUTH_RESPONSE, _AUTH_SUCCESS = (
    0x05, 0x01, 0x02, 0x03, 0x07, 0x08, 0x06, 0x0F, 0x10
)  # fmt: skip
_ERROR = 0x00


class CqlError(Exception):
    """The node answered a request with an error (its message), or not at all."""


def _cql_string(value: str) -> bytes:
    data = value.encode()
    return struct.pack(">H", len(data)) + data


def _exchange(sock: socket.socket, opcode: int, body: bytes = b"") -> tuple[int, bytes]:
    """Send one request (stream 0); the response's opcode and body."""
    sock.sendall(struct.pack(">BBhBi", 0x04, 0, 0, opcode, len(body)) + body)
    header = _receive(sock, 9)
    if header[0] != 0x84:
        raise CqlError(f"not a CQL v4 response: {header!r}")
    flags, answer, length = header[1], header[4], struct.unpack(">i", header[5:9])[0]
    body = _receive(sock, length)
    body = _past_extras(body, flags)
    if answer == _ERROR:
        code, size = struct.unpack_from(">iH", body)
        raise CqlError(f"error 0x{code:04x}: {body[6 : 6 + size].decode(errors='replace')}")
    return answer, body


def _past_extras(body: bytes, flags: int) -> bytes:
    """The body after what the frame's flags say comes first: a tracing id, the server's
    warnings (an aggregate over all partitions, say), a custom payload."""
    at = 16 if flags & 0x02 else 0  # tracing id: a UUID
    if flags & 0x08:  # warnings: a [string list]
        (count,) = struct.unpack_from(">H", body, at)
        at += 2
        for _ in range(count):
            at += 2 + struct.unpack_from(">H", body, at)[0]
    if flags & 0x04:  # custom payload: a [bytes map]
        (count,) = struct.unpack_from(">H", body, at)
        at += 2
        for _ in range(count):
            at += 2 + struct.unpack_from(">H", body, at)[0]
            at += 4 + max(struct.unpack_from(">i", body, at)[0], 0)
    return body[at:]


def _receive(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise CqlError("the node closed the connection")
        data += chunk
    return data


def native_port_answers(address: str, timeout: float = 2) -> bool:
    """Cassandra's native port answers a CQL OPTIONS request with SUPPORTED: the node has
    started and takes queries."""
    host, port = address.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=timeout) as sock:
            return _exchange(sock, _OPTIONS)[0] == _SUPPORTED
    except (OSError, CqlError, struct.error):
        return False


def cql(
    address: str, statement: str, credentials: tuple[str, str] | None = None, timeout: float = 30
) -> list[list[bytes | None]]:
    """Run one CQL statement at consistency ONE, logged in with `credentials` (user,
    password) where the node asks for them; the rows it returns, each a list of raw
    column values (None for null). CqlError with the node's message if it refuses."""
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        options = struct.pack(">H", 1) + _cql_string("CQL_VERSION") + _cql_string("3.0.0")
        answer, body = _exchange(sock, _STARTUP, options)
        if answer == _AUTHENTICATE:
            authenticator = body[2 : 2 + struct.unpack_from(">H", body)[0]].decode()
            if credentials is None:
                raise CqlError(f"the node asks for credentials ({authenticator})")
            user, password = credentials
            token = b"\x00" + user.encode() + b"\x00" + password.encode()  # SASL PLAIN
            answer, body = _exchange(sock, _AUTH_RESPONSE, struct.pack(">i", len(token)) + token)
            if answer != _AUTH_SUCCESS:
                raise CqlError(f"unexpected answer 0x{answer:02x} to the credentials")
        elif answer != _READY:
            raise CqlError(f"unexpected answer 0x{answer:02x} to STARTUP")
        # The query, consistency ONE, no flags.
        kind, body = _exchange(sock, _QUERY, _long_string(statement) + struct.pack(">HB", 0x0001, 0))
    assert kind == _RESULT, kind
    return _rows(body)


def _long_string(value: str) -> bytes:
    data = value.encode()
    return struct.pack(">i", len(data)) + data


def _rows(body: bytes) -> list[list[bytes | None]]:
    """The rows of a RESULT message ([] for a result that is not rows)."""
    at = 4
    if struct.unpack_from(">i", body)[0] != 2:  # kind Rows
        return []
    flags, columns = struct.unpack_from(">ii", body, at)
    at += 8
    if flags & 0x0002:  # paging state
        at += 4 + struct.unpack_from(">i", body, at)[0]
    strings = 2 if flags & 0x0001 else 0  # the table's keyspace and name, once
    for _ in range(strings):
        at += 2 + struct.unpack_from(">H", body, at)[0]
    for _ in range(columns):
        for _ in range(0 if flags & 0x0001 else 2):
            at += 2 + struct.unpack_from(">H", body, at)[0]
        at += 2 + struct.unpack_from(">H", body, at)[0]  # the column's name
        at = _skip_type(body, at)
    (count,) = struct.unpack_from(">i", body, at)
    at += 4
    rows = []
    for _ in range(count):
        row: list[bytes | None] = []
        for _ in range(columns):
            (length,) = struct.unpack_from(">i", body, at)
            at += 4
            row.append(None if length < 0 else body[at : at + length])
            at += max(length, 0)
        rows.append(row)
    return rows


def _skip_type(body: bytes, at: int) -> int:
    """Past a column's [option] type."""
    (kind,) = struct.unpack_from(">H", body, at)
    at += 2
    if kind == 0x0000:  # custom: a class name
        return at + 2 + struct.unpack_from(">H", body, at)[0]
    if kind in (0x0020, 0x0022):  # list, set
        return _skip_type(body, at)
    if kind == 0x0021:  # map
        return _skip_type(body, _skip_type(body, at))
    if kind in (0x0030, 0x0031):
        raise CqlError("user-defined and tuple types are not read here")
    return at
