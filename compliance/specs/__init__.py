"""The specs layer: YAML reading (:mod:`.yamldoc`), schema checking and defaults (:mod:`.schemacheck`), the typed
spec objects (:mod:`.types`) and the loader with its cross-checks (:mod:`.loader`).

Layer: the only place that reads YAML; imports :mod:`compliance.errors` and nothing else of the project. The
schemas are package data (``compliance.schemas``, the top-level ``schemas/`` folder).
"""
