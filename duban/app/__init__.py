"""The application layer: the ledger and its commands, task import, the sweep and routing,
report rounds, report documents, the scheduled jobs and access tokens.

Imports `domain`, `projections`, `notifiers`, `scheduler` and `duban.settings`; never an entry
point (`duban.cli`, `duban.api`, `duban.web`) nor the composition root.
"""
