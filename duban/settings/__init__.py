"""Settings: the config file (validated completely when parsed: `config` and its `sections`),
store URLs (`store`) and logging (`logs`).

May import `domain`, and of the infrastructure only what validation needs: `scheduler.cron`
(the crons) and `notifiers.render` (the admin's templates). Nothing of `duban.app`, the
composition root or the entry points.
"""
