"""doit entry point: ``doit`` in the project root (or ``mlperf-compliance`` with doit's commands).

Specs are chosen with ``doit specs=DIR`` (default ``specs/``). The tasks are built from the specs by
compliance.tasks; this file stays thin.
"""

from compliance.tasks import (  # noqa: F401  (doit collects task_* names)
    doit_config,
    task_audit,
    task_reference,
    task_run_benchmark,
    task_stage,
    task_unstage,
    task_validate,
    task_verify,
)

DOIT_CONFIG = doit_config()
