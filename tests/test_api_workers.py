"""artois serve --workers N: one SO_REUSEPORT listening socket per worker (api/workers.py)."""

from __future__ import annotations

import os
import pickle
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from api_fixtures import api_build  # noqa: F401

from api.workers import ReusePortSocket, check_port_free, reuse_port_supported

pytestmark = pytest.mark.skipif(not reuse_port_supported(), reason="SO_REUSEPORT is Linux-only here")
REPO = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_each_worker_unpickles_its_own_listening_socket() -> None:
    port = _free_port()
    a = pickle.loads(pickle.dumps(ReusePortSocket("127.0.0.1", port)))
    b = pickle.loads(pickle.dumps(ReusePortSocket("127.0.0.1", port)))
    try:
        assert isinstance(a, socket.socket) and a.fileno() != b.fileno()
        assert a.getsockname() == b.getsockname() == ("127.0.0.1", port)
        assert a.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 1
        with pytest.raises(OSError):  # a server started another way cannot take the port silently
            check_port_free("127.0.0.1", port)
    finally:
        a.close()
        b.close()
    check_port_free("127.0.0.1", port)  # free again once closed


def test_two_workers_each_listen_and_answer(api_build: Path) -> None:  # noqa: F811
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO), "ARTOIS_DATA_DIR": str(api_build)}
    proc = subprocess.Popen([sys.executable, "-m", "api.workers", "api.serve:app_from_env", "127.0.0.1", str(port),
                             "2"], cwd=REPO, env=env)
    try:
        deadline, answered = time.monotonic() + 120, False
        while time.monotonic() < deadline and not answered:
            assert proc.poll() is None, "the supervisor exited"
            try:
                answered = httpx.get(f"http://127.0.0.1:{port}/ogc", timeout=5).status_code == 200
            except httpx.HTTPError:
                time.sleep(0.3)
        assert answered
        table = [r.split() for r in Path("/proc/net/tcp").read_text().splitlines()[1:]]
        listening = {r[9] for r in table if r[3] == "0A" and int(r[1].split(":")[1], 16) == port}  # 0A: LISTEN
        held = []  # the listening sockets of each child holding one (the workers; not multiprocessing's tracker)
        for child in Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split():
            links = [os.readlink(f"/proc/{child}/fd/{fd}") for fd in os.listdir(f"/proc/{child}/fd")]
            sockets = {link[8:-1] for link in links if link.startswith("socket:")} & listening
            if sockets:
                held.append(sockets)
        # two listening sockets (inodes), one per worker; uvicorn's --workers shares one between them
        assert len(listening) == 2 and len(held) == 2 and all(len(h) == 1 for h in held) and held[0] != held[1]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
