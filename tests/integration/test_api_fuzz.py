"""schemathesis fuzzes every operation of /openapi.json: no 5xx, and every answer fits the schema.

Both valid and deliberately invalid inputs are generated (wrong types, out-of-range numbers,
missing fields, odd Unicode), with the office's token so that every operation is reachable.
The number of cases per operation is bounded in `make test` (a deterministic, derandomized
sample of each operation's inputs); `make reliability` (DUBAN_RELIABILITY=full) runs more.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from duban.api import create_app
from duban.app import commands as cmd
from duban.app.access import TokenRegistry
from duban.bootstrap import bootstrap
from duban.settings.config import load_config
from tests.conftest import FakeClock
from tests.support.api import OFFICE, bearer, sample_rows, write_config
from tests.support.sizes import scale

ENGLISH_WORD = re.compile(r"[A-Za-z]{3,}")
# The config's keys, which a message may tell the office to set (identifiers the admin types),
# ... and the commands and options it may tell them to use (`duban init`, `--name`).
CONFIG_KEY = re.compile(
    r"\[\[?[a-z_.]+\]\]?|\b[a-z_]+ = (?:true|false)|\bduban(?: [a-z]+)+|--[a-z-]+"
)
QUOTED = re.compile(r"「[^」]*」")  # what the caller sent, as the message quotes it
# names, not English
CODES = frozenset({"API", "JSON", "UTF", "PDF", "Excel", "Word", "WPS", "URL"})


def chinese_error_messages(_ctx: Any, response: Any, case: Any) -> bool | None:
    """Issue 14: every 4xx `message` (and each field's) is Chinese, with no English word
    besides what the caller sent and the message quotes (a task code, a unit's name)."""
    if not 400 <= response.status_code < 500:
        return None
    body = response.json()
    texts = [body.get("message", ""), *(f.get("message", "") for f in body.get("fields", []))]
    sent = sorted(_strings(case.path_parameters, case.query, case.body), key=len, reverse=True)
    for text in texts:
        rest = CONFIG_KEY.sub(" ", QUOTED.sub(" ", text))
        for value in sent:
            rest = rest.replace(value, " ")
        english = set(ENGLISH_WORD.findall(rest)) - CODES
        if english:
            raise AssertionError(f"English {sorted(english)} in an error message: {texts}")
    return None


def _strings(*values: Any) -> list[str]:
    found: list[str] = []
    for value in values:
        if isinstance(value, str) and value:
            found.append(value)
        elif isinstance(value, dict):
            found += _strings(*value.keys(), *value.values())
        elif isinstance(value, list | tuple):
            found += _strings(*value)
    return found


CHECKS = [
    chinese_error_messages,
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
CASES_PER_OPERATION = scale(10, 60)


@pytest.fixture
def fuzzed_app(tmp_path: Path, clock: FakeClock) -> Iterator[tuple[FastAPI, str]]:
    services = bootstrap(
        load_config(write_config(tmp_path, f"sqlite:///{tmp_path / 'fuzz.db'}")), clock=clock
    )
    rows = [cmd.AssignTask.model_validate(r) for r in sample_rows()]
    services.ledger.import_tasks(rows, OFFICE)
    token = TokenRegistry(services.ledger).issue("office", "fuzzer", None, OFFICE).token
    yield create_app(services), token
    services.ledger.close()


def _fuzz(operation: Any, mode: GenerationMode, token: str, **fixed: Any) -> str | None:
    """Run one operation's cases; the failure (after shrinking) as text, or None."""
    strategy = operation.as_strategy(generation_mode=mode, **fixed)

    @given(case=strategy)
    @settings(
        max_examples=CASES_PER_OPERATION,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        derandomize=True,
    )
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=bearer(token), checks=CHECKS)

    try:
        run()
    except Unsatisfiable:  # an operation without parameters has no invalid input to send
        return None
    except Exception as exc:  # every check failure of every operation is reported together
        return f"{operation.label} [{mode.value}{' ' + str(fixed) if fixed else ''}]: {exc}"
    return None


def test_no_input_makes_the_api_fail_or_break_its_schema(
    fuzzed_app: tuple[FastAPI, str],
) -> None:
    app, token = fuzzed_app
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    # The token is sent with every case; the matrix test covers requests without one.
    schema.config.generation.update(with_security_parameters=False)
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            failures.append(_fuzz(operation, mode, token))
        if "{code}" in operation.path:  # also on a task that exists, so commands really run
            real = {"path_parameters": {"code": "2024-01"}}
            failures.append(_fuzz(operation, GenerationMode.POSITIVE, token, **real))
    found = [f for f in failures if f]
    assert not found, f"{len(found)} operation(s) failed:\n\n" + "\n\n".join(found)
    assert len(operations) >= 20
