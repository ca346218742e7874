"""A real `duban serve` process for end-to-end tests and benchmarks, and the `duban` CLI."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.pg import free_port

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


def start_serve(
    config: Path,
    log_dir: Path,
    *extra: str,
    port: int | None = None,
    env: dict[str, str] | None = None,
) -> ServeProcess:
    """`duban serve` on a free port of 127.0.0.1, ready to answer when this returns."""
    port = port or free_port()
    log_dir.mkdir(parents=True, exist_ok=True)
    command = [str(DUBAN), "--config", str(config), "serve", "--port", str(port), *extra]
    with (log_dir / "serve.out").open("wb") as out, (log_dir / "serve.err").open("wb") as err:
        process = subprocess.Popen(
            command, cwd=config.parent, stdout=out, stderr=err, env={**os.environ, **(env or {})}
        )
    url = f"http://127.0.0.1:{port}"
    wait_until_serving(url, process, log_dir / "serve.err")
    return ServeProcess(process, url, log_dir)
