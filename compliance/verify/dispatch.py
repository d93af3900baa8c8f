"""One entry point for every verifier, used by the verify command and by the pipeline's verify task."""

from __future__ import annotations

from pathlib import Path

from compliance.spectypes import Model, TestSpec
from compliance.verify import test01, test04, test06
from compliance.verify.result import Result

DEFAULT_TOKENS = (2, "int32")  # the official TEST06 defaults: EOS 2, int32 tokens


def verify_test(test: TestSpec, model: Model | None, results_dir: str | Path | None, compliance_dir: str | Path,
                scenario: str | None, *, dtype: str | None = None, strict: bool | None = None,
                eos_token_id: int | None = None) -> Result:
    """Verify a compliance run of ``test``; unset options come from the model spec, else the official defaults.

    Raises:
        InputError: a required file is missing or unreadable.
    """
    if test.name == "TEST01":
        assert results_dir is not None
        return test01.verify(results_dir, compliance_dir, test, model, dtype or (model.dtype if model else "byte"),
                             test.thresholds.strict_accuracy if strict is None else strict)
    if test.name == "TEST04":
        assert results_dir is not None
        return test04.verify(results_dir, compliance_dir, test, model)
    assert scenario is not None
    tokens = model.tokens if model and model.tokens else None
    eos = eos_token_id if eos_token_id is not None else (tokens.eos_token_id if tokens else DEFAULT_TOKENS[0])
    return test06.verify(compliance_dir, scenario, test, model, eos, dtype or (tokens.dtype if tokens else DEFAULT_TOKENS[1]))
