"""Cost: pricing files (:mod:`~harness.cost.pricing`), the case study's tables as a checked answer key
(:mod:`~harness.cost.answer_key`, ``harness cost``) and every run's measured cost, the ``cost`` section of
``metrics.json`` (:mod:`~harness.cost.run_cost`, settings in ``runs.yaml``, prices in ``prices/``). The shipped
pricing file, ``techcorp.yaml``, encodes section 5 of the case study row by row."""
