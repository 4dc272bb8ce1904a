"""Several uvicorn workers, each with its own listening socket (``SO_REUSEPORT``): ``artois serve --workers N``.

With uvicorn's own ``--workers``, the workers share one listening socket and whichever is awake first accepts
the pending connections: under a burst (a load test opening 32 connections, a page opening its tiles) one worker
often got most of them — 26 against 6, even 32 against 0, measured on the 171,000-building build — and those
connections waited behind each other while the other worker idled (issue 12: roof lookup p95). Here each worker
binds its own socket to the same address with ``SO_REUSEPORT`` and the kernel spreads new connections over them
by a hash of their addresses. uvicorn's supervisor (:class:`uvicorn.supervisors.Multiprocess`) still starts,
watches and restarts the workers: it is handed a placeholder that each worker unpickles as its own new socket.

This module imports only the standard library and uvicorn: the supervisor process keeps no application in memory.
"""

from __future__ import annotations

import socket
import sys
from typing import Any

#: Pending connections per worker socket (uvicorn's default backlog).
BACKLOG = 2048


def reuse_port_supported() -> bool:
    return hasattr(socket, "SO_REUSEPORT") and sys.platform.startswith("linux")


def reuse_port_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to (host, port) with ``SO_REUSEPORT`` (called in each worker while it unpickles
    :class:`ReusePortSocket`)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(BACKLOG)
    sock.set_inheritable(True)
    return sock


class ReusePortSocket:
    """What the supervisor hands each worker in place of a socket: unpickled there as a new one of its own."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port

    def __reduce__(self) -> tuple[Any, tuple[str, int]]:
        return reuse_port_socket, (self.host, self.port)


def check_port_free(host: str, port: int) -> None:
    """OSError when (host, port) is already taken (a plain bind: ``SO_REUSEPORT`` alone would share it silently
    with another server started the same way)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))


def main(argv: list[str]) -> None:
    """``python -m api.workers APP HOST PORT WORKERS``: serve the app factory ``APP`` (import string)."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    app, host, port, workers = argv[0], argv[1], int(argv[2]), int(argv[3])
    config = uvicorn.Config(app, factory=True, host=host, port=port, workers=workers, log_level="warning",
                            access_log=False, backlog=BACKLOG)
    try:
        check_port_free(host, port)
    except OSError as exc:
        sys.exit(f"artois serve: http://{host}:{port}: {exc.strerror or exc}")
    Multiprocess(config, sockets=[ReusePortSocket(host, port)]).run()  # type: ignore[list-item]


if __name__ == "__main__":
    main(sys.argv[1:])
