"""The parallel run (case study section 6, Phase 2): the result-log record (:mod:`~harness.shadow.records`), the
comparison database and its one writer (:mod:`~harness.shadow.db`), the dashboard computed in SQL
(:mod:`~harness.shadow.dashboard`) and the per-week judge (:mod:`~harness.shadow.judge`)."""
