"""A real PostgreSQL server for the tests: Debian's initdb/pg_ctl, a throw-away cluster on loopback.

PostgreSQL refuses to run as root, so when the tests run as root (CI does) the cluster is owned
by and started as the `postgres` system user that Debian's package creates.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg


def find_pg_bin() -> Path | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), reverse=True)
    if candidates:
        return Path(candidates[0]).parent
    found = shutil.which("pg_ctl")
    return Path(found).parent if found else None


def free_port() -> int:
    """A port that was free a moment ago. Only for servers that cannot bind port 0 and say
    which port they got (PostgreSQL): whoever uses it must retry with another if it was taken
    meanwhile (see `PgServer.start`). `duban serve` binds port 0 itself (tests.support.server)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PgServer:
    bin_dir: Path
    data_dir: Path
    port: int
    user: str = "duban"
    password: str = "duban-test-pw"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bin_dir / args[0]), *args[1:]]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=120)

    def start(self) -> None:
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.data_dir.parent, pw.pw_uid, pw.pw_gid)
        pwfile = self.data_dir.parent / "pw"
        pwfile.write_text(self.password)
        if os.geteuid() == 0:
            os.chown(pwfile, pwd.getpwnam("postgres").pw_uid, -1)
        self._run(
            "initdb", "-D", str(self.data_dir), "-U", self.user, "--pwfile", str(pwfile),
            "-A", "scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8",
        )  # fmt: skip
        for _ in range(5):  # the port was free when picked; another process may take it first
            try:
                self._pg_ctl_start()
                return
            except subprocess.CalledProcessError:
                log = self.data_dir.parent / "server.log"
                if "could not bind" not in log.read_text(errors="replace"):
                    raise
                self.port = free_port()
        self._pg_ctl_start()

    def _pg_ctl_start(self) -> None:
        opts = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} "
            f"-c unix_socket_directories={self.data_dir.parent} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run("pg_ctl", "-D", str(self.data_dir), "-o", opts, "-w", "-t", "60",
                  "-l", str(self.data_dir.parent / "server.log"), "start")  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data_dir), "-m", mode, "-w", "stop")

    def restart(self) -> None:
        self.stop("fast")
        self._pg_ctl_start()

    def conninfo(self, dbname: str = "postgres") -> str:
        return (
            f"host=127.0.0.1 port={self.port} dbname={dbname} "
            f"user={self.user} password={self.password}"
        )

    def url(self, dbname: str) -> str:
        return f"postgresql://{self.user}:{self.password}@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def start_server() -> PgServer:
    bin_dir = find_pg_bin()
    if bin_dir is None:
        raise RuntimeError(
            "PostgreSQL binaries not found: run `make deps` (apt-get install postgresql)"
        )
    root = Path(tempfile.mkdtemp(prefix="duban-pg-"))
    server = PgServer(bin_dir=bin_dir, data_dir=root / "data", port=free_port())
    server.start()
    deadline = time.monotonic() + 30
    while True:
        try:
            psycopg.connect(server.conninfo(), connect_timeout=2).close()
            return server
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
