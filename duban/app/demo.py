"""A living demo for `make run`: the sample list re-dated to this year and a simulated quarter.

Everything goes through the application layer as the people would do it, each step on a
simulated clock (the ledger's clock is moved for the duration, then put back): the lead units'
liaisons claim their tasks and report progress with real files (a small PDF and a PNG made
here), the sweep runs every few weeks and escalates what is late, a leading official issues a
批示, one completion is returned and another accepted, and an extension is left waiting for
the office. The result shows every state of the workspace at once.

Seeding twice changes nothing: the import of an unchanged list stores nothing, and once the
first task of the demo is claimed the simulation is not run again.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import re
import struct
import tempfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from domain.roles import Identity
from duban.app import commands as cmd
from duban.app.evidence import EvidenceFiles
from duban.app.importer import checked_units, read_task_list
from duban.app.instructions import InstructionDesk
from duban.app.notices import queue_notices_now
from duban.app.people import IssuedInvitation, PeopleRegistry
from duban.app.scheduled import run_delivery
from duban.app.services import Services
from duban.app.sweep import sweep

__all__ = [
    "DemoPlan",
    "DemoReport",
    "demo_pdf",
    "demo_plan",
    "demo_png",
    "redated_list",
    "seed",
    "sign_in_links",
]

OFFICE = Identity(role="office", name="县委改革办")
QUARTER = 91  # days simulated before today
Progress = Callable[[str], None]


@dataclass(frozen=True)
class DemoPlan:
    """Which tasks of the list play which part (codes of this year's list)."""

    claimed: tuple[str, ...]  # claimed and reported on
    with_files: str  # reports 30% then 60% with a PDF and a photo
    extension: str  # asks for more time; left pending for the office
    returned: str  # a completion the office sends back
    accepted: str  # a completion the office accepts (销号)
    instruction: str  # a 批示 from its leading official


@dataclass
class DemoReport:
    year: int
    imported: int = 0
    seeded: bool = False  # False: the demo was already there, nothing changed
    steps: list[str] = field(default_factory=list)


# ---- the sample list, re-dated -------------------------------------------------------------

_YEARS = re.compile(r"20(2[3-5])")


def redated_list(sample: Path, year: int, folder: Path) -> Path:
    """The sample list with its years moved so that 2024 becomes `year` (2023 the year
    before, 2025 the year after): codes, deadlines, milestones, titles."""
    shift = year - 2024

    def moved(match: re.Match[str]) -> str:
        return str(int(match[0]) + shift)

    text = sample.read_text(encoding="utf-8-sig")
    target = folder / f"tasks-{year}{sample.suffix}"
    target.write_text(_YEARS.sub(moved, text), encoding="utf-8")
    return target


# ---- small real files --------------------------------------------------------------------------


def demo_pdf(title: str = "Progress report") -> bytes:
    """A one-page PDF (ASCII text: no embedded font needed), with a correct xref table."""
    stream = f"BT /F1 18 Tf 72 720 Td ({title}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % offset for offset in offsets))
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


def demo_png(width: int = 48, height: int = 32) -> bytes:
    """A small RGB PNG (a red band over grey, like a photo of a red-headed document)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(
        b"\x00" + (b"\xb3\x26\x1e" if y < height // 4 else b"\xdd\xdd\xdd") * width
        for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


# ---- the simulated quarter -------------------------------------------------------------------


@contextmanager
def _simulated(services: Services) -> Iterator[Callable[[dt.datetime], None]]:
    """The ledger's clock held at moments the demo sets; the real clock put back after."""
    ledger = services.ledger
    real = ledger.clock
    moment = [real()]
    ledger.clock = lambda: moment[0]
    try:
        yield lambda at: moment.__setitem__(0, at)
    finally:
        ledger.clock = real


class _Quarter:
    """The demo's people acting on the simulated days of one quarter."""

    def __init__(self, services: Services, plan: DemoPlan, start: dt.datetime) -> None:
        self.svc = services
        self.ledger = services.ledger
        self.plan = plan
        self.start = start
        self.liaisons = {
            u.name: Identity("liaison", u.liaisons[0].name, u.name)
            for u in services.config.units
            if u.liaisons
        }

    def day(self, n: int, hour: int = 10) -> dt.datetime:
        return (self.start + dt.timedelta(days=n)).replace(hour=hour)

    def lead(self, code: str) -> Identity:
        row = self.ledger.task(code, OFFICE)
        return self.liaisons[row["lead_unit"]]

    def files(self, who: Identity, *named: tuple[str, bytes]) -> tuple[cmd.FileChoice, ...]:
        if self.ledger.evidence is None:
            return ()
        refs = EvidenceFiles(self.ledger).upload([(io.BytesIO(b), n) for n, b in named], who)
        return tuple(cmd.FileChoice(sha256=r.sha256, name=r.name) for r in refs)

    def report(self, code: str, percent: int, text: str, files: bool = False) -> None:
        who = self.lead(code)
        attached = (
            self.files(who, (f"{code}进展材料.pdf", demo_pdf(f"Task {code}: {percent}%")),
                       (f"{code}现场照片.png", demo_png()))
            if files
            else ()
        )  # fmt: skip
        self.ledger.report(
            code, cmd.ReportProgress(text=text, percent=percent, files=attached), who
        )

    # ---- the people's steps (each one of `_script`) ------------------------------------------

    def claim_all(self) -> str:
        for code in self.plan.claimed:
            self.ledger.claim(code, self.lead(code))
        return f"{len(self.plan.claimed)} 项"

    def first_report(self) -> None:
        self.report(self.plan.with_files, 30, "方案已起草，正在征求意见", files=True)

    def second_report(self) -> None:
        self.report(self.plan.with_files, 60, "征求意见完毕，已提请审议", files=True)

    def nearly_done(self) -> None:
        for code in (self.plan.returned, self.plan.accepted):
            self.report(code, 80, "主体工作已完成，正在整理材料")

    def instruct(self) -> None:
        code = self.plan.instruction
        desk = InstructionDesk(self.ledger, self.svc.config.tz)
        desk.issue(code, "请加快推进，月底前报告进展", self.day(55).date(), _official(self, code))

    def submit(self, code: str) -> None:
        who = self.lead(code)
        files = self.files(who, (f"{code}销号材料.pdf", demo_pdf(f"Task {code} done")))
        summary = "任务已全部完成，相关制度文件已印发"
        self.ledger.submit_completion(code, cmd.SubmitCompletion(summary=summary, files=files), who)

    def send_back(self) -> None:
        decision = cmd.Decision(reason="佐证材料不全，请补充印发文件")
        self.ledger.return_completion(self.plan.returned, decision, OFFICE)

    def accept(self) -> None:
        decision = cmd.Decision(reason="材料齐全，同意销号")
        self.ledger.accept_completion(self.plan.accepted, decision, OFFICE)

    def ask_for_time(self, until: dt.date) -> None:
        code = self.plan.extension
        request = cmd.RequestExtension(new_deadline=until, reason="涉及上级审批，需延长时限")
        self.ledger.request_extension(code, request, self.lead(code))

    def sweep(self, at: dt.datetime) -> str:
        """The scheduler's sweep and delivery at `at`; the console robots' printing kept
        quiet (the messages are recorded as delivered all the same)."""
        issued = sweep(self.svc, at).issued
        with contextlib.redirect_stdout(io.StringIO()):
            run_delivery(self.svc, at)
        return f"发出 {issued} 项提醒或督办" if issued else "无到期事项"

    def working(self, n: int) -> dt.datetime:
        """9:00 on day `n`, or on the Monday after when it is a weekend."""
        at = self.day(n, 9)
        return at + dt.timedelta(days=(7 - at.weekday()) % 7 if at.weekday() >= 5 else 0)


def demo_plan(services: Services) -> DemoPlan:
    """Parts for this year's first tasks whose lead unit has a liaison and which have a date."""
    year = services.ledger.clock().astimezone(services.config.tz).year
    units = {u.name for u in services.config.units if u.liaisons}
    codes = sorted(c for c in services.ledger.task_codes() if c.startswith(f"{year}-"))
    rows = [services.ledger.task(c, OFFICE) for c in codes]
    dated = [r["code"] for r in rows if r["lead_unit"] in units and r["deadline"]]
    if len(dated) < 8:
        msg = "示例任务清单中有完成时限且牵头单位有联络员的任务不足 8 项"
        raise ValueError(msg)
    return DemoPlan(
        claimed=tuple(dated[:8]), with_files=dated[0], extension=dated[1], returned=dated[2],
        accepted=dated[3], instruction=dated[4],
    )  # fmt: skip


def seed(services: Services, sample: Path, progress: Progress = lambda _: None) -> DemoReport:
    """Import the re-dated list, then (once) simulate the quarter that ends today."""
    now = services.ledger.clock().astimezone(services.config.tz)
    report = DemoReport(year=now.year)
    start = (now - dt.timedelta(days=QUARTER)).replace(hour=9, minute=30, second=0, microsecond=0)
    with _simulated(services) as set_clock:
        services.ledger.reconcile_directory(services.config, OFFICE)
        set_clock(start)
        report.imported = _import(services, sample, now.year, progress)
        plan = demo_plan(services)
        if services.ledger.task(plan.claimed[0], OFFICE)["status"] != "assigned":
            progress("演示数据已存在，未作改动")
            return report
        _simulate(_Quarter(services, plan, start), set_clock, progress, report)
        set_clock(now)
        queue_notices_now(services)
    report.seeded = True
    return report


def _import(services: Services, sample: Path, year: int, progress: Progress) -> int:
    with tempfile.TemporaryDirectory() as folder:
        result = checked_units(
            read_task_list(redated_list(sample, year, Path(folder))), services.config
        )
    if result.errors:
        raise ValueError("；".join(str(e) for e in result.errors))
    changes = services.ledger.import_tasks(result.rows, OFFICE)
    created = sum(1 for c in changes if c.action == "create")
    queue_notices_now(services)
    progress(f"导入 {year} 年改革要点任务清单：新增 {created} 项，共 {len(changes)} 项")
    return created


def _simulate(
    q: _Quarter, set_clock: Callable[[dt.datetime], None], progress: Progress, report: DemoReport
) -> None:
    for moment, text, act in _script(q):
        set_clock(moment)
        result = act()
        line = f"{moment:%Y-%m-%d} {text}" + (f"（{result}）" if isinstance(result, str) else "")
        report.steps.append(line)
        progress(line)


Step = tuple[dt.datetime, str, Callable[[], object]]


def _script(q: _Quarter) -> list[Step]:
    """The quarter, in order: (when, what, the action; a text it returns is shown)."""
    p, end = q.plan, QUARTER
    new_deadline = dt.date(q.start.year + 1, 3, 31)
    sweeps: list[Step] = [
        (q.working(n), "定时检查到期任务并投递消息", _bound(q.sweep, q.working(n)))
        for n in range(0, end, 7)
    ]
    acts: list[Step] = [
        (q.day(1), "各牵头单位联络员签收任务", q.claim_all),
        (q.day(20), f"{p.with_files} 报送进展 30%（附 PDF 和照片）", q.first_report),
        (q.day(22), f"{p.returned}、{p.accepted} 报送进展 80%", q.nearly_done),
        (q.day(40), f"领衔领导对 {p.instruction} 作出批示", q.instruct),
        (q.day(50), f"{p.with_files} 报送进展 60%（附 PDF 和照片）", q.second_report),
        (q.day(56), f"{p.returned} 提交销号申请", _bound(q.submit, p.returned)),
        (q.day(58), f"改革办退回 {p.returned} 的销号申请", q.send_back),
        (q.day(70), f"{p.accepted} 提交销号申请", _bound(q.submit, p.accepted)),
        (q.day(75), f"改革办同意 {p.accepted} 销号", q.accept),
        (q.day(end - 3), f"{p.extension} 申请延期至 {new_deadline}（待改革办审批）",
         _bound(q.ask_for_time, new_deadline)),
    ]  # fmt: skip
    return sorted([*acts, *sweeps], key=lambda step: step[0])


def _bound(act: Callable[[Any], object], value: Any) -> Callable[[], object]:
    return lambda: act(value)


def _official(q: _Quarter, code: str) -> Identity:
    name = q.ledger.task(code, OFFICE)["official"]
    return Identity("official", name) if name else OFFICE


# ---- sign-in links ---------------------------------------------------------------------------

DEMO_PEOPLE = (("office", "演示改革办", "demo-office"), ("auditor", "演示审计", "demo-audit"))


def sign_in_links(
    services: Services, address: str | None = None
) -> list[tuple[str, IssuedInvitation]]:
    """One-time links for a liaison of the demo, an office member and an auditor (the two
    added once): (who they are, the invitation)."""
    people = PeopleRegistry.of(services)
    known = {p["login"] for p in people.people(OFFICE)}
    for role, name, login in DEMO_PEOPLE:
        if login not in known:
            people.add(role, name, login, OFFICE, "演示数据")
    liaison = _demo_liaison(services)
    wanted = [("联络员", liaison.name), *(("改革办" if r == "office" else "审计", login)
                                        for r, _, login in DEMO_PEOPLE)]  # fmt: skip
    return [(label, people.invite(person, OFFICE, address)) for label, person in wanted]


def _demo_liaison(services: Services) -> Identity:
    """The liaison whose task carries the files (the demo's first task)."""
    code = demo_plan(services).with_files
    lead_unit = services.ledger.task(code, OFFICE)["lead_unit"]
    unit = next(u for u in services.config.units if u.name == lead_unit)
    return Identity("liaison", unit.liaisons[0].name, unit.name)
