"""samples/README.md says what Chromium does with each committed segment set; this keeps that true, and
checks that ``msetool validate`` / the fragment self-check flag the broken ones."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_fragment_support import ROOT, Server, http_root, msetool, publish

__all__ = ["http_root"]

SETS = ROOT / "samples" / "segments"
VIDEO = 'video/mp4; codecs="avc1.4D400D"'
AUDIO = 'audio/mp4; codecs="mp4a.40.2"'
MUXED = 'video/mp4; codecs="avc1.4D400D,mp4a.40.2"'

APPEND_JS = """
async ([base, files, type, waitMs]) => {
  const ms = new MediaSource();
  const v = document.createElement('video');
  document.body.appendChild(v);
  v.src = URL.createObjectURL(ms);
  await new Promise(r => ms.addEventListener('sourceopen', r, {once: true}));
  const sb = ms.addSourceBuffer(type);
  let failed = null, buffered = [];
  for (const f of files) {
    const data = await (await fetch(base + f)).arrayBuffer();
    const ok = await new Promise(res => {
      sb.addEventListener('updateend', () => res(true), {once: true});
      sb.addEventListener('error', () => res(false), {once: true});
      try { sb.appendBuffer(data); } catch (e) { res(false); }
    });
    if (!ok) { failed = f; break; }
    buffered = [];  // after each successful append (reading it later throws once the element failed)
    for (let i = 0; i < sb.buffered.length; i++) buffered.push([sb.buffered.start(i), sb.buffered.end(i)]);
  }
  for (let i = 0; i < waitMs / 100 && !v.error; i++) await new Promise(r => setTimeout(r, 100));
  return {failed, buffered, error: v.error ? v.error.message : null};
}
"""

ANY = "*"  # the decode error races the appends: which append it stops, and what is buffered by then, vary

#: set -> (type, failing file or None, buffered ranges after the last good append, substring of the media
#: element error or None)
EXPECTED: dict[str, tuple[str, str | None, list[tuple[float, float]] | None, str | None]] = {
    "clean": (VIDEO, None, [(0, 4)], None),
    "clean-audio": (AUDIO, None, [(0, 4.021)], None),
    "clean-muxed": (MUXED, None, [(0, 4.021)], None),
    "gap": (VIDEO, None, [(0, 2), (2.5, 4.5)], None),
    "missing-tfdt": (VIDEO, "seg-00002.m4s", [(0, 1)], "APPEND_FAILED"),
    "base-data-offset": (VIDEO, "seg-00001.m4s", [], "base-data-offset not allowed"),
    "media-before-init": (VIDEO, "1-seg-00001.m4s", [], "APPEND_FAILED"),
    "muxed-no-base-flag": (MUXED, ANY, None, "PIPELINE_ERROR_DECODE"),
    "aac-missing-asc": (AUDIO, "init.mp4", [], "APPEND_FAILED"),
}


def files_of(name: str) -> list[str]:
    names = sorted(p.name for p in (SETS / name).iterdir())
    if name == "media-before-init":
        return names
    return ["init.mp4", *[n for n in names if n.startswith("seg-")]]


def test_every_set_is_covered() -> None:
    assert sorted(p.name for p in SETS.iterdir()) == sorted(EXPECTED)


@pytest.mark.browser
@pytest.mark.parametrize("name", list(EXPECTED))
def test_chromium_does_what_the_readme_says(browser: Any, http_root: Server, name: str) -> None:
    mime, failing, ranges, error = EXPECTED[name]
    url = publish(http_root, SETS / name, f"sets/{name}")
    page = browser.new_page()
    try:
        page.goto(f"{http_root.url}/blank.html")
        got = page.evaluate(APPEND_JS, [url, files_of(name), mime, 500 if error is None else 3000])
    finally:
        page.close()
    if failing != ANY:
        assert got["failed"] == failing, got
    if ranges is not None:
        assert len(got["buffered"]) == len(ranges), got
        for (a, b), (ea, eb) in zip(got["buffered"], ranges, strict=True):
            assert (a, b) == (pytest.approx(ea, abs=0.01), pytest.approx(eb, abs=0.01)), got
    if error is None:
        assert got["error"] is None, got
    else:
        assert got["error"] is not None and error in got["error"], got


@pytest.mark.parametrize("name", ["missing-tfdt", "base-data-offset", "media-before-init"])
def test_msetool_validate_fails_the_broken_sets(name: str) -> None:
    files = [SETS / name / f for f in files_of(name)]
    r = msetool("validate", *files)
    assert r.returncode == 1, r.stdout + r.stderr


@pytest.mark.parametrize("name", ["clean", "clean-audio", "clean-muxed"])
def test_msetool_validate_passes_the_clean_sets(name: str) -> None:
    r = msetool("validate", SETS / name)
    assert r.returncode == 0, r.stdout + r.stderr


def test_sets_stay_small() -> None:
    total = sum(p.stat().st_size for p in (ROOT / "samples").rglob("*") if p.is_file())
    assert total < 3_000_000
    assert (ROOT / "samples" / "sample.mp4").stat().st_size <= 2_000_000
    assert Path(ROOT / "samples" / "make_samples.py").is_file()
