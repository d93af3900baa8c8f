"""Verifiers of the compliance tests: pure functions from logs to :class:`~compliance.verify.result.Result`.

One module per test (test01, test04, test06), with the shared pieces: result types, audit evidence, performance
comparison, rendering (official text files, verify.json, console) and the atomic output folder. Nothing here
imports doit.
"""
