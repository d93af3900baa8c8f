"""The verify layer: one module per compliance test, each exporting one :class:`~.base.Verifier`, listed in
:mod:`.registry`; shared pieces beside them: result types (:mod:`.result`), input files (:mod:`.inputs`), audit
evidence (:mod:`.evidence`), performance rules (:mod:`.performance`), the official scripts' emulation
(:mod:`.official`), TEST01's output comparison (:mod:`.compare`), rendering (:mod:`.render`) and the atomic
output folder (:mod:`.output`).

Layer: imports :mod:`compliance.logs`, :mod:`compliance.auditconfig`, :mod:`compliance.layout`,
:mod:`compliance.specs` and :mod:`compliance.fsutil`; never doit, never a process, never a working directory.
A verdict is computed here once and stored as verify.json; everything after reads that.
"""
