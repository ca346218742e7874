"""The application layer: what the entry points ask the system to do.

`services` (Services: config, ledger, calendar, read models), `ledger` with `ledger_base`,
`reconcile` (the directory from the config) and `plan_reviews` (前置初审), `commands` (the
validated inputs) and `task_commands` (each task command described once: model, ledger call,
success text), `importer/` (task lists), `sweep` and `routing` (the reminder ladder's sweep
and who is told through which chat), `monthly_rounds` (the monthly report round),
`report_kinds` with `report_docs`, `report_markdown`, `report_xlsx`, `report_html` (月分析、
季调度、年督考 and their formats), `safe_cells` (every XLSX and CSV cell a user's text reaches:
text, never a formula), `delivery_adapters` (the deliverer's ports over the store and
the config), `scheduled` and `preview` (what each scheduled job does; a window's messages
without sending), `reads` (read models for the entry points), `access` (tokens), `roles` and
`errors` (the application's error tree, with the domain errors re-exported for the entry points).

Imports `domain`, `projections`, `notifiers`, `scheduler` and `duban.settings`; never an entry
point (`duban.cli`, `duban.api`, `duban.web`) nor the composition root.
"""
