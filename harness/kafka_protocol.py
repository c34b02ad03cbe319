"""Kafka's protocol, just enough to ask a broker for its metadata, logged in with SCRAM
where the listener asks for it: what the tests ask of Kafka without a client library.

A Metadata request (version 4, the oldest Kafka 4 still answers), after a SASL handshake
(SaslHandshake v1, SaslAuthenticate v0) and SCRAM-SHA-512 (RFC 5802, RFC 7677) where
credentials are given; non-flexible encoding, big-endian. A listener that requires SASL
closes the connection on a request that comes before the handshake.

The standard library only, so that it also runs where the rest of the harness does
not: the Docker tests run it in a throwaway container on the stack's networks.
"""

import base64
import hashlib
import hmac
import secrets
import socket
import struct
from collections.abc import Sequence
from dataclasses import dataclass

_METADATA, _SASL_HANDSHAKE, _SASL_AUTHENTICATE = 3, 17, 36
MECHANISM = "SCRAM-SHA-512"


class SaslAuthenticationFailed(Exception):
    """The broker refused the credentials (its message)."""


def _string(value: str) -> bytes:
    data = value.encode()
    return struct.pack(">h", len(data)) + data


def _bytes(value: bytes) -> bytes:
    return struct.pack(">i", len(value)) + value


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def take(self, fmt: str) -> int:
        (value,) = struct.unpack_from(fmt, self.data, self.at)
        self.at += struct.calcsize(fmt)
        return value

    def string(self) -> str | None:
        length = self.take(">h")
        if length < 0:
            return None
        value = self.data[self.at : self.at + length].decode()
        self.at += length
        return value

    def bytes(self) -> bytes:
        length = self.take(">i")
        value = self.data[self.at : self.at + max(length, 0)]
        self.at += max(length, 0)
        return value

    def ints(self) -> list[int]:
        return [self.take(">i") for _ in range(self.take(">i"))]


def _receive(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("Kafka closed the connection")
        data += chunk
    return data


def _request(sock: socket.socket, api_key: int, version: int, body: bytes) -> _Reader:
    """One request (header v1: no tagged fields); the response after its correlation id."""
    request = struct.pack(">hhi", api_key, version, api_key) + _string("reference-tests") + body
    sock.sendall(struct.pack(">i", len(request)) + request)
    size = struct.unpack(">i", _receive(sock, 4))[0]
    answer = _Reader(_receive(sock, size))
    answer.take(">i")  # correlation id
    return answer


def _authenticate(sock: socket.socket, token: bytes) -> bytes:
    answer = _request(sock, _SASL_AUTHENTICATE, 0, _bytes(token))
    error, message = answer.take(">h"), answer.string()
    if error:
        raise SaslAuthenticationFailed(message or f"error {error}")
    return answer.bytes()


def _scram_sha_512(sock: socket.socket, user: str, password: str) -> None:
    """Log in on `sock` as `user` (SCRAM-SHA-512); SaslAuthenticationFailed if refused."""
    handshake = _request(sock, _SASL_HANDSHAKE, 1, _string(MECHANISM))
    error = handshake.take(">h")
    offered = [handshake.string() for _ in range(handshake.take(">i"))]
    if error:
        raise SaslAuthenticationFailed(f"the broker does not offer {MECHANISM} here (it offers {offered})")
    nonce = secrets.token_urlsafe(24)
    first = f"n={user},r={nonce}"
    server_first = _authenticate(sock, b"n,," + first.encode()).decode()
    fields = dict(item.split("=", 1) for item in server_first.split(","))
    if not fields["r"].startswith(nonce):
        raise SaslAuthenticationFailed("the broker's nonce does not extend ours")
    salted = hashlib.pbkdf2_hmac("sha512", password.encode(), base64.b64decode(fields["s"]), int(fields["i"]))
    client_key = hmac.digest(salted, b"Client Key", "sha512")
    final = f"c=biws,r={fields['r']}"
    message = f"{first},{server_first},{final}".encode()
    signature = hmac.digest(hashlib.sha512(client_key).digest(), message, "sha512")
    proof = bytes(a ^ b for a, b in zip(client_key, signature, strict=True))
    server_final = _authenticate(sock, f"{final},p={base64.b64encode(proof).decode()}".encode()).decode()
    expected = hmac.digest(hmac.digest(salted, b"Server Key", "sha512"), message, "sha512")
    if server_final != f"v={base64.b64encode(expected).decode()}":
        raise SaslAuthenticationFailed("the broker did not prove it knows the password")


@dataclass
class Metadata:
    brokers: list[str]  # host:port of each broker the cluster advertises
    partitions: dict[str, dict[int, int]]  # topic -> partition -> leader's node id (-1: none)


def metadata(
    bootstrap: str, topics: Sequence[str] = (), credentials: tuple[str, str] | None = None, timeout: float = 2
) -> Metadata:
    """The cluster's brokers and the partitions (with their leaders) of `topics`, asked of
    `bootstrap`, logged in first with `credentials` (user, password) where given."""
    body = struct.pack(">i", len(topics)) + b"".join(_string(topic) for topic in topics) + b"\x00"
    host, port = bootstrap.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        if credentials is not None:
            _scram_sha_512(sock, *credentials)
        answer = _request(sock, _METADATA, 4, body)
    answer.take(">i")  # throttle time
    brokers = []
    for _ in range(answer.take(">i")):
        answer.take(">i")  # node id
        broker_host, broker_port = answer.string(), answer.take(">i")
        answer.string()  # rack
        brokers.append(f"{broker_host}:{broker_port}")
    answer.string()  # cluster id
    answer.take(">i")  # controller id
    partitions: dict[str, dict[int, int]] = {}
    for _ in range(answer.take(">i")):
        error, name = answer.take(">h"), answer.string()
        answer.take(">b")  # is internal
        found = {}
        for _ in range(answer.take(">i")):
            partition_error, index, leader = answer.take(">h"), answer.take(">i"), answer.take(">i")
            answer.ints()  # replicas
            answer.ints()  # in-sync replicas
            found[index] = leader if partition_error == 0 else -1
        if error == 0 and name:
            partitions[name] = found
    return Metadata(brokers, partitions)
