"""docs/rules.md is generated from the catalog and must match it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_rules_md_is_up_to_date() -> None:
    # A fresh interpreter: which module registers an id first must not depend on this test session.
    p = subprocess.run(
        [sys.executable, "-m", "msetool.rules.docgen", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert p.returncode == 0, p.stderr + " (run `python -m msetool.rules.docgen`)"


def test_every_rule_has_consequence_and_spec() -> None:
    from msetool.rules.docgen import load_all

    rules = load_all()
    assert len(rules) > 60
    for r in rules.values():
        assert r.title and r.browser and r.spec, r.id
