"""One module per compliance test, each exporting its :class:`compliance.verify.base.Verifier` as ``VERIFIER``
(listed in :mod:`compliance.verify.registry`): TEST01, TEST04, TEST05, TEST06, TEST07, TEST08, TEST09."""
