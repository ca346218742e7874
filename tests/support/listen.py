"""`duban serve --port 0`: the kernel picks the port when the server binds it; we read it back.

No port is ever taken by binding and releasing it: the server's own listening socket is found
through /proc (its file descriptors' socket inodes, matched with the kernel's TCP table).
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import httpx

from tests.support.server import DUBAN, ServeProcess

__all__ = ["listening_port", "rss_bytes", "spawn_serve", "start_serve_any_port", "wait_for_port"]

_LISTEN = "0A"


def _socket_inodes(pid: int) -> set[str]:
    inodes: set[str] = set()
    fd_dir = Path(f"/proc/{pid}/fd")
    for fd in fd_dir.iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    return inodes


def listening_port(pid: int) -> int | None:
    """The TCP port process `pid` listens on (IPv4), or None while it listens on none."""
    try:
        inodes = _socket_inodes(pid)
    except OSError:
        return None
    for line in Path(f"/proc/{pid}/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] == _LISTEN and fields[9] in inodes:
            return int(fields[1].rsplit(":", 1)[1], 16)
    return None


def rss_bytes(pid: int) -> int:
    """The resident set size of process `pid` (VmRSS of /proc/PID/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def spawn_serve(
    config: Path, log_dir: Path, *extra: str, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """`duban serve --port 0` started, not waited for (see `wait_for_port`)."""
    log_dir.mkdir(parents=True, exist_ok=True)
    command = [str(DUBAN), "--config", str(config), "serve", "--port", "0", *extra]
    with (log_dir / "serve.out").open("wb") as out, (log_dir / "serve.err").open("wb") as err:
        return subprocess.Popen(
            command, cwd=config.parent, stdout=out, stderr=err, env={**os.environ, **(env or {})}
        )


def wait_for_port(process: subprocess.Popen[bytes], log_dir: Path, deadline_s: float = 90) -> str:
    """The server's base URL once it answers /healthz; an error with its stderr otherwise."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            err = (log_dir / "serve.err").read_text(errors="replace")
            raise RuntimeError(f"server exited {process.returncode}:\n{err}")
        port = listening_port(process.pid)
        if port:
            url = f"http://127.0.0.1:{port}"
            try:
                if httpx.get(f"{url}/healthz", timeout=5).status_code == 200:
                    return url
            except httpx.TransportError:
                pass
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"server did not answer within {deadline_s} s")


def start_serve_any_port(
    config: Path, log_dir: Path, *extra: str, env: dict[str, str] | None = None
) -> ServeProcess:
    """`duban serve` on a port the kernel chose, ready to answer when this returns."""
    process = spawn_serve(config, log_dir, *extra, env=env)
    return ServeProcess(process, wait_for_port(process, log_dir), log_dir)
