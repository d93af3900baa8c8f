"""Acceptance: the demo's submission trees through the official chain after the tool (docs/upload.md, "Measured").

For every submission tree the project's specs write (the quick start builds ``build/submission-v5.0`` and
``-v6.0``), at the round's own commit of mlcommons/inference (``performance_rules.commit`` of the round spec) and at
the checkout's newest commit (``--commit`` names others), on COPIES of the tree, in variants:

* ``completed``: the tree plus the submitter's files (systems/<system>.json with every field the checker requires,
  each results folder's accuracy.txt, the measurements description, user.conf, README.md, the code folder);
* ``relaxed``: completed, and the settings only a demo has moved into the round's ranges in the copies' detail
  logs (the round's seeds, 600 s, the performance sample count, Offline samples per query, the accuracy runs'
  dataset size; TEST07/TEST09 keep what their official audit.configs set);
* ``relaxed-without-crashing``: relaxed without the benchmarks the tool's pre-flight warned preprocess crashes on
  (C1), what a submitter would preprocess next.

Each copy goes through ``truncate_accuracy_log.py`` (with a backup), the submission checker (the modular one, or the
single-file one of older commits, ``--version`` the round), ``preprocess_submission.py`` and
``repository_checks.sh``. It reports, per tree, commit and variant: the files the tool wrote that truncation changed
(none is the goal), files over 50 MiB after truncation, the checker's verdict per cell and its compliance messages,
preprocess's exit status and the cells it moved to open, and whether the tool's pre-flight (run on the tree itself)
warned where the chain crashed. Prints a table; ``--json FILE`` writes every figure.

Run from the project (after ``doit``): ``python bench/official_chain.py CHECKOUT``, where CHECKOUT is a checkout of
mlcommons/inference (a git working tree, or a bare repository: each commit's ``tools/submission`` is laid out from
its history, blob by blob; without history only the checkout as it is runs).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(HERE))

from compliance.plan import build_plan, load_specs  # noqa: E402
from compliance.review import chain  # noqa: E402
from compliance.review.checker_log import CellPlace, verdicts  # noqa: E402
from compliance.review.preflight import Options, preflight  # noqa: E402
from compliance.specs.types import Round  # noqa: E402
from compliance.submission import truncation  # noqa: E402

SYSTEM_FIELDS = (
    "number_of_nodes host_processor_model_name host_processors_per_node host_processor_core_count host_memory_capacity "
    "host_storage_capacity host_storage_type accelerators_per_node accelerator_model_name accelerator_memory_capacity "
    "framework operating_system other_software_stack host_processor_frequency host_processor_caches "
    "host_memory_configuration host_processor_interconnect host_networking host_networking_topology "
    "accelerator_frequency accelerator_host_interconnect accelerator_interconnect accelerator_interconnect_topology "
    "accelerator_memory_configuration accelerator_on-chip_memories cooling hw_notes sw_notes host_network_card_count "
    "system_type_detail"
).split()
MEASUREMENT_FIELDS = (
    "input_data_types",
    "retraining",
    "starting_weights_filename",
    "weight_data_types",
    "weight_transformations",
)
#: what the official audit.configs set on any system (kept by relax): TEST07/TEST09 run over a fixed set, no duration
KEPT = ("TEST07", "TEST09")


def git_dir(checkout: Path) -> str | None:
    for args in (["-C", str(checkout), "rev-parse", "--git-dir"], ["--git-dir", str(checkout), "rev-parse", "HEAD"]):
        found = subprocess.run(["git", *args], capture_output=True, text=True)
        if found.returncode == 0:
            return str(checkout / found.stdout.strip()) if args[0] == "-C" else str(checkout)
    return None


def lay_out(checkout: Path, commit: str, dest: Path) -> tuple[Path, str]:
    """``tools/submission`` of ``commit`` under ``dest`` (the checkout itself for HEAD of a working tree); the
    folder and the full commit id."""
    where = git_dir(checkout)
    if where is None:
        if commit != "HEAD":
            raise SystemExit(f"{checkout}: no git history, so no commit {commit}")
        return checkout, "HEAD"
    full = subprocess.run(["git", "--git-dir", where, "rev-parse", commit], capture_output=True, text=True)
    if full.returncode:
        raise SystemExit(f"{checkout}: no commit {commit}")
    sha = full.stdout.strip()
    if commit == "HEAD" and (checkout / "tools/submission").is_dir():
        return checkout, sha
    target = dest / sha[:8]
    if not (target / "tools/submission").is_dir():
        names = subprocess.run(
            ["git", "--git-dir", where, "ls-tree", "-r", "--name-only", sha, "tools/submission"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split("\n")
        for name in filter(None, names):
            blob = subprocess.run(["git", "--git-dir", where, "cat-file", "blob", f"{sha}:{name}"], capture_output=True)
            if blob.returncode == 0:  # a partial mirror may lack a sample file's blob
                (target / name).parent.mkdir(parents=True, exist_ok=True)
                (target / name).write_bytes(blob.stdout)
    return target, sha


#: a line of an accuracy script's output per metric, in the form the checker's ACC_PATTERN reads (facts of the
#: official accuracy scripts' output)
LINES = {
    "acc": "accuracy={v}%",
    "DICE": "Accuracy: mean = {v}",
    "mAP": "mAP={v}",
    "F1": '{{"exact_match": 90.0, "f1": {v}}}',
    "ACCURACY": "Word Error Rate: 3.0%, accuracy={v}%",
    "DLRM_NE": "metric/lifetime_ne/rating: {v}",
    "DLRM_ACC": "metric/lifetime_accuracy/rating: {v}",
    "DLRM_AUC": "metric/lifetime_gauc/rating: {v}",
    "F1_HIERARCHICAL": '{{"f1": {v}}}',
}
LOWER = {
    "ROUGE1": "rouge1",
    "ROUGE2": "rouge2",
    "ROUGEL": "rougeL",
    "ROUGELSUM": "rougeLsum",
    "GEN_LEN": "gen_len",
    "TOKENS_PER_SAMPLE": "tokens_per_sample",
    "CLIP_SCORE": "CLIP_SCORE",
    "FID_SCORE": "FID_SCORE",
    "gsm8k_accuracy": "gsm8k",
    "mbxp_accuracy": "mbxp",
    "exact_match": "exact_match",
    "vbench_score": "vbench_score",
}


def _accuracy(rnd: Round, benchmark: str) -> str:
    """A synthetic accuracy.txt: each metric of the round's targets just above it (below an upper limit)."""
    table = rnd.accuracy.get(benchmark, {})
    lines = []
    for metric, target in table.get("targets", {}).items():
        upper = table.get("upper_limits", {}).get(metric)
        value = (target + upper) / 2 if upper is not None else target * 1.01
        template = LINES.get(metric) or "{{'" + LOWER.get(metric, metric) + "': {v}}}"
        lines.append(template.format(v=f"{value:.6f}"))
    return "\n".join(lines or ["accuracy=100.0%"]) + "\n"


def complete(root: Path, systems: list[Any], rnd: Round) -> None:
    """The submitter's files, as the round's tree expects them (docs/rules.md §8.3)."""
    for system in systems:
        org = root / system.division / system.submitter
        desc: dict[str, Any] = dict.fromkeys(SYSTEM_FIELDS, "n/a")
        desc |= {
            "number_of_nodes": 1,
            "accelerators_per_node": 1,
            "host_processors_per_node": 1,
            "host_processor_core_count": 8,
            "division": system.division,
            "submitter": system.submitter,
            "status": "available",
            "system_name": system.name,
            "system_type": "datacenter,edge",
        }
        _write(org / "systems" / f"{system.name}.json", json.dumps(desc, indent=1))
        for benchmark, run in system.benchmarks.items():
            code = root / chain.code_folder(rnd, system.division, system.submitter) / benchmark
            _write(code / ("README.md" if chain.v6_layout(rnd) else "demo/README.md"), "the demo's harness\n")
            for scenario in run.scenarios:
                for wanted in chain.user_files(
                    rnd, system.division, system.submitter, system.name, benchmark, scenario
                ):
                    if wanted.folder:
                        continue
                    path = root / wanted.path.replace(f"{system.name}*.json", f"{system.name}_demo_{scenario}.json")
                    if path.name == "accuracy.txt":
                        text = _accuracy(rnd, benchmark)
                    elif path.suffix == ".json":
                        text = json.dumps(dict.fromkeys(MEASUREMENT_FIELDS, "demo"))
                    else:
                        text = f"{path.name} of the demo\n"
                    _write(path, text)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _set(text: str, values: dict[str, Any]) -> str:
    out = []
    for line in text.splitlines():
        if line.startswith(":::MLLOG "):
            record = json.loads(line[9:])
            if record.get("key") in values:
                record["value"] = values[record["key"]]
                line = ":::MLLOG " + json.dumps(record)
        out.append(line)
    return "\n".join(out) + "\n"


def relax(root: Path, rnd: Round) -> list[str]:
    """Move the demo's settings into the round's ranges in every detail log of the copy; what was changed."""
    changed = []
    for path in sorted(root.rglob("mlperf_log_detail.txt")):
        parts = path.relative_to(root).parts
        benchmark = parts[4]
        test = next((p for p in parts if p.startswith("TEST")), "")
        values: dict[str, Any] = {}
        if rnd.seeds is not None:
            values |= {
                "effective_qsl_rng_seed": rnd.seeds.qsl,
                "effective_sample_index_rng_seed": rnd.seeds.sample_index,
                "effective_schedule_rng_seed": rnd.seeds.schedule,
            }
        data = rnd.datasets.get(benchmark, {})
        if "accuracy" in parts and not test:
            count = data.get("accuracy_samples", data.get("size"))
            values |= {"qsl_reported_total_count": count, "effective_accuracy_sample_count": count}
        elif test not in KEPT and rnd.rules is not None:
            values["effective_min_duration_ms"] = rnd.rules.min_duration_ms
            values["effective_performance_sample_count"] = data.get("performance_samples")
            if parts[5] == "Offline":
                values["effective_samples_per_query"] = rnd.rules.offline_min_samples_per_query.get(benchmark)
            if chain.equal_issue(rnd, benchmark, parts[0]):
                values["effective_sample_concatenate_permutation"] = True
        values = {k: v for k, v in values.items() if v is not None}
        text = path.read_text(encoding="utf-8")
        new = _set(text, values)
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed.append(str(path.relative_to(root)))
    return changed


def _run(command: list[str], cwd: Path, log: Path) -> tuple[int, str]:
    with open(log, "w", encoding="utf-8") as out:
        done = subprocess.run(command, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, timeout=3600)
    return done.returncode, log.read_text(encoding="utf-8", errors="replace")


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def chain_once(tools: Path, tree: Path, work: Path, rnd: Round, places: list[CellPlace], org: str) -> dict[str, Any]:
    """truncate, checker, preprocess and repository_checks on the copy ``tree``: the figures."""
    out: dict[str, Any] = {}
    before = _files(tree)
    backup = ["--backup", str(work / "backup")]
    command = [sys.executable, "truncate_accuracy_log.py", "--input", str(tree), "--submitter", org, *backup]
    rc, log = _run(command, tools, work / "truncate.log")
    after = _files(tree)
    changed = sorted(n for n in before if n in after and before[n] != after[n])
    tests = [n for n in changed if "/TEST" in n]
    logs = [n for n in changed if n not in tests and n.endswith("mlperf_log_accuracy.json")]
    # the results logs the tool copied: cut as the tool accepts them (docs/rules.md §8.3); accuracy.txt is the user's
    out["results_logs_cut_as_accepted"] = all(after[n] == truncation.cut_data(before[n]) for n in logs)
    out["truncate"] = {
        "rc": rc,
        "changed_in_test_folders": tests,
        "changed_elsewhere": sorted(set(changed) - set(tests)),
        "created": sorted(set(after) - set(before)),
    }
    out["over_50_mib"] = sorted(n for n, b in after.items() if len(b) > chain.SIZE_LIMIT)
    modular = (tools / "submission_checker" / "main.py").is_file()
    checker = ["-m", "submission_checker.main"] if modular else ["submission_checker.py"]
    args = ["--input", str(tree), "--version", rnd.name, "--submitter", org, "--csv", str(work / "summary.csv")]
    rc, log = _run([sys.executable, *checker, *args], tools, work / "checker.log")
    found = verdicts(log, places, rc)
    compliance = [m for m in log.splitlines() if "ERROR" in m and ("ompliance" in m or "/TEST0" in m)]
    out["checker"] = {
        "rc": rc,
        "cells": {_label(p): v.status for p, v in found.items()},
        "compliance_errors": compliance[:20],
    }
    pre = work / "pre"
    command = [
        sys.executable,
        "preprocess_submission.py",
        "--input",
        str(tree),
        "--output",
        str(pre),
        "--submitter",
        org,
        "--version",
        rnd.name,
    ]
    rc, log = _run(command, tools, work / "preprocess.log")
    moved = re.finditer(r"Moving (?:other scenario results of )?(\S+) (?:results )?to open", log)
    removed = re.finditer(r"result is invalid for \S+ (\S+) in .*Removing", log)
    kept = [
        _label(p)
        for p in places
        if (pre / p.division / p.org / "results" / p.system / p.benchmark / p.scenario).is_dir()
    ]
    out["preprocess"] = {
        "rc": rc,
        "crash": _crash(log) if rc else "",
        "moved_to_open": sorted({m.group(1) for m in moved}),
        "removed": sorted({m.group(1) for m in removed}),
        "closed_cells": kept,
        "lost_cells": sorted({_label(p) for p in places} - set(kept)),
    }
    rc, log = _run(["bash", "repository_checks.sh", str(tree)], tools, work / "repository_checks.log")
    out["repository_checks"] = {"rc": rc, "output": log.strip()[:400]}
    return out


def _label(p: CellPlace) -> str:
    return f"{p.system}/{p.benchmark}/{p.scenario}"


def _crash(log: str) -> str:
    lines = [line for line in log.splitlines() if line.strip()]
    return lines[-1] if lines and "Error" in lines[-1] else ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("checkout", type=Path, help="a checkout of mlcommons/inference (working tree or bare)")
    parser.add_argument("--commit", action="append", help="commits to run (default: each round's own, and HEAD)")
    parser.add_argument("--project", type=Path, default=Path.cwd(), help="the project holding specs/ and build/")
    parser.add_argument("--work", type=Path, default=None, help="scratch folder (default: build/official-chain)")
    parser.add_argument("--json", type=Path, help="write every figure here")
    args = parser.parse_args()
    os.chdir(args.project)
    plan = build_plan(load_specs("specs"))
    work = (args.work or Path("build/official-chain")).resolve()
    shutil.rmtree(work, ignore_errors=True)
    report: list[dict[str, Any]] = []
    for tp in plan.trees:
        rnd = plan.specs.rounds[tp.round]
        systems = [plan.specs.systems[s] for s in tp.systems]
        org = systems[0].submitter
        places = [
            CellPlace(s.division, s.submitter, s.name, b, sc)
            for s in systems
            for b, r in sorted(s.benchmarks.items())
            for sc in sorted(r.scenarios)
        ]
        flight = preflight(
            tp.submission_dir, plan.specs, Options(tp.round, systems=tp.systems, no_performance_rules=tp.systems)
        )
        warned = sorted({r.key.benchmark for r in flight.records for f in r.findings if f.message.startswith("C1:")})
        defects = sorted({f.message[:2] for r in flight.records for f in r.findings if f.rule == "official-defect"})
        defects += ["C7"] if any("C7:" in f.message for r in flight.records for f in r.findings) else []
        commits = args.commit or [rnd.rules.commit if rnd.rules else "HEAD", "HEAD"]
        for commit in dict.fromkeys(commits):
            tools_root, sha = lay_out(args.checkout.resolve(), commit, work / "checkouts")
            tools = tools_root / "tools/submission"
            for variant in ("raw", "completed", "relaxed", "relaxed-without-crashing"):
                if variant.endswith("crashing") and not warned:
                    continue
                here = work / Path(tp.submission_dir).name / sha[:8] / variant
                tree = here / "tree"
                shutil.copytree(tp.submission_dir, tree, symlinks=True)
                if variant != "raw":
                    complete(tree, systems, rnd)
                relaxed = relax(tree, rnd) if variant.startswith("relaxed") else []
                kept = places
                if variant.endswith("crashing"):
                    for benchmark in warned:
                        for folder in tree.glob(f"*/{org}/*/*/{benchmark}"):
                            shutil.rmtree(folder)
                    kept = [p for p in places if p.benchmark not in warned]
                start = time.monotonic()
                figures = chain_once(tools, tree, here, rnd, kept, org)
                figures |= {
                    "tree": tp.submission_dir,
                    "round": rnd.name,
                    "commit": sha,
                    "variant": variant,
                    "relaxed_logs": len(relaxed),
                    "preflight_warned_c1": warned,
                    "preflight_defects": defects,
                    "seconds": round(time.monotonic() - start, 1),
                }
                report.append(figures)
                _print(figures, kept)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1), encoding="utf-8")
    return 0


def _print(f: dict[str, Any], places: list[CellPlace]) -> None:
    pre, trunc = f["preprocess"], f["truncate"]
    test01 = sorted({p.benchmark for p in places if p.benchmark in ("resnet", "3d-unet-99")})
    lost01 = [c for c in pre["lost_cells"] if c.split("/")[1] in test01]
    crash = f" crashed: {pre['crash']} (pre-flight warned C1: {', '.join(f['preflight_warned_c1']) or 'no'})"
    if pre["rc"] == 2:
        crash = f" refused the round (pre-flight warned: {', '.join(f['preflight_defects']) or 'no'})"
    accepted = sum(v == "PASS" for v in f["checker"]["cells"].values())
    kept = (
        "no finished output to count cells in (what it left before it stopped is not counted)"
        if pre["crash"] or pre["rc"] == 2
        else f"cells still closed {len(pre['closed_cells'])}/{len(places)} (lost: "
        f"{', '.join(pre['lost_cells']) or 'none'}; TEST01 cells lost: {', '.join(lost01) or 'none'})"
    )
    print(
        f"{f['tree']} @ {f['commit'][:8]} {f['variant']}:\n"
        f"  truncate: {len(trunc['changed_in_test_folders'])} files of TEST folders changed, "
        f"{len(trunc['changed_elsewhere'])} results files cut or hashed "
        f"({'as the tool accepts' if f['results_logs_cut_as_accepted'] else 'NOT as the tool accepts'}), "
        f"{len(trunc['created'])} created; over 50 MiB after it: {len(f['over_50_mib'])}\n"
        f"  checker: {accepted}/{len(f['checker']['cells'])} cells accepted, "
        f"{len(f['checker']['compliance_errors'])} compliance errors\n"
        f"  preprocess: rc {pre['rc']}{crash if pre['crash'] or pre['rc'] == 2 else ''}; {kept}  [{f['seconds']} s]"
    )


if __name__ == "__main__":
    sys.exit(main())
