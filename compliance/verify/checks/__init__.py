"""The checks the tests share: input files and the published layout (:mod:`.inputs`), audit evidence
(:mod:`.evidence`), the runs' scenario, modes and target QPS (:mod:`.runs`), performance rules (:mod:`.performance`),
TEST01's output comparison (:mod:`.compare`) and non-deterministic fallback (:mod:`.fallback`, :mod:`.baseline`),
and the token facts of TEST06 and TEST09 (:mod:`.tokens`)."""
