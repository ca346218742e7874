"""Write the golden store: a small SQLite ledger with a scripted history, and what the CLI
shows of it (board, audit log, chain head) as JSON beside it.

Run once, by hand, with the code whose stored data must keep working:

    .venv/bin/python -m tests.golden.make_golden            # a new store and its JSON
    .venv/bin/python -m tests.golden.make_golden --shown    # only the JSON, from the store

`tests/integration/test_golden_store.py` then opens a copy of the committed store with the
code as it is now, rebuilds every projection and compares what the CLI shows with the
committed JSON. Regenerate only for a deliberate change of what is shown, and say so in the
commit message.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
TZ = ZoneInfo("Asia/Shanghai")
STORE = HERE / "store.db"
CONFIG = HERE / "duban.toml"
AS_OF = "2024-12-31"


class Clock:
    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def at(self, *args: int) -> None:
        self.now = dt.datetime(*args, tzinfo=TZ)  # type: ignore[misc]


def write_config(store: Path, path: Path) -> None:
    text = (ROOT / "examples/duban.toml").read_text(encoding="utf-8")
    path.write_text(text.replace("sqlite:///var/duban.db", f"sqlite:///{store}"), "utf-8")


def script(config_path: Path) -> None:
    # The only part that imports the code of the day: update these imports if it moves.
    from domain.roles import Identity
    from duban.app import commands as cmd
    from duban.app.access import TokenRegistry
    from duban.app.delivery_adapters import deliver_due
    from duban.app.importer import read_task_list
    from duban.app.sweep import sweep
    from duban.bootstrap import bootstrap
    from duban.settings.config import load_config

    clock = Clock(dt.datetime(2024, 3, 1, 9, 30, tzinfo=TZ))
    services = bootstrap(load_config(config_path), clock=clock)
    ledger = services.ledger
    office = Identity("office", "改革办")
    fgj = Identity("liaison", "张伟", unit="县发展和改革局")
    czj = Identity("liaison", "李娜", unit="县财政局")
    ledger.reconcile_directory(services.config, office)
    ledger.import_tasks(read_task_list(ROOT / "examples/tasks-2024.csv").rows, office)

    clock.at(2024, 3, 4, 10, 0)
    ledger.claim("2024-01", fgj)
    ledger.report("2024-01", cmd.ReportProgress(text="专班已组建，清单已印发", percent=20), fgj)
    ledger.report("2024-01", cmd.ReportProgress(text="配合测算专项资金", percent=25), czj)
    clock.at(2024, 4, 8, 15, 0)
    ledger.request_extension(
        "2024-01",
        cmd.RequestExtension(new_deadline=dt.date(2025, 3, 31), reason="项目用地审批未完成"),
        fgj,
    )
    clock.at(2024, 4, 9, 9, 0)
    ledger.grant_extension("2024-01", cmd.DecideExtension(reason="同意延期至2025年3月底"), office)
    clock.at(2024, 9, 20, 16, 0)
    ledger.submit_completion("2024-01", cmd.SubmitCompletion(summary="项目清单全部落地"), fgj)
    clock.at(2024, 9, 23, 10, 0)
    ledger.accept_completion("2024-01", cmd.Decision(reason="材料齐全，同意销号"), office)

    plan = ledger.submit_plan("FA-2024-01", "县级国有企业改革实施方案", "县国资办", None, office)
    assert plan
    ledger.review_plan("FA-2024-01", "opinion", "请补充考核办法", office)
    ledger.review_plan("FA-2024-01", "approve", "同意印发", office)

    tokens = TokenRegistry(ledger)
    issued = tokens.issue("liaison", "张伟", "县发展和改革局", office, reason="金样令牌")
    tokens.revoke(issued.token_id, office, reason="金样吊销")

    for day in (
        dt.datetime(2024, 6, 25, 10, 0, tzinfo=TZ),
        dt.datetime(2024, 7, 2, 10, 0, tzinfo=TZ),
    ):
        clock.now = day
        sweep(services, day)
        deliver_due(services, day)
    ledger.close()


def shown(config_path: Path) -> dict[str, str]:
    """What the CLI shows of the store: the as-of board, the audit log, the chain head."""
    env = {**os.environ, "DUBAN_CONFIG": str(config_path)}

    def run(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "duban.cli", *args],
            capture_output=True, text=True, timeout=300, check=True, env=env,
        )  # fmt: skip
        return done.stdout

    return {
        "board.json": run("board", "--as-of", AS_OF, "--format", "json"),
        "audit.jsonl": run("audit", "log", "--format", "jsonl"),
        "head.txt": run("audit", "head"),
    }


def main() -> None:
    if sys.argv[1:] == ["--shown"]:
        # Re-derive only the JSON from the committed store (a deliberate change of wording).
        work = HERE / "_work"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir()
        shutil.copyfile(STORE, work / "store.db")
        write_config(work / "store.db", work / "duban.toml")
        for name, text in shown(work / "duban.toml").items():
            (HERE / name).write_text(text, encoding="utf-8")
        shutil.rmtree(work)
        return
    work = HERE / "_work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    store = work / "store.db"
    config = work / "duban.toml"
    write_config(store, config)
    script(config)
    for name, text in shown(config).items():
        (HERE / name).write_text(text, encoding="utf-8")
    shutil.copyfile(store, STORE)
    shutil.rmtree(work)
    print(f"golden store written: {STORE}")


if __name__ == "__main__":
    main()
