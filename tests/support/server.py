"""A real `duban serve` process for end-to-end tests and benchmarks, and the `duban` CLI."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

DUBAN = Path(sys.executable).with_name("duban")
REPO = Path(__file__).resolve().parents[2]


def duban(config: Path, *args: str, cwd: Path | None = None) -> str:
    """Run one `duban` command; its stdout, or an error carrying its stderr."""
    done = subprocess.run(
        [str(DUBAN), "--config", str(config), *args],
        cwd=cwd or config.parent,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"duban {' '.join(args)} → {done.returncode}\n{done.stderr}")
    return done.stdout


@dataclass
class ServeProcess:
    process: subprocess.Popen[bytes]
    url: str
    log_dir: Path

    def output(self) -> str:
        out = (self.log_dir / "serve.out").read_text(encoding="utf-8", errors="replace")
        err = (self.log_dir / "serve.err").read_text(encoding="utf-8", errors="replace")
        return out + err

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
            raise


def wait_until_serving(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"server did not answer within 60 s:\n{log.read_text()}")


_LISTENING = re.compile(r"督办服务: http://127\.0\.0\.1:(\d+)/")


def bound_port(process: subprocess.Popen[bytes], out: Path, err: Path) -> int:
    """The port `duban serve --port 0` got from the kernel, as its first line says."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = _LISTENING.search(out.read_text(encoding="utf-8", errors="replace"))
        if found:
            return int(found[1])
        if process.poll() is not None:
            raise RuntimeError(f"server exited {process.returncode}:\n{err.read_text()}")
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"server did not say where it listens within 60 s:\n{err.read_text()}")


def spawn_serve(
    config: Path,
    log_dir: Path,
    *extra: str,
    port: int | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """`duban serve` started on 127.0.0.1 and not waited for (see `serving_url`). Without
    `port` it binds port 0: the kernel picks a free port when it binds, nothing is reserved and
    released beforehand."""
    log_dir.mkdir(parents=True, exist_ok=True)
    command = [str(DUBAN), "--config", str(config), "serve", "--port", str(port or 0), *extra]
    with (log_dir / "serve.out").open("wb") as out, (log_dir / "serve.err").open("wb") as err:
        return subprocess.Popen(
            command, cwd=config.parent, stdout=out, stderr=err, env={**os.environ, **(env or {})}
        )


def serving_url(process: subprocess.Popen[bytes], log_dir: Path, port: int | None = None) -> str:
    """The base URL of a spawned server once it answers (its port read from the line it
    prints once it listens, unless given); an error with its stderr if it never does."""
    out, err = log_dir / "serve.out", log_dir / "serve.err"
    url = f"http://127.0.0.1:{port or bound_port(process, out, err)}"
    wait_until_serving(url, process, err)
    return url


def start_serve(
    config: Path,
    log_dir: Path,
    *extra: str,
    port: int | None = None,
    env: dict[str, str] | None = None,
) -> ServeProcess:
    """`duban serve` on 127.0.0.1 (port 0 unless given), ready to answer when this returns."""
    process = spawn_serve(config, log_dir, *extra, port=port, env=env)
    return ServeProcess(process, serving_url(process, log_dir, port), log_dir)


def rss_bytes(pid: int) -> int:
    """The resident set size of process `pid` (VmRSS of /proc/PID/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0
