"""doit entry point: ``doit`` in the project root (or ``mlperf-compliance`` with doit's commands).

Specs are chosen with ``doit specs=DIR`` (default ``specs/``). The tasks are built from the specs by
compliance.tasks; this file stays thin.
"""

from compliance.tasks import doit_config, task_validate  # noqa: F401  (doit collects task_* names)

DOIT_CONFIG = doit_config()
