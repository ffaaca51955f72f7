"""The sources statistics are answered from, one module each, all implementing the same
measures (``stats.query.plan.Measure``) for the days the planner gives them:

- ``daily``: the rolled-up daily tables (``DailySiteStats``, ``DailyDimensionStats``);
- ``session_rows``: ``SessionDay`` rows (filters on visit attributes);
- ``events_sql``: rolled-up and raw events in one PostgreSQL statement per measure;
- ``events_python``: raw events through the ORM and Python (the embedded default).

``days(query)`` → {day: metrics}, ``visitors(query)`` → int, ``dimension_days(query,
dimension)`` → {day: {key: metrics}} (``exit``: exits per (path, title)),
``page_time_days(query)`` → {day: (sum of ms, number)}.
"""
