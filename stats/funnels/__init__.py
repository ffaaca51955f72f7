"""Funnels (issue #15): definitions (``steps``), the evaluation (``engine``), reads
(``selectors``) and writes (``services``). Semantics: docs/funnels.md."""
