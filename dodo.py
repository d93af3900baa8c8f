"""doit entry point: ``doit`` in the project root (or ``mlperf-compliance`` with doit's commands).

Specs are chosen with ``doit specs=DIR`` (default ``specs/``), systems with ``doit system=NAME[,NAME...]``.
The tasks are built from the specs by compliance.pipeline.tasks; this file stays thin. Invalid specs stop here
with every problem listed and exit status 2; Ctrl-C and SIGTERM end with one line (compliance.errors).
"""

import sys

from compliance import errors
from compliance.pipeline import tasks
from compliance.pipeline.tasks import (  # noqa: F401  (doit collects task_* names)
    task_audit,
    task_compliance,
    task_publish,
    task_reference,
    task_run_benchmark,
    task_stage,
    task_unstage,
    task_verify,
)

try:
    DOIT_CONFIG = tasks.doit_config()
except (errors.SpecError, errors.InputError) as exc:
    raise SystemExit(errors.report(exc, sys.stderr)) from None
errors.exit_quietly_on_interrupt()
