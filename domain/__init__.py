"""The domain: aggregates and pure rules, no I/O.

The task lifecycle (`task`), roles (`roles`), deadlines as written (`deadlines`), the
working-day calendar (`calendar`), the reminder ladder (`ladder`) and the one rung table
(`rungs`), reminders and the message outbox (`reminder`), the directory of units, officials and
channels (`directory`), plan pre-reviews (`plan_review`), report rounds and their rule
(`report_round`), the assessment's scoring rules (`scoring`), access tokens (`token`) and the
domain errors (`errors`).

Imports only the standard library, `eventsourcing` and `chinese_calendar`; every other package
may import it. Each aggregate declares the event classes its `@event` methods create
(`ReformTask.Assigned`, …) so that projections dispatch on classes; their stored topics are
``domain.<module>:<Aggregate>.<Event>``.
"""
