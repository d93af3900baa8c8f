"""What a verifier is: the one object each test module exports, which says everything about its test.

The registry (:mod:`compliance.verify.registry`) lists them. Every consumer reads this object instead of knowing a
test by name: the verify command builds its arguments from :attr:`Verifier.options`, the plan asks for
:attr:`Verifier.reference_runs`, :meth:`Verifier.files` and the options a system's harness facts give
(:attr:`Verifier.harness_options`), the spec loader warns where those facts and the test disagree
(:attr:`Verifier.harness_check`), the pipeline calls :attr:`Verifier.verify` and copies :meth:`Verifier.files`, the
summary and the console print :attr:`Verifier.figures`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compliance.layout import VERIFY_JSON
from compliance.report.measure import Measure
from compliance.specs.facts import HarnessCheck
from compliance.specs.types import BenchmarkRun, Model, TestSpec
from compliance.verify.result import Check, Result
from compliance.verify.scoring import Runner


@dataclass(frozen=True)
class Option:
    """A verifier option, given on the command line or taken from the specs (see :attr:`Verifier.resolve`)."""

    name: str  # the key in Request.options
    flag: str  # e.g. --dtype
    help: str
    choices: tuple[str, ...] | None = None
    type: Callable[[str], Any] = str
    switch: bool = False  # a flag without a value (store_true)


@dataclass(frozen=True)
class Request:
    """What one verification reads: the test, the model (None when unknown), the folders and the options.

    ``scenario`` is the folder's scenario when it is known (the tests that need one require it): the runs' logs
    must show it. ``model_name`` is the benchmark name the tree gives when no model spec matches it
    (:func:`compliance.verify.models.resolve`): the checks that need the model's facts are then NOT CHECKABLE,
    where with neither a model nor a name they take the official scripts' defaults.
    """

    test: TestSpec
    model: Model | None
    compliance_dir: Path
    results_dir: Path | None  # the submission's scenario folder (None when the test compares with no run)
    scenario: str | None  # the folder's (submission) scenario, when known; needed by some tests
    options: Mapping[str, Any]
    scratch_dir: Path | None = None  # where a verification may make (and remove) a folder of its own
    model_name: str | None = None  # a benchmark name no model spec matches (model is then None)
    runner: Runner | None = None  # runs an accuracy command (compliance.pipeline.process: only it starts processes)


#: options given (command line, system spec) -> the options a verification uses (model spec, test spec, defaults)
Resolver = Callable[[TestSpec, "Model | None", Mapping[str, Any]], dict[str, Any]]


def no_options(test: TestSpec, model: Model | None, given: Mapping[str, Any]) -> dict[str, Any]:
    """The :data:`Resolver` of a test that takes no options: its thresholds are the test spec's."""
    return {}


@dataclass(frozen=True)
class Verifier:
    """Everything about one compliance test that the rest of the tool needs."""

    name: str  # the test id, e.g. TEST01
    summary: str  # one line, for --help
    reference_runs: tuple[str, ...]  # the submission runs it compares with: "accuracy", "performance"
    needs_scenario: bool  # the scenario must be given (it cannot be read from the logs)
    text_files: tuple[str, ...]  # the official-format text files it writes into TESTxx/
    copies: Mapping[str, str]  # TESTxx/ path -> the input (Result.inputs key) copied there
    options: tuple[Option, ...]
    resolve: Resolver
    verify: Callable[[Request], Result]
    render: Callable[[Result], dict[str, str]]  # the text files' contents, by name
    figures: Callable[[Mapping[str, Any]], str]  # the key figures in one line, from a result's to_dict()
    check_detail: Callable[[Check], str]  # a passing check's figures in a few words (console)
    optional_files: tuple[str, ...] = ()  # files some verifications add (Result.attachments), e.g. TEST01's fallback
    #: the options a benchmark's harness facts in the system spec give (``resolve``'s ``given``; docs/harnesses.md)
    harness_options: Callable[[BenchmarkRun], dict[str, Any]] = lambda run: {}
    #: the warning where those facts and this test's reading of outputs disagree (the spec loader's warnings)
    harness_check: HarnessCheck | None = None
    #: its key figures against their bounds, from a result's to_dict() (the reports' bars, the JSON's numbers)
    measures: Callable[[Mapping[str, Any]], tuple[Measure, ...]] = lambda data: ()

    def files(self) -> tuple[str, ...]:
        """Every file of the verified folder that every verification writes, relative to it."""
        return (*self.text_files, VERIFY_JSON, *self.copies)

    def files_in(self, folder: str | Path) -> tuple[str, ...]:
        """The files of a verified ``folder``: :meth:`files` and the optional files it holds."""
        return self.files() + tuple(n for n in self.optional_files if (Path(folder) / n).is_file())
