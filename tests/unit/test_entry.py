"""The console entry leaves without the interpreter's teardown: the output must still be complete, the exit
codes those documented, and a reader that stops early must not turn into a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "segments"


def run(*args: str, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "msetool", *args], capture_output=True, text=True,
                          check=False, **kw)  # type: ignore[call-overload, no-any-return]


def test_findings_exit_1_with_the_whole_report() -> None:
    r = run("validate", str(SAMPLES / "base-data-offset"), "--format", "json")
    assert r.returncode == 1, r.stderr
    doc = json.loads(r.stdout)  # complete: nothing left in a buffer at exit
    assert doc["summary"]["errors"] > 0 and doc["exit_code"] == 1


def test_clean_input_exits_0_and_usage_errors_exit_2() -> None:
    clean = run("validate", str(SAMPLES / "clean"), "--format", "json")
    assert clean.returncode == 0 and json.loads(clean.stdout)["summary"]["errors"] == 0
    usage = run("validate", "--format", "yaml", str(SAMPLES / "clean"))
    assert usage.returncode == 2 and "yaml" in usage.stderr


def test_a_reader_that_stops_early_gets_no_traceback() -> None:
    cmd = [sys.executable, "-m", "msetool", "validate", str(SAMPLES / "gap"), "--format", "json"]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert p.stdout is not None and p.stderr is not None
    p.stdout.close()  # the pipe is gone before msetool writes
    err = p.stderr.read().decode()
    p.wait(timeout=60)
    assert "Traceback" not in err
