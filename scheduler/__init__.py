"""The scheduler: runs the jobs it is handed at their crontab times, on the elected node only.

`cron` (crontab text → APScheduler triggers, standard weekday numbering), `jobs` (`JobSpec`,
`Schedule`), `leader` (the SQLite file lock, the PostgreSQL advisory-lock lease) and `runner`
(`SchedulerHandle`, `run_forever`). The composition root (`duban.bootstrap`) hands it its jobs
as callables and its leadership; it knows nothing of the config, the store URL or the jobs'
work.

May import `domain` only (and the standard library, APScheduler, psycopg, structlog); in fact
it needs nothing of ours.
"""
