"""Reports for people and CI, rendered from one neutral model (:mod:`compliance.report.model`): the plain table,
Markdown, a self-contained HTML page, JSON (with its schema), GitHub Actions annotations and job summary, JUnit XML.

Layer: just above the errors; it imports nothing of the project but its version, so that every producer of rows
(``review``, the summary) can map its results to :class:`compliance.report.model.Item` and share the renderers.
"""
