"""Many `duban` commands at the cost of one start-up: a process that imports the CLI once and
forks a fresh child for every command.

Importing the command line takes most of a `duban` run (about 1.3 s of 1.7 s), so a test that
drives a scripted month through fifty commands spends a minute importing. The zygote imports
`duban.cli` (and the modules its commands load lazily) once; each command then runs in a child
forked from it, with its own argv, environment, working directory and stdout/stderr files,
through the same `duban.cli.main:main` the `duban` console script calls. The child's state is
fresh (the CLI's cached services are built in the child, after the fork), so commands are as
independent as separate `duban` processes.

    with Zygote() as zygote:
        code = zygote.run(["board"], env={...}, cwd=folder, out=folder / "o", err=folder / "e")

The protocol on the zygote's stdin/stdout is one JSON object per line each way.

`run_cli(args, env=..., cwd=...)` is the drop-in for `subprocess.run([python, "-m",
"duban.cli", *args], capture_output=True, text=True)`: one zygote shared by the whole test
process (started on first use, stopped at exit), the answer a `CompletedProcess`. Tests that
need a process of their own (a resource limit, a kill, commands running at the same time, the
installed `duban` script itself) keep using `subprocess`.
"""

from __future__ import annotations

import atexit
import importlib
import json
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

__all__ = ["Zygote", "run_cli"]

# Modules the commands import inside their functions (and every command module, which
# `main` imports and registers): loaded once in the zygote.
_PRELOAD = (
    "duban.cli.main",
    "duban.app.importer",
    "duban.app.notices",
    "duban.app.report_xlsx",
    "duban.app.report_html",
    "duban.app.report_markdown",
    "duban.app.document_pdf",
    "duban.bootstrap",
)


class Zygote:
    """The forking `duban` runner (a child process of the test)."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[str] | None = None

    def __enter__(self) -> Zygote:
        env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.cli_zygote"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            env=env,
            cwd=Path(__file__).resolve().parents[2],
        )
        ready = self._process.stdout.readline() if self._process.stdout else ""
        if json.loads(ready or "{}").get("ready") is not True:
            raise RuntimeError("the duban zygote did not start")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        process = self._process
        if process is None:
            return
        if process.stdin:
            process.stdin.close()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        if process.stdout:
            process.stdout.close()
        self._process = None

    def run(self, args: list[str], *, env: dict[str, str], cwd: Path, out: Path, err: Path) -> int:
        """Run `duban ARGS` in a fresh child; its exit status (stdout/stderr in `out`/`err`)."""
        process = self._process
        if process is None or process.stdin is None or process.stdout is None:
            raise RuntimeError("the duban zygote is not running")
        request = {"args": args, "env": env, "cwd": str(cwd), "out": str(out), "err": str(err)}
        process.stdin.write(json.dumps(request, ensure_ascii=False) + "\n")
        process.stdin.flush()
        answer = process.stdout.readline()
        if not answer:
            raise RuntimeError(f"the duban zygote died (exit {process.poll()})")
        return int(json.loads(answer)["rc"])


_shared: Zygote | None = None
_shared_lock = threading.Lock()


def _stop_shared() -> None:
    global _shared  # noqa: PLW0603 - the one zygote of this test process
    if _shared is not None:
        _shared.__exit__(None, None, None)
        _shared = None


def run_cli(
    args: list[str] | tuple[str, ...],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | str | None = None,
) -> subprocess.CompletedProcess[str]:
    """`duban ARGS` forked from the shared zygote, as `subprocess.run(..., capture_output=True,
    text=True)` answers it. `env`: the whole environment (default: this process's); `cwd`: the
    working directory (default: this process's). One command at a time (a lock): commands a
    test runs at the same time need processes of their own."""
    global _shared  # noqa: PLW0603 - the one zygote of this test process
    environ = dict(os.environ if env is None else env)
    folder = Path(cwd) if cwd is not None else Path.cwd()
    with _shared_lock, tempfile.TemporaryDirectory(prefix="duban-cli-") as scratch:
        if _shared is None:
            _shared = Zygote().__enter__()
            atexit.register(_stop_shared)
        out, err = Path(scratch) / "out", Path(scratch) / "err"
        code = _shared.run(list(args), env=environ, cwd=folder, out=out, err=err)
        stdout = out.read_text(encoding="utf-8", errors="replace")
        stderr = err.read_text(encoding="utf-8", errors="replace")
    return subprocess.CompletedProcess(["duban", *args], code, stdout, stderr)


def _child(request: dict[str, Any]) -> int:
    """In the forked child: become `duban ARGS` and run it."""
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    for fd, path in ((1, request["out"]), (2, request["err"])):
        target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(target, fd)
        os.close(target)
    sys.argv = ["duban", *request["args"]]
    here = sys.modules["__main__"]  # click names the program after `python -m` otherwise
    here.__package__, here.__spec__ = None, None
    from duban.cli.main import main

    code = 0
    try:
        main()
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    return code


def _serve() -> None:
    for name in _PRELOAD:
        importlib.import_module(name)
    for name in importlib.import_module("duban.cli.main").COMMAND_MODULES:
        importlib.import_module(name)  # imported, not registered: `main` registers them
    sys.stdout.write(json.dumps({"ready": True}) + "\n")
    sys.stdout.flush()
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:  # the child never returns into this loop
            try:
                code = _child(request)
            except BaseException:  # reported as the exit status, like a crash
                import traceback

                traceback.print_exc()
                code = 70
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        sys.stdout.write(json.dumps({"rc": os.waitstatus_to_exitcode(status)}) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    _serve()
