"""No module outside tests/ is longer than 400 lines: a file that grows past it is split along
its seams (issue 11), not allowed to become the next 800-line module."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 400
SKIPPED = {".git", "tests", "build", "var", "node_modules"}


def _modules() -> list[Path]:
    return sorted(
        path
        for path in ROOT.rglob("*.py")
        if not any(part in SKIPPED or part.startswith(".") for part in path.relative_to(ROOT).parts)
    )


def test_the_project_has_modules_to_count() -> None:
    names = {path.relative_to(ROOT).parts[0] for path in _modules()}
    assert {"domain", "projections", "notifiers", "scheduler", "duban", "bench"} <= names


def test_no_module_outside_tests_is_over_400_lines() -> None:
    too_long = {
        str(path.relative_to(ROOT)): lines
        for path in _modules()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > LIMIT
    }
    assert too_long == {}, f"split these modules (at most {LIMIT} lines each): {too_long}"
