"""The scheduler: runs the jobs it is handed at their scheduled times, on the elected node only.

`cron` (crontab text → APScheduler triggers, standard weekday numbering), `triggers` (working-day
rules such as `workday 1 of month 09:00`, an APScheduler trigger that asks the office calendar;
`parse_schedule` reads either form), `jobs` (`JobSpec`, `Schedule`), `leader` (the SQLite file
lock, the PostgreSQL advisory-lock lease) and `runner` (`SchedulerHandle`, `run_forever`). The
composition root (`duban.bootstrap`) hands it its jobs as callables, the office calendar and its
leadership; it knows nothing of the config, the store URL or the jobs' work.

May import `domain` only (and the standard library, APScheduler, psycopg, structlog): it uses
`domain.calendar.WorkingCalendar`.
"""
