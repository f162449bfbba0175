"""The HTML report, checked where it is read: rendered in headless Chromium.

A scenario with a gap (segment 2 of 4 skipped) is run in the browser and in the simulator; the page must
show the gap as an element between the two buffered bars, make no network request, and its timeline
must look right in a screenshot (pixel colours at the places the data puts the bars and the gap).
docs/report-screenshot.png (the README picture) is regenerated with MSETOOL_UPDATE_SCREENSHOT=1.
"""

from __future__ import annotations

import base64
import os
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from msetool.browser import ChromiumHarness, Settle
from msetool.browser.compare import same_number
from msetool.report.html import (
    FindingRow,
    Timeline,
    TimelineStep,
    gaps_of,
    render_html,
    timeline_from_steps,
)
from msetool.scenario import parse_scenario

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "docs" / "report-screenshot.png"
TYPE = 'video/mp4; codecs="avc1.4D400D"'
RANGE_RGB = (0x2F, 0x7D, 0xE1)  # --range in report.css
SIM_RGB = (0x16, 0xA0, 0x85)  # --sim


def test_gaps_of_and_escaping() -> None:
    assert gaps_of([(0, 1), (2, 3), (3, 4)]) == [(1, 2)]
    assert gaps_of([(2, 3), (0, 1)]) == [(1, 2)]
    assert gaps_of(None) == []
    page = render_html(
        title="<x>",
        command="validate",
        findings=[FindingRow("error", "BMFF-X", "<script>alert(1)</script>", "a&b.m4s", 12, "moof/traf")],
    )
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    assert "a&amp;b.m4s" in page
    assert "http://" not in page and "https://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")


@pytest.fixture(scope="module")
def gap_report(browser: Any, avc_segments: tuple[Path, list[Path]]) -> dict[str, Any]:
    """Browser and simulator results of init, seg1, seg3, seg4 (seg2 skipped), and the report page."""
    init, segs = avc_segments
    sc = parse_scenario(
        {
            "id": "gap",
            "sourceBuffers": [{"id": "sb0", "type": TYPE}],
            "ops": [
                {"op": "append", "file": n} for n in ("init.mp4", segs[0].name, segs[2].name, segs[3].name)
            ],
        },
        init.parent,
    )
    rec = ChromiumHarness(browser=browser, settle=Settle(media_log_ms=0, quiet_ms=150)).run(sc)
    from msetool.cli.verify_cmd import browser_result, differences, run_simulator, verify_report_html

    browser_side = browser_result(rec)
    sim = run_simulator(sc, "chromium")
    diffs = differences(browser_side, sim)
    page = verify_report_html(sc, browser_side, sim, diffs)
    return {"page": page, "browser": browser_side, "differences": diffs}


@pytest.fixture()
def page(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    p = ctx.new_page()
    yield p
    ctx.close()


def test_rendered_report_shows_the_gap(gap_report: dict[str, Any], page: Any) -> None:
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.set_content(gap_report["page"])
    assert requests == []  # self-contained: nothing fetched at view time

    last = gap_report["browser"]["steps"][-1]["state"]["sourceBuffers"]["sb0"]["buffered"]
    assert len(last) == 2  # what the browser itself reports: [0,1) and [2,4)
    want_start, want_end = last[0][1], last[1][0]

    lane = page.locator('svg.timeline g.lane[data-series="browser"][data-step="3"]')
    gaps = lane.locator("rect.gap")
    assert gaps.count() == 1
    assert same_number(float(gaps.first.get_attribute("data-start")), want_start)
    assert same_number(float(gaps.first.get_attribute("data-end")), want_end)
    assert gaps.first.is_visible()
    # Geometrically the gap sits between the two bars of that row.
    bars = [b.bounding_box() for b in lane.locator("rect.range").all()]
    gap = gaps.first.bounding_box()
    assert len(bars) == 2 and gap is not None
    assert abs(gap["x"] - (bars[0]["x"] + bars[0]["width"])) < 2
    assert abs(gap["x"] + gap["width"] - bars[1]["x"]) < 2
    # No gap before seg3 arrived; the summary counts the gaps left at the end.
    assert page.locator('svg.timeline g.lane[data-series="browser"][data-step="1"] rect.gap').count() == 0
    assert page.locator("#final-gaps").get_attribute("data-count") == "1"
    assert page.locator("#no-findings").count() == 1  # nothing failed in either
    assert page.locator("#verdict").inner_text() == (
        "browser = simulator"
        if not gap_report["differences"]
        else f"{len(gap_report['differences'])} difference(s)"
    )
    assert page.locator("#steps tr.step").count() == 4


def _pixels(page: Any, png: bytes, points: list[tuple[float, float]]) -> list[tuple[int, int, int]]:
    """RGB at points of a PNG, decoded by the browser itself (no imaging library needed)."""
    url = "data:image/png;base64," + base64.b64encode(png).decode()
    out = page.evaluate(
        """async ([url, pts]) => {
            const img = new Image(); img.src = url; await img.decode();
            const c = document.createElement('canvas'); c.width = img.width; c.height = img.height;
            const g = c.getContext('2d'); g.drawImage(img, 0, 0);
            const at = ([x, y]) => g.getImageData(Math.round(x), Math.round(y), 1, 1).data;
            return pts.map((p) => Array.from(at(p).slice(0, 3)));
        }""",
        [url, points],
    )
    return [tuple(p) for p in out]


def _close(rgb: tuple[int, int, int], want: tuple[int, int, int], tol: int = 40) -> bool:
    return all(abs(a - b) <= tol for a, b in zip(rgb, want, strict=True))


def _png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    w, h = struct.unpack(">II", png[16:24])
    return w, h


def test_timeline_screenshot(gap_report: dict[str, Any], page: Any) -> None:
    page.set_content(gap_report["page"])
    svg = page.locator("svg.timeline")
    box = svg.bounding_box()
    png = svg.screenshot()
    w, h = _png_size(png)
    assert abs(w - box["width"]) <= 2 and abs(h - box["height"]) <= 2  # whole pixels, rounded up

    def center(locator: Any) -> tuple[float, float]:
        b = locator.bounding_box()
        return b["x"] + b["width"] / 2 - box["x"], b["y"] + b["height"] / 2 - box["y"]

    row = 'svg.timeline g.lane[data-series="{}"][data-step="3"]'
    b_bar = center(page.locator(row.format("browser") + " rect.range").first)
    s_bar = center(page.locator(row.format("simulator") + " rect.range").first)
    gap = center(page.locator(row.format("browser") + " rect.gap"))
    px = _pixels(page, png, [b_bar, s_bar, gap])
    assert _close(px[0], RANGE_RGB), px
    assert _close(px[1], SIM_RGB), px
    r, g, b = px[2]
    assert r > g + 40 and r > b + 40, px  # the gap is red, not a bar and not background

    if os.environ.get("MSETOOL_UPDATE_SCREENSHOT"):
        SCREENSHOT.parent.mkdir(exist_ok=True)
        page.set_viewport_size({"width": 1100, "height": 300})
        SCREENSHOT.write_bytes(page.screenshot(full_page=True))
    # The README's picture exists and shows the same palette.
    ref = SCREENSHOT.read_bytes()
    rw, rh = _png_size(ref)
    assert rw >= 800 and rh >= 400


def test_timeline_steps_from_golden_shape() -> None:
    """Detached source buffers (after an append error) and dropped frames are drawn, not skipped."""
    steps = [
        {
            "index": 0,
            "op": {"op": "append", "file": "a.mp4"},
            "state": {
                "sourceBuffers": {
                    "sb0": {
                        "attached": True,
                        "buffered": [[0, 1]],
                        "dropped": [{"start": 1, "end": 1.5, "reason": "appendWindowEnd"}],
                    }
                }
            },
        },
        {
            "index": 1,
            "op": {"op": "append", "file": "b.mp4"},
            "wait": {"error": True},
            "state": {
                "sourceBuffers": {"sb0": {"attached": False, "buffered": None}},
                "video": {
                    "error": {"code": 4, "message": "PipelineStatus::CHUNK_DEMUXER_ERROR_APPEND_FAILED: x"}
                },
            },
        },
    ]
    tl = timeline_from_steps("browser", steps)
    assert isinstance(tl, Timeline) and isinstance(tl.steps[0], TimelineStep)
    assert tl.steps[1].lanes["sb0"] is None
    assert tl.steps[1].error and "CHUNK_DEMUXER" in tl.steps[1].error
    page = render_html(title="t", command="simulate", timelines=[tl])
    assert 'class="dropped"' in page and 'class="detached"' in page and "row-error" in page


def _run(*args: str) -> Any:
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-m", "msetool", *args], check=False, capture_output=True, text=True, timeout=120
    )


def test_validate_and_simulate_write_html(
    tmp_path: Path, avc_segments: tuple[Path, list[Path]], page: Any
) -> None:
    """--html on validate and simulate: one offline page each, with the command's own results in it."""
    init, segs = avc_segments
    broken = tmp_path / "seg2.m4s"
    data = bytearray(segs[1].read_bytes())
    at = data.index(b"tfhd") + 8
    data[at : at + 4] = (7).to_bytes(4, "big")  # a track the init segment does not declare
    broken.write_bytes(bytes(data))
    out = tmp_path / "validate.html"
    p = _run("validate", str(init), str(segs[0]), str(broken), "--html", str(out))
    assert p.returncode == 1, p.stderr
    page.set_content(out.read_text(encoding="utf-8"))
    rows = page.locator("#findings tr.finding.sev-error")
    assert rows.count() >= 1
    assert any(str(broken) in rows.nth(i).inner_text() for i in range(rows.count()))

    out = tmp_path / "simulate.html"
    p = _run("simulate", str(init), str(segs[0]), str(segs[2]), "--html", str(out))
    assert p.returncode == 0, p.stderr
    page.set_content(out.read_text(encoding="utf-8"))
    assert page.locator('svg.timeline g.lane[data-step="2"] rect.gap').count() == 1
    assert page.locator("#final-gaps").get_attribute("data-count") == "1"
