"""What the operator sees when a command fails in a way nobody planned for: one Chinese line.

Errors a person can act on are handled where they arise (`duban.cli.common.user_errors`: one
line and the exit code of their class). Anything else — a bug, a store that cannot be reached,
a corrupted file — ends here: the terminal gets one line naming the exception's class and the
log file, the exit code is `EXIT_UNEXPECTED`, and the traceback is written as one structured
JSON record (redacted like every log line) to the error log:

- `$DUBAN_ERROR_LOG` if set, else `var/log/duban-errors.log` under the current directory
  (where the default store lives too), else the system's temporary directory.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import structlog

from duban.settings.logs import redact_processor

__all__ = ["EXIT_UNEXPECTED", "error_log_path", "report_unexpected"]

EXIT_UNEXPECTED = 3
_NAME = "duban-errors.log"


def error_log_path() -> Path:
    configured = os.environ.get("DUBAN_ERROR_LOG")
    return Path(configured) if configured else Path("var") / "log" / _NAME


def _write(path: Path, exc: BaseException, argv: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as file:
        logger: Any = structlog.wrap_logger(
            structlog.PrintLogger(file=file),
            processors=[
                structlog.processors.add_log_level,
                structlog.processors.TimeStamper(fmt="iso", utc=True),
                structlog.processors.format_exc_info,
                redact_processor,
                structlog.processors.JSONRenderer(ensure_ascii=False),
            ],
        )
        logger.error("unexpected_error", command=argv, error=type(exc).__name__, exc_info=exc)
    return path.resolve()


def report_unexpected(exc: BaseException, argv: list[str] | None = None) -> int:
    """Log `exc` with its traceback to the error log, print one line; the exit code."""
    command = list(sys.argv[1:] if argv is None else argv)
    where: Path | None = None
    for candidate in (error_log_path(), Path(tempfile.gettempdir()) / _NAME):
        try:
            where = _write(candidate, exc, command)
            break
        except OSError:
            continue
    name = type(exc).__name__
    detail = f"详情已写入日志 {where}" if where else "日志文件无法写入"
    sys.stderr.write(f"出错了：{name}，{detail}\n")
    sys.stderr.flush()
    return EXIT_UNEXPECTED
