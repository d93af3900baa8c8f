"""``review``: re-verify a published submission tree from its own logs, as a reviewer would.

Modules: :mod:`~compliance.review.tree` (the tree's layout and cells), :mod:`~compliance.review.facts` (each log
read once), :mod:`~compliance.review.models` (a benchmark folder's model), :mod:`~compliance.review.seeds` (the
round from the logs), :mod:`~compliance.review.rules` (the catalogue of findings), :mod:`~compliance.review.cell`,
:mod:`~compliance.review.runs`, :mod:`~compliance.review.folder`, :mod:`~compliance.review.verification` (one cell,
in a worker), :mod:`~compliance.review.cross` (across cells), :mod:`~compliance.review.engine` (the whole, in
parallel), :mod:`~compliance.review.output` (to the report model of :mod:`compliance.report`).

Layer: above the verifiers (it re-verifies with the registry's) and the specs; below the commands. It does not
import the pipeline, so a pipeline task can call :func:`compliance.review.engine.review` on a system's folder.
"""
