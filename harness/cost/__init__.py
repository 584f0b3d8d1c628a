"""Cost: pricing files (:mod:`~harness.cost.pricing`) and the case study's tables as a checked answer key
(:mod:`~harness.cost.answer_key`). The shipped pricing file, ``techcorp.yaml``, encodes section 5 of the case
study row by row."""
