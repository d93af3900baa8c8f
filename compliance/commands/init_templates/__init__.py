"""The files ``mlperf-compliance init`` writes into a new project (package data, read by compliance.commands.init)."""
