"""``msetool verify`` and ``msetool explain``: the simulator checked against real headless Chromium.

verify runs a scenario's operations in Chromium (msetool.browser) and in the simulator and prints both
results side by side; the comparison is the oracle scorer's (msetool.browser.compare), so "same" here
means the scorer would agree. explain takes the error message a browser printed and points at the
segment, box, byte offset and rule that caused it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from msetool.cli.common import CONTEXT_SETTINGS, fail, handle_errors, profile_option
from msetool.errors import UsageError
from msetool.report import exitcodes
from msetool.scenario import Scenario, load_scenario


def _scenario_from_inputs(scenario: str | None, files: tuple[str, ...], mime: str | None) -> Scenario:
    """A scenario file, or files appended in order to one SourceBuffer (like ``simulate FILES``)."""
    if scenario and files:
        raise UsageError("give either --scenario or files, not both")
    if scenario:
        return load_scenario(scenario)
    if not files:
        raise UsageError("nothing to verify: give --scenario FILE or the segment files in append order")
    # The same inputs as simulate: files in append order, a folder, or an mse.json manifest.
    from msetool.cli.simulate_cmd import _scenario_from_files

    from_files: Scenario = _scenario_from_files([Path(f) for f in files], mime, "chromium")
    return from_files


# ---------------------------------------------------------------------------------------------------------
# The simulator side


def run_simulator(scenario: Scenario, profile: str) -> dict[str, Any]:
    """The simulator's result for ``scenario`` in the simulate JSON schema (``steps[i].state``...)."""
    from msetool.mse.scenario_runner import run_scenario as simulate_scenario

    result: dict[str, Any] = simulate_scenario(scenario, profile)
    return result


# ---------------------------------------------------------------------------------------------------------
# Shaping the browser record


def browser_error(step: dict[str, Any]) -> str | None:
    """The browser's own words for a failed step: the exception it threw, or the media error message
    (``PipelineStatus::CHUNK_DEMUXER_ERROR_APPEND_FAILED: ...``) after an append error."""
    exc = step.get("exception")
    if exc:
        return f"{exc.get('name')}: {exc.get('message')}"
    wait = step.get("wait") or {}
    if wait.get("error") or step.get("sbErrorEvent"):
        err = ((step.get("state") or {}).get("video") or {}).get("error") or {}
        if err.get("message"):
            return str(err["message"])
        logged = [m["message"] for m in step.get("mediaLog", []) if m.get("level") == "error"]
        return logged[0] if logged else "append error (error event)"
    if wait.get("how") == "timeout":
        return "the operation never finished (no updateend)"
    return None


def browser_result(record: dict[str, Any]) -> dict[str, Any]:
    """The browser record in the simulate schema: each step gains ``error`` (the message, or null)."""
    out = dict(record)
    steps = []
    for st in record.get("steps", []):
        s = dict(st)
        exc = st.get("exception")
        msg = None if exc else browser_error(st)
        s["error"] = {"message": msg} if msg else None
        steps.append(s)
    out["steps"] = steps
    return out


def differences(browser: dict[str, Any], simulator: dict[str, Any]) -> list[dict[str, Any]]:
    from msetool.browser.compare import step_differences

    out = []
    bsteps, ssteps = browser.get("steps", []), simulator.get("steps", [])
    for i, b in enumerate(bsteps):
        s = ssteps[i] if i < len(ssteps) else {}
        why = [w.replace("vs reference", "vs browser") for w in step_differences(s, b)]
        if why:
            out.append({"step": i, "op": b.get("op"), "what": why})
    return out


def _sim_error(step: dict[str, Any]) -> str | None:
    exc = step.get("exception")
    if exc:
        if isinstance(exc, dict):
            return f"{exc.get('name')}: {exc.get('message')}"
        return f"{exc}: {step.get('exceptionMessage') or ''}".rstrip(": ")
    err = step.get("error")
    if not err:
        return None
    if isinstance(err, dict):
        where = ""
        if err.get("file"):
            where = f" ({err['file']}"
            if err.get("offset") is not None:
                where += f" @{err['offset']}"
            if err.get("box"):
                where += f" {err['box']}"
            where += ")"
        rule = f"{err['rule']}: " if err.get("rule") else ""
        return f"{rule}{err.get('message', '')}{where}"
    return str(err)


def _ranges_text(state: dict[str, Any] | None, sb_ids: list[str]) -> str:
    if not state:
        return "—"
    parts = []
    sbs = state.get("sourceBuffers") or {}
    for sb in sb_ids:
        v = sbs.get(sb)
        if v is None:
            continue
        if v.get("attached") is False or v.get("buffered") is None:
            txt = "detached"
        else:
            txt = " ".join(f"[{_n(a)}, {_n(b)})" for a, b in v.get("buffered") or []) or "—"
        parts.append(txt if len(sb_ids) == 1 else f"{sb}: {txt}")
    return "; ".join(parts) or "—"


def _n(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.6f}".rstrip("0").rstrip(".")
    return str(v)


def render_text(
    scenario: Scenario, browser: dict[str, Any], simulator: dict[str, Any] | None, diffs: list[dict[str, Any]]
) -> str:
    from msetool.report.html import op_label

    sb_ids = [sb.id for sb in scenario.source_buffers]
    by_step = {d["step"]: d["what"] for d in diffs}
    lines = [
        f"verify {scenario.id}: {browser.get('browser', 'Chromium')}"
        + (" vs msetool simulate" if simulator else "")
    ]
    for i, st in enumerate(browser.get("steps", [])):
        label = op_label(st.get("op") or {})
        lines.append(f"{i:>3}  {label}")
        b_err = browser_error(st)
        lines.append(f"       browser   {_ranges_text(st.get('state'), sb_ids)}")
        if b_err:
            lines.append(f"                 ✗ {b_err}")
        if simulator is not None:
            ssteps = simulator.get("steps", [])
            s = ssteps[i] if i < len(ssteps) else {}
            lines.append(f"       simulator {_ranges_text(s.get('state'), sb_ids)}")
            s_err = _sim_error(s)
            if s_err:
                lines.append(f"                 ✗ {s_err}")
            if i in by_step:
                for w in by_step[i]:
                    lines.append(f"       ≠ {w}")
    if simulator is not None:
        n = len(browser.get("steps", []))
        verdict = "same" if not diffs else f"different at {len(diffs)} of {n} operations"
        lines.append(f"verify: {verdict} (buffered, readyState, duration within 1 ms; failures)")
    return "\n".join(lines)


def verify_report_html(
    scenario: Scenario,
    browser: dict[str, Any],
    simulator: dict[str, Any] | None,
    diffs: list[dict[str, Any]],
) -> str:
    """The --html page: both timelines on one axis, each failure with the browser's words and the rule
    msetool found, differing operations highlighted."""
    from msetool.report.html import FindingRow, render_html, timeline_from_steps

    by_step = {d["step"]: list(d["what"]) for d in diffs}
    timelines = [timeline_from_steps("browser", browser.get("steps", []))]
    findings: list[FindingRow] = []
    for st in browser.get("steps", []):
        msg = browser_error(st)
        if msg and not st.get("exception"):
            op = st.get("op") or {}
            findings.append(
                FindingRow("error", "browser", f"step {st.get('index')}: {msg}", str(op.get("file", "")))
            )
    if simulator is not None:
        timelines.append(timeline_from_steps("simulator", simulator.get("steps", []), by_step))
        for st in simulator.get("steps", []):
            err = st.get("error")
            if isinstance(err, dict) and err.get("message"):
                op = st.get("op") or {}
                findings.append(
                    FindingRow(
                        "error",
                        str(err.get("rule") or "simulator"),
                        f"step {st.get('index')}: {err.get('message', '')}",
                        str(err.get("file") or op.get("file") or ""),
                        err.get("offset") if isinstance(err.get("offset"), int) else None,
                        str(err.get("box") or ""),
                    )
                )
    verdict = (
        "" if simulator is None else ("browser = simulator" if not diffs else f"{len(diffs)} difference(s)")
    )
    return render_html(
        title=f"verify {scenario.id}",
        command="verify",
        findings=findings,
        timelines=timelines,
        meta={"browser": str(browser.get("browser", "")), "scenario": scenario.id},
        verdict=verdict,
    )


def write_text_atomic(path: Path, text: str) -> None:
    """Write via a temporary file and rename, so an interrupted run never leaves half a report."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise UsageError(f"{path}: cannot write: {e.strerror or e}") from None


@click.command(context_settings=CONTEXT_SETTINGS)
@click.argument("files", nargs=-1, type=click.Path())
@click.option("--scenario", type=click.Path(dir_okay=False), help="Scenario file (JSON or YAML).")
@click.option("--type", "mime", help="addSourceBuffer() type for FILES (default: detected from the bytes).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format.",
)
@profile_option
@click.option(
    "--browser-only", is_flag=True, help="Only record what Chromium does (no simulator, no comparison)."
)
@click.option(
    "--html", "html_path", type=click.Path(dir_okay=False), help="Also write a self-contained HTML report."
)
@click.option(
    "--chromium", "chromium", envvar="MSETOOL_CHROMIUM", help="Chromium binary (default /usr/bin/chromium)."
)
@click.option(
    "--fast", is_flag=True, help="Do not wait for Chromium's batched media log after each operation."
)
@handle_errors
def verify(  # noqa: PLR0917 - click passes options positionally
    files: tuple[str, ...],
    scenario: str | None,
    mime: str | None,
    fmt: str,
    profile: str,
    browser_only: bool,
    html_path: str | None,
    chromium: str | None,
    fast: bool,
) -> None:
    """Run the operations in real headless Chromium and in the simulator and compare them.

    Prints, per operation, the buffered ranges and errors both report. Exit 0 when they agree (ranges,
    readyState and duration within 1 ms, same failures), 1 when they differ (or, with --browser-only,
    when an operation failed in the browser), 2 when Chromium is missing or the input is unusable.
    """
    from msetool.browser import INSTALL_HINT, ChromiumHarness, Settle, find_chromium

    sc = _scenario_from_inputs(scenario, files, mime)
    if find_chromium(chromium) is None:
        fail(f"Chromium not found: {INSTALL_HINT}", exitcodes.USAGE)
    simulator: dict[str, Any] | None = None
    if not browser_only:
        simulator = run_simulator(sc, profile)
    settle = Settle(media_log_ms=0) if fast else Settle()
    with ChromiumHarness(chromium, settle) as h:
        record = h.run(sc)
    browser = browser_result(record)
    diffs = differences(browser, simulator) if simulator is not None else []
    if html_path:
        write_text_atomic(Path(html_path), verify_report_html(sc, browser, simulator, diffs))
    if fmt == "json":
        doc: dict[str, Any] = {"browser": browser, "simulator": simulator, "differences": diffs}
        if simulator is not None:
            doc["same"] = not diffs
        click.echo(json.dumps(doc, indent=1))
    else:
        click.echo(render_text(sc, browser, simulator, diffs))
    if simulator is not None:
        sys.exit(exitcodes.FINDINGS if diffs else exitcodes.OK)
    from msetool.browser.compare import failed

    sys.exit(exitcodes.FINDINGS if any(failed(s) for s in browser["steps"]) else exitcodes.OK)


@click.command(context_settings=CONTEXT_SETTINGS)
@click.argument("message")
@click.argument("files", nargs=-1, type=click.Path())
@click.option("--scenario", type=click.Path(dir_okay=False), help="Scenario the page ran (instead of FILES).")
@click.option("--type", "mime", help="addSourceBuffer() type for FILES (default: detected from the bytes).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@handle_errors
def explain(message: str, files: tuple[str, ...], scenario: str | None, mime: str | None, fmt: str) -> None:
    """Point a browser's MSE error MESSAGE at the segment, box, byte offset and rule that caused it.

    MESSAGE is what the player logged or chrome://media-internals showed (e.g. "PipelineStatus::
    CHUNK_DEMUXER_ERROR_APPEND_FAILED: Found Cluster element before Info."); use "-" to read it from
    stdin. FILES are the segments in the order they were appended (or give --scenario). Exit 0 when the
    cause was located, 1 when msetool found nothing matching, 2 on bad input.
    """
    from msetool.browser.explain import explain as run_explain
    from msetool.browser.explain import render_explanation

    if message == "-":
        message = sys.stdin.read()
    if not message.strip():
        raise UsageError("empty message: paste the browser's error text (or '-' to read stdin)")
    sc = _scenario_from_inputs(scenario, files, mime) if (scenario or files) else None
    result = run_explain(message, sc)
    if fmt == "json":
        click.echo(json.dumps(result, indent=1))
    else:
        click.echo(render_explanation(result))
    sys.exit(exitcodes.OK if result.get("located") else exitcodes.FINDINGS)
