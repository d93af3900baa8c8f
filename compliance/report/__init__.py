"""Reports for people and CI, rendered from one neutral model (:mod:`compliance.report.model`): the plain table,
Markdown, a self-contained HTML page, JSON (with its schema, ``schemas/report.schema.json``), GitHub Actions
annotations and job summary, JUnit XML (:func:`compliance.report.render.render`).

A producer maps its results to :class:`~compliance.report.model.Item` rows and :class:`~compliance.report.model.Finding`
objects, and says its columns: ``review`` makes one item per folder (columns division, organisation, system,
benchmark, scenario, test; :mod:`compliance.review.output`); the summary's rows map the same way (columns system,
benchmark, scenario, test; its status, reason and figures as they are; each of its findings a Finding with a rule id
of its own, e.g. the check it comes from, and the row's numbers in ``Item.data`` for the JSON).

Layer: just above the errors; it imports nothing of the project but the errors and its version, so that every
producer of rows can use it.
"""
