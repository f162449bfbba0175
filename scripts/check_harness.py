#!/usr/bin/env python3
"""Check msetool's browser harness against the oracle's golden files (same Chromium build).

  python scripts/check_harness.py [--cases DIR] [--golden DIR] [--only PREFIX] [--json OUT] [-v]

For every case, runs its operations in headless Chromium through msetool.browser (one browser for the
whole run, a new page per case: exactly what ``msetool verify`` records as its "browser" side) and
compares each step with the golden file the way ``score.py simulate`` compares the simulator: every
attached source buffer's buffered ranges (same count, ends within 1 ms), MediaSource readyState and
duration (within 1 ms), and whether the operation failed (an exception, or an append that ended in an
error event). It also reports, without counting them, differences in the media element's error code.
It then checks verify's verdict: the simulator compared with this browser run ("same"/"different", what
``msetool verify`` prints) must equal the simulator compared with the golden file (what ``score.py
simulate`` says for that case). Exit 0 only when every step of every case agrees and every verdict matches.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ORACLE = Path("/work/shared/oracle")


def _events(step: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["target"], e["type"]) for e in step.get("events", []) if e["type"] != "progress"]


def _log(step: dict[str, Any]) -> list[str]:
    return [
        str(m.get("message") or (m.get("error") or {}).get("errorType"))
        for m in step.get("mediaLog", [])
        if m.get("kind") == "error" or m.get("level") in ("error", "warning")
    ]


def main() -> int:
    from msetool.browser import ChromiumHarness
    from msetool.browser.compare import step_differences
    from msetool.cli.verify_cmd import browser_result, differences, run_simulator
    from msetool.scenario import load_scenario

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=Path, default=ORACLE / "corpus")
    ap.add_argument("--golden", type=Path, default=ORACLE / "golden" / "chromium-156")
    ap.add_argument("--only", default="")
    ap.add_argument("--json", type=Path, help="write every browser record to this file")
    ap.add_argument("-v", action="store_true", help="print every case, not only those that differ")
    args = ap.parse_args()

    names = sorted(
        p.name
        for p in args.cases.iterdir()
        if p.name.startswith(args.only)
        and (p / "case.json").is_file()
        and (args.golden / f"{p.name}.json").is_file()
    )
    steps_ok = steps_all = cases_ok = verdicts_ok = events_ok = log_ok = 0
    records: dict[str, Any] = {}
    t0 = time.monotonic()
    with ChromiumHarness() as h:
        for name in names:
            scenario = load_scenario(args.cases / name / "case.json")
            gold = json.loads((args.golden / f"{name}.json").read_text())
            rec = h.run(scenario)
            records[name] = rec
            bad = []
            for i, g in enumerate(gold["steps"]):
                b = rec["steps"][i] if i < len(rec["steps"]) else {}
                why = step_differences(b, g)
                gv = ((g.get("state") or {}).get("video") or {}).get("error")
                bv = ((b.get("state") or {}).get("video") or {}).get("error")
                if (gv or {}).get("code") != (bv or {}).get("code"):
                    print(f"  note: {name} step {i}: video error {bv} vs golden {gv}")
                # Not scored, reported: the DOM events (progress is timer-driven) and the media log's
                # error/warning lines per step.
                events_ok += _events(b) == _events(g)
                log_ok += _log(b) == _log(g)
                if why:
                    bad.append(f"  step {i} {g['op'].get('op')} {g['op'].get('file', '')}: " + "; ".join(why))
            # verify's verdict vs the scorer's, for the simulator as it is today.
            try:
                sim = run_simulator(scenario, "chromium")
            except Exception as e:  # a simulator crash is the simulator's problem, not the harness's
                print(f"  note: {name}: simulator failed: {type(e).__name__}: {e}")
                sim = {"steps": []}
            verify_same = not differences(browser_result(rec), sim)
            score_same = all(
                not step_differences(sim["steps"][i] if i < len(sim["steps"]) else {}, g)
                for i, g in enumerate(gold["steps"])
            )
            verdicts_ok += verify_same == score_same
            if verify_same != score_same:
                words = {True: "same", False: "different"}
                print(f"  verdict mismatch: {name}: verify {words[verify_same]}, score {words[score_same]}")
            elif args.v:
                print(f"  verdict: {name}: {'same' if verify_same else 'different'} (agrees with score.py)")
            n = len(gold["steps"])
            steps_all += n
            steps_ok += n - len(bad)
            cases_ok += not bad
            if bad or args.v:
                print(f"{name}: {n - len(bad)}/{n} steps agree ({rec['wall_seconds']} s)")
                for line in bad:
                    print(line)
    if args.json:
        args.json.write_text(json.dumps(records, indent=1))
    print(
        f"harness: {steps_ok}/{steps_all} steps and {cases_ok}/{len(names)} cases agree with the golden "
        f"files; verify's verdict matches score.py on {verdicts_ok}/{len(names)} cases "
        f"({time.monotonic() - t0:.0f} s)"
    )
    print(
        f"also: DOM events (besides progress) {events_ok}/{steps_all} steps, "
        f"media log errors/warnings {log_ok}/{steps_all}"
    )
    return 0 if steps_ok == steps_all and verdicts_ok == len(names) and names else 1


if __name__ == "__main__":
    sys.exit(main())
