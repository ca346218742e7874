"""The reports' view is one of `projections.views`: caught up and rebuilt with the others (so
`duban rebuild all` and live following include it), and a view written by an older schema is
rebuilt from the events when opened."""

from __future__ import annotations

import datetime as dt
import threading

from domain.calendar import WorkingCalendar
from duban.app.ledger import Ledger
from projections.assessment import open_reports
from projections.report_annual import annual_assessment
from projections.report_monthly import monthly_analysis
from projections.reports import ReportContext
from projections.runner import follow
from projections.views import NAMES, open_views
from tests.integration.test_reports_year import Year, year

__all__ = ["year"]  # the scripted year, shared with test_reports_year

CAL = WorkingCalendar()


def _reports(ledger: Ledger) -> tuple[dict[str, object], dict[str, object]]:
    store = open_views(ledger, CAL).reports  # read as it is: no catch-up here
    ctx = ReportContext(store, CAL, 5)
    return (
        monthly_analysis(ctx, "2024-07"),
        annual_assessment(ctx, 2024, dt.date(2024, 12, 31)),
    )


def test_the_views_catch_up_and_rebuild_the_reports_view(year: Year) -> None:
    assert "reports" in NAMES
    views = open_views(year.ledger, CAL)
    last = year.ledger.recorder.max_notification_id()
    assert views.catch_up(year.ledger)["reports"] == last
    caught_up = _reports(year.ledger)
    assert views.rebuild(year.ledger)["reports"] == last  # `duban rebuild all`
    assert _reports(year.ledger) == caught_up
    assert views.rebuild(year.ledger, ["reports"]) == {"reports": last}


def test_live_following_keeps_the_reports_view_up_to_date(year: Year) -> None:
    views = open_views(year.ledger, CAL)
    views.reports.projection.view.drop()
    views.reports.projection.view.create_table()
    views.reports.projection.reset()
    stop = threading.Event()
    follower = threading.Thread(
        target=follow, args=(year.ledger, views.projections(), stop), kwargs={"poll_interval": 0.05}
    )
    follower.start()
    try:
        last = year.ledger.recorder.max_notification_id() or 0
        for _ in range(400):
            if views.reports.projection.view.max_tracking_id("duban") == last:
                break
            stop.wait(0.05)
    finally:
        stop.set()
        follower.join()
    assert views.reports.projection.view.max_tracking_id("duban") == last


def test_a_view_of_an_older_schema_is_dropped_and_rebuilt(year: Year) -> None:
    views = open_views(year.ledger, CAL)
    views.catch_up(year.ledger, ["reports"])
    expected = _reports(year.ledger)
    view = views.reports.projection.view
    # the previous layout: month-end facts as JSON only, no schema version
    view.write(
        [
            ("DROP TABLE {p}report_task_months", [()]),
            (
                "CREATE TABLE {p}report_task_months (task_id TEXT NOT NULL, month TEXT NOT NULL, "
                "facts TEXT NOT NULL, PRIMARY KEY (task_id, month))",
                [()],
            ),
            ("DELETE FROM {p}report_meta", [()]),
        ],
        None,
    )
    store = open_reports(year.ledger.recorder.datastore)  # type: ignore[attr-defined]
    assert store.projection.view.max_tracking_id("duban") is None  # emptied: to be rebuilt
    views = open_views(year.ledger, CAL)
    views.catch_up(year.ledger, ["reports"])
    assert _reports(year.ledger) == expected
    open_reports(year.ledger.recorder.datastore)  # type: ignore[attr-defined]
    assert views.reports.projection.view.max_tracking_id("duban") is not None  # kept now
