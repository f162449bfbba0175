"""validate and simulate must agree on which append fails: the same byte-built streams through both.

validate's rule: an error in the file whose append the simulator fails, or in a file appended before it;
no error at all when the simulator appends everything (the same check score.py makes against Chromium).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from msetool.cli.validate_cmd import _validate_scenario
from msetool.mse.scenario_runner import run_scenario, step_failed
from msetool.rules.engine import ValidateOptions
from msetool.scenario import parse_scenario
from tests.unit.rules import fmp4
from tests.unit.rules.test_bmff_rules import CASES

TYPE = 'video/mp4; codecs="avc1.4D400D"'
EXTRA = [
    ("clean", [fmp4.init(), fmp4.fragment(), fmp4.fragment(decode_time=120, sequence=2)]),
    ("gap", [fmp4.init(), fmp4.fragment(), fmp4.fragment(decode_time=400, sequence=2)]),
    ("codec mismatch", [fmp4.init([fmp4.trak(handler="soun", timescale=48000)]), fmp4.fragment()]),
]


@pytest.mark.parametrize(
    ("name", "parts"),
    [(c[0], c[1]) for c in CASES] + EXTRA,
    ids=[c[0] for c in CASES] + [e[0] for e in EXTRA],
)
def test_same_verdict(tmp_path: Path, name: str, parts: list[bytes]) -> None:
    names = []
    for i, p in enumerate(parts):
        (tmp_path / f"p{i}.m4s").write_bytes(p)
        names.append(f"p{i}.m4s")
    data = {
        "sourceBuffers": [{"id": "sb0", "type": TYPE}],
        "ops": [{"op": "append", "file": n} for n in names],
    }
    case = tmp_path / "case.json"
    case.write_text(json.dumps(data))
    steps = run_scenario(parse_scenario(data, tmp_path))["steps"]
    failed = next((i for i, st in enumerate(steps) if step_failed(st)), None)
    findings, _files, _streams = _validate_scenario(str(case), ValidateOptions())
    errors = {Path(f.file).name for f in findings if f.severity.value == "error"}
    if failed is None:
        assert not errors, f"simulate appends everything, validate reports errors in {errors}"
    else:
        assert errors & set(names[: failed + 1]), f"simulate fails {names[failed]}, validate errors: {errors}"
