"""`duban scheduler jobs` says each schedule in Chinese words; the expression stays in json."""

from __future__ import annotations

import pytest

from duban.app.scheduled import JOB_LABELS, JOBS
from duban.settings.sections import Schedules
from scheduler.cron import CronError
from scheduler.triggers import describe_schedule


@pytest.mark.parametrize(
    ("expr", "words"),
    [
        ("every workday 09:00-17:45/15m", "每个工作日 09:00至17:45每15分钟"),
        ("every workday 09:00-18:59/1m", "每个工作日 09:00至18:59每分钟"),
        ("Every  Workday 09:00,12:00", "每个工作日 09:00、12:00"),
        ("workday 1 of month 09:00", "每月第1个工作日 09:00"),
        ("workday 5 of quarter 10:00", "每季度第5个工作日 10:00"),
        ("workday 10 of year 10:00", "每年第10个工作日 10:00"),
        ("workday -1 of month 16:00", "每月最后一个工作日 16:00"),
        ("workday -2 of month 16:00", "每月倒数第2个工作日 16:00"),
        ("0 9 * * 1-5", "周一至周五 09:00"),
        ("30 8,12 * * mon,wed,fri", "周一、周三、周五 08:30、12:30"),
        ("*/15 9-17 * * *", "每天 09:00至17:45每15分钟"),
        ("0 9 1,15 * *", "每月1日、15日 09:00"),
        ("0 0 1 1 *", "1月1日 00:00"),
        ("0 9 * 1,4,7,10 1", "1月、4月、7月、10月每周一 09:00"),
        ("@hourly", "每天 每小时第0分"),
    ],
)
def test_a_schedule_reads_as_chinese(expr: str, words: str) -> None:
    assert describe_schedule(expr) == words


def test_every_default_schedule_has_words_without_latin_letters() -> None:
    for name in Schedules.model_fields:
        words = describe_schedule(getattr(Schedules(), name))
        assert not any("a" <= c.lower() <= "z" for c in words), (name, words)


def test_an_invalid_schedule_is_still_refused() -> None:
    with pytest.raises(CronError):
        describe_schedule("workday 0 of month 09:00")
    with pytest.raises(CronError):
        describe_schedule("0 9 * * 1-8")


def test_every_job_has_a_chinese_name() -> None:
    assert set(JOB_LABELS) == set(JOBS) == set(Schedules.model_fields)
