"""Settings: the config file (validated completely when parsed), store URLs and logging.

Imports `domain` and `scheduler.cron` (to validate crons) only; nothing of `duban.app` or the
entry points.
"""
