"""Readiness probe for the local Kafka broker (used by deploy/local/kafka.sh).

A TCP connect is not enough: the broker binds its port before it processes
requests. This speaks the Kafka wire protocol with the standard library only
(no client library needed before the project's virtualenv exists):

  1. ApiVersions v0 must answer with error_code 0;
  2. Metadata v1 must list at least one broker, i.e. the broker has registered
     with the KRaft controller and advertises a listener.

Usage: python3 probe.py HOST PORT [-v]
Exit status 0 when ready, 1 otherwise; -v prints what was seen to stderr.
"""

from __future__ import annotations

import socket
import struct
import sys

CLIENT_ID = b"sanlian-probe"
TIMEOUT_S = 5.0


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("broker closed the connection")
        buf += chunk
    return bytes(buf)


def _call(sock: socket.socket, api_key: int, api_version: int, corr: int, body: bytes) -> bytes:
    """Send one request (header v1) and return the response body after the correlation id."""
    header = struct.pack(">hhih", api_key, api_version, corr, len(CLIENT_ID)) + CLIENT_ID
    payload = header + body
    sock.sendall(struct.pack(">i", len(payload)) + payload)
    (size,) = struct.unpack(">i", _recv_exact(sock, 4))
    response = _recv_exact(sock, size)
    (got_corr,) = struct.unpack_from(">i", response, 0)
    if got_corr != corr:
        raise ValueError(f"correlation id mismatch: sent {corr}, got {got_corr}")
    return response[4:]


def _read_string(buf: bytes, pos: int) -> tuple[str | None, int]:
    (length,) = struct.unpack_from(">h", buf, pos)
    pos += 2
    if length < 0:
        return None, pos
    return buf[pos : pos + length].decode(), pos + length


def probe(host: str, port: int) -> str:
    """Return a short description of the broker, or raise if it is not ready."""
    with socket.create_connection((host, port), timeout=TIMEOUT_S) as sock:
        sock.settimeout(TIMEOUT_S)
        # ApiVersions (key 18) v0: empty body; response starts with error_code.
        resp = _call(sock, 18, 0, 1, b"")
        (error_code,) = struct.unpack_from(">h", resp, 0)
        if error_code != 0:
            raise RuntimeError(f"ApiVersions error_code {error_code}")
        # Metadata (key 3) v1 with a null topic array (= all topics).
        resp = _call(sock, 3, 1, 2, struct.pack(">i", -1))
        (n_brokers,) = struct.unpack_from(">i", resp, 0)
        pos = 4
        brokers = []
        for _ in range(n_brokers):
            (node_id,) = struct.unpack_from(">i", resp, pos)
            b_host, pos = _read_string(resp, pos + 4)
            (b_port,) = struct.unpack_from(">i", resp, pos)
            _rack, pos = _read_string(resp, pos + 4)
            brokers.append(f"{node_id}@{b_host}:{b_port}")
        if not brokers:
            raise RuntimeError("Metadata lists no brokers yet")
        return "brokers: " + ", ".join(brokers)


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    verbose = "-v" in argv[3:]
    try:
        info = probe(argv[1], int(argv[2]))
    except (OSError, ValueError, RuntimeError, struct.error) as exc:
        if verbose:
            print(f"not ready: {exc}", file=sys.stderr)
        return 1
    if verbose:
        print(info, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
