"""The operator's command line (`duban …`): one module per group of commands.

An entry point: imports `duban.app`, `duban.settings` and the composition root
(`duban.bootstrap`), never `projections`, `notifiers` or `scheduler` directly.
"""

from duban.cli.main import app, main

__all__ = ["app", "main"]
