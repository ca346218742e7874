"""duban (督办): the reform-task supervision ledger — its application, settings, entry points
and composition root.

Subpackages, from the top: the entry points `duban.cli`, `duban.api` and `duban.web`; the
composition root `duban.bootstrap`; the application layer `duban.app`; the settings
`duban.settings`. Below them, outside this package: `projections`, `notifiers`, `scheduler`
(independent of each other) and `domain`. A module imports only from its own layer's package
or the layers below it (import-linter contracts in pyproject.toml, checked by `make lint`).
"""
