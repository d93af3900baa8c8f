"""The packaged rounds, models and tests (and the demo systems ``init --demo`` writes), shipped as package data
``compliance.specdata``; a project's own ``specs/`` adds to them and overrides them by file name."""
