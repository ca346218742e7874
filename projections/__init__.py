"""Read models rebuilt from the events alone: the task board, the audit trail, the board as of
any past date, the tamper-evident hash chain, the sweep's due index, the deliverer's outbox
and the report facts.

May import: `domain` only (besides the standard library and `eventsourcing`). The application
layer (`duban.app`) opens and catches up these views; the entry points reach them through it
(the import-linter contracts in pyproject.toml).

Every view lives in the event store's own database (the same SQLite file; on PostgreSQL,
tables named ``duban_*`` beside ``duban_events``), so one backup holds everything, and each
view writes its rows and its tracking position in one transaction (exactly-once). Views
dispatch on the domain's event classes (``ReformTask.Assigned``, …); the topics of the
store's filter are those classes' topics.

Modules: `viewstore` (tables and tracking, both stores), `runner` (catch up, follow,
rebuild), `facts` (the per-task fold and view the board and the due index share), `board`
and `lights` (the board and its light rules), `asof`, `audit` (with `audit_text`, its
descriptions), `chain`, `due`, `outbox`, `views` (all of one store together), and the report
facts and reports.

Using them::

    from projections.views import open_views
    views = open_views(ledger, calendar)          # creates the tables if new
    views.catch_up(ledger)                        # incremental, from each view's position
    views.board.rows(today, unit="县财政局")       # lights computed for `today`
    views.audit.entries(task="2024-01", since=date(2024, 3, 1))
    views.chain.verify(); views.chain.head()
    views.rebuild(ledger, ["board"])              # drop and replay
    board_as_of(ledger, on=date(2024, 6, 30))     # projections.asof, from events alone
    follow(ledger, views.projections(), stop)     # projections.runner: live + polling

``duban board --format json`` prints a list of rows, one per task in assignment order, each
with exactly these keys (stable; new keys may be added, none removed or renamed)::

    {
      "code": "2024-01",                  # 编号
      "title": "…",                       # 改革任务
      "area": "稳增长" | null,            # 领域 (section of the 改革要点 table)
      "status": "assigned|claimed|submitted|completed|cancelled",
      "status_label": "已交办|推进中|待销号|已销号|已撤销",
      "light": "green|yellow|red|closed",
      "light_label": "绿灯|黄灯|红灯|已关闭",
      "light_reasons": ["已逾期3个工作日", …],   # why the light is not green, in Chinese
      "deadline": "2024-09-30" | null,    # effective deadline, after granted extensions;
                                          # null = 持续推进 (ongoing)
      "deadline_text": "2024年6月底",     # as written in the task list
      "assigned_deadline": "2024-06-30" | null,
      "extensions": 1,                    # extensions granted
      "pending_extension": "2024-12-31" | null,
      "next_milestone": {"name": "方案制定", "due": "2024-03-31"} | null,
      "last_report_date": "2024-03-15" | null,   # office-local date of the last report
      "percent": 30,
      "reports": 2,
      "escalation": "notice|reminder|urge|supervise|bulletin" | null,  # highest rung recorded
      "escalation_label": "到期预告|到期提醒|催办|督办|通报" | null,
      "lead_unit": "县发展和改革局",
      "co_units": ["县财政局"],
      "official": "王建国" | null,
      "group": "经济体制和生态文明体制改革专责小组" | null,
      "recognitions": [{"kind": "pilot|exemplar", "level": "national|provincial|municipal|county",
                        "title": "…"}]
    }

``duban audit log --format jsonl`` prints one entry per line: ``position`` (notification id),
``at`` (office time), ``recorded_at`` (write timestamp), ``actor``, ``who`` (readable actor),
``type`` (e.g. ``ReformTask.ProgressReported``), ``tasks`` (codes the entry belongs to),
``summary`` (plain Chinese) and ``data`` (the full event as JSON).

The light rules are in `projections.lights`'s docstring; the chain's construction and what
`verify` reports in `projections.chain`'s.
"""
