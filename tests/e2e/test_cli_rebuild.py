"""`duban rebuild all` drops and rebuilds every projection, the sweep's due index and the
deliverer's outbox included, to the same result."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from zoneinfo import ZoneInfo

from domain.roles import Identity
from duban.app.importer import read_task_list
from duban.app.sweep import ladder_from_config, open_index, sweep
from duban.bootstrap import bootstrap
from duban.settings.config import load_config
from projections.outbox import open_outbox
from tests.support.cli_zygote import run_cli

ROOT = Path(__file__).resolve().parents[2]
TZ = ZoneInfo("Asia/Shanghai")


def test_rebuild_all_gives_the_same_due_index_outbox_and_board(tmp_path: Path) -> None:
    text = (ROOT / "examples/duban.toml").read_text(encoding="utf-8")
    config = tmp_path / "duban.toml"
    config.write_text(text.replace("sqlite:///var/duban.db", f"sqlite:///{tmp_path}/d.db"), "utf-8")
    services = bootstrap(load_config(config))
    office = Identity("office", "改革办")
    services.ledger.import_tasks(read_task_list(ROOT / "examples/tasks-2024.csv").rows, office)
    sweep(services, dt.datetime(2024, 7, 2, 10, 0, tzinfo=TZ))

    def state() -> tuple[object, object, object]:
        index = open_index(services, ladder_from_config(services.config), services.calendar)
        index.catch_up(services.ledger)
        outbox = open_outbox(services.ledger)
        outbox.catch_up(services.ledger)
        views = services.views()
        views.catch_up(services.ledger)
        return index.tasks(), outbox.pending(), views.board.rows(dt.date(2024, 7, 2))

    before = state()
    assert before[0], "the due index holds the open tasks"
    assert before[1], "the sweep queued messages"
    result = run_cli(["rebuild", "all"], env={**os.environ, "DUBAN_CONFIG": str(config)})
    assert result.returncode == 0, result.stderr
    assert {line.split(":")[0] for line in result.stdout.splitlines()} >= {"board", "due", "outbox"}
    assert state() == before
    services.ledger.close()
