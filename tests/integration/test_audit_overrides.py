"""A system's audit_overrides and the {audit_config} placeholder, through the pipeline with real LoadGen runs.

A deviation from the official audit settings is applied by LoadGen (the audit evidence check expects the overridden
value), told in the staged audit.config, in the TEST folder's verify.json (a finding, and the settings) and in the
summary's findings. ``{audit_config}`` is the path of the staged file while the compliance run runs.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers.projects import DEMO, audit_configs, doit, make_project, summary_rows

SYSTEM = f"""\
name: dev
round: v5.0
division: closed
submitter: Acme
submission_dir: submission
timeout: 120
upload: {{performance_rules: false}}
benchmarks:
  resnet:
    scenarios: [Offline]
    workdir: work/dev/resnet
    # a harness that takes the audit file's path: it must exist while the compliance run runs
    command: "test -f {{audit_config}} && {DEMO}"
    reference: {{command: "{DEMO}"}}
    audit_overrides:
      TEST04: {{Offline: {{performance_issue_same_index: 5}}}}
"""
DEVIATION = (
    "TEST04 audit setting performance_issue_same_index = 5 deviates from the official audit.config, which sets 3 "
    "(audit_overrides of the system spec)"
)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("mlperf_loadgen")
    root = make_project(tmp_path_factory.mktemp("overrides"), {"dev": SYSTEM})
    result = doit(root)
    assert result.returncode == 0
    return root


def test_the_deviation_is_applied_and_told_everywhere(project: Path) -> None:
    rows = {r["test"]: r for r in summary_rows(project) if r["benchmark"] == "resnet"}
    assert rows["TEST04"]["status"] == "PASS" and DEVIATION in [f["message"] for f in rows["TEST04"]["findings"]]
    assert rows["TEST01"]["status"] == "PASS" and not any(
        "deviates" in f["message"] for f in rows["TEST01"]["findings"]
    )
    folder = project / "submission/closed/Acme/compliance/dev/resnet/Offline/TEST04"
    verified = json.loads((folder / "verify.json").read_text())
    assert DEVIATION in [f["message"] for f in verified["findings"]]
    assert verified["settings"]["audit_deviations"] == {
        "performance_issue_same_index": {"key": "performance_issue_same_index", "value": 5, "official": 3}
    }
    applied = next(c for c in verified["checks"] if c["name"] == "audit config in effect")
    assert applied["outcome"] == "PASS" and applied["figures"]["expected"]["performance_issue_same_index"] == 5
    detail = (folder / "performance/run_1/mlperf_log_detail.txt").read_text()
    assert '"key": "effective_performance_issue_same_index", "value": 5' in detail
    assert audit_configs(project) == []


def test_the_audit_config_placeholder_is_the_staged_file(project: Path) -> None:
    """The compliance runs passed 'test -f {audit_config}' (their rows PASS above): the path they were given is the
    staged audit.config in the working directory, where nothing is left after the runs."""
    staged = project / "work/dev/resnet/audit.config"
    for test in ("TEST01", "TEST04"):
        record = json.loads((project / f"build/dev/resnet/Offline/{test}/run.json").read_text())
        assert record["status"] == "PASS", record
        assert record["fields"]["command"].startswith(f"test -f {staged} && "), record["fields"]["command"]
    assert not staged.exists()
