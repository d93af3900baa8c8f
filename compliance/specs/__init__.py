"""The specs layer: YAML reading (:mod:`.yamldoc`), schema checking and defaults (:mod:`.schemacheck`), the typed
spec objects (:mod:`.types`), placeholder templates (:mod:`.templates`), paths as users write them and the places
the tool writes in (:mod:`.paths`), harness facts (:mod:`.facts`) and the loader with its cross-checks
(:mod:`.loader`).

Layer: the only place that reads YAML; imports :mod:`compliance.errors` and nothing else of the project. The
schemas are package data (``compliance.schemas``, the top-level ``schemas/`` folder), and so are the rounds, models
and tests (``compliance.specdata``, the top-level ``specs/`` folder).
"""
