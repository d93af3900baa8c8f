"""Imported first by ``mlperf-compliance`` (:mod:`compliance.cli`), before the modules its commands need (a second
or more on a busy machine): from here on a Ctrl-C ends the process with one line and exit status 130, never a
traceback (:func:`compliance.errors.quiet_interrupt_hook`). Once a command runs, :func:`compliance.errors.guarded`
handles it.

Layer: the bottom one, beside :mod:`compliance.errors`.
"""

from compliance import errors

errors.quiet_interrupt_hook()
