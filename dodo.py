"""doit entry point of this project: ``doit`` here runs the compliance pipeline of the installed mlperf-compliance
on ``specs/`` (``mlperf-compliance`` does the same, with or without this file); tasks of your own may follow.

Specs are chosen with ``doit specs=DIR`` (default ``specs/``), systems with ``doit system=NAME[,NAME...]``. The
tasks come from compliance.pipeline.tasks (through compliance.pipeline.entry); this file stays thin. Invalid specs
stop here with every problem listed and exit status 2; Ctrl-C and SIGTERM end with one line (compliance.errors).
"""

from compliance.pipeline.entry import dodo_namespace

globals().update(dodo_namespace())
