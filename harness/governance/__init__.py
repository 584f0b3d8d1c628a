"""Governance from evidence (issue 31; case study sections 3 and 4): the maturity level a results directory
shows (:mod:`~harness.governance.maturity`, ``harness maturity``) and a chained governance record per run
(:mod:`~harness.governance.audit`, ``harness audit``). Both read runs through :mod:`harness.store`; pages read
them, never the reverse."""
