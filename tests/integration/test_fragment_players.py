"""The DASH and HLS outputs of a two-rendition ladder play to the end in shaka-player, hls.js and dash.js (npm
packages from tests/players, served from localhost to headless Chromium), switching rendition mid-way so
the shared segment boundaries are exercised."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests import media
from tests.integration.test_fragment_support import (
    A48,
    AAC,
    PLAYERS,
    Server,
    V,
    fragment,
    http_root,
    load_manifest,
    publish,
)

__all__ = ["http_root"]

DURATION = 6.0

COMMON_JS = """
window.waitEnd = (video, seconds) => new Promise(resolve => {
  const done = why => resolve({why, ended: video.ended, currentTime: video.currentTime,
                               duration: video.duration, error: video.error ? video.error.message : null});
  video.addEventListener('ended', () => done('ended'), {once: true});
  // the 'ended' attribute too, in case the event fires before this listener is attached. (A dash.js run
  // that paused short of the end, which this once seemed to cover, was an MPD duration short of the
  // muxed audio's end; see RenditionEntry.media_end.)
  const poll = setInterval(() => { if (video.ended) { clearInterval(poll); done('ended'); } }, 250);
  setTimeout(() => { clearInterval(poll); done('timeout'); }, seconds * 1000);
});
"""

SHAKA_PAGE = f"""<!doctype html><html><body><video id="v" muted playsinline></video>
<script src="/lib/shaka-player/dist/shaka-player.compiled.js"></script>
<script>{COMMON_JS}
window.play = async (url) => {{
  shaka.polyfill.installAll();
  const video = document.getElementById('v');
  const player = new shaka.Player();
  await player.attach(video);
  const errors = [];
  player.addEventListener('error', e => errors.push(String(e.detail && e.detail.code)));
  player.configure({{abr: {{enabled: false}}}});
  await player.load(url);
  const variants = player.getVariantTracks();
  const heights = variants.map(t => t.height).sort((a, b) => a - b);
  player.selectVariantTrack(variants.find(t => t.height === heights[0]), true);
  const seen = new Set();
  video.addEventListener('timeupdate', () => {{
    const active = player.getVariantTracks().find(t => t.active);
    if (active) seen.add(active.height);
    if (video.currentTime > 2.5 && !seen.has(heights[heights.length - 1])) {{
      player.selectVariantTrack(variants.find(t => t.height === heights[heights.length - 1]), true);
    }}
  }});
  await video.play();
  const end = await waitEnd(video, 40);
  return {{...end, errors, variants: variants.length, heights, seen: [...seen]}};
}};
</script></body></html>"""

HLS_PAGE = f"""<!doctype html><html><body><video id="v" muted playsinline></video>
<script src="/lib/hls.js/dist/hls.min.js"></script>
<script>{COMMON_JS}
window.play = async (url) => {{
  const video = document.getElementById('v');
  const hls = new Hls({{enableWorker: false, capLevelToPlayerSize: false}});
  const errors = [];
  hls.on(Hls.Events.ERROR, (e, d) => {{ if (d.fatal) errors.push(d.details); }});
  const parsed = new Promise(r => hls.on(Hls.Events.MANIFEST_PARSED, (e, d) => r(d.levels.length)));
  const seen = new Set();
  hls.on(Hls.Events.LEVEL_SWITCHED, (e, d) => seen.add(hls.levels[d.level].height));
  hls.loadSource(url);
  hls.attachMedia(video);
  const levels = await parsed;
  const heights = hls.levels.map(l => l.height);
  const low = heights.indexOf(Math.min(...heights)), high = heights.indexOf(Math.max(...heights));
  hls.currentLevel = low;
  let switched = false;
  video.addEventListener('timeupdate', () => {{
    // immediate switch: flushes what is buffered ahead and reloads it from the other rendition
    if (video.currentTime > 2.5 && !switched) {{ switched = true; hls.currentLevel = high; }}
  }});
  await video.play();
  const end = await waitEnd(video, 40);
  return {{...end, errors, variants: levels, heights, seen: [...seen]}};
}};
</script></body></html>"""


DASHJS_PAGE = f"""<!doctype html><html><body><video id="v" muted playsinline></video>
<script src="/lib/dashjs/dist/modern/umd/dash.all.min.js"></script>
<script>{COMMON_JS}
window.play = async (url) => {{
  const video = document.getElementById('v');
  const player = dashjs.MediaPlayer().create();
  const errors = [];
  player.updateSettings({{streaming: {{abr: {{autoSwitchBitrate: {{video: false, audio: false}}}}}}}});
  player.on(dashjs.MediaPlayer.events.ERROR, e => errors.push(JSON.stringify(e.error || e)));
  const seen = new Set();
  player.on(dashjs.MediaPlayer.events.QUALITY_CHANGE_RENDERED, e => {{
    if (e.mediaType === 'video' && e.newRepresentation) seen.add(e.newRepresentation.height);
  }});
  const ready = new Promise(r => player.on(dashjs.MediaPlayer.events.STREAM_INITIALIZED, r));
  player.initialize(video, url, false);
  await ready;
  const reps = player.getRepresentationsByType('video');
  const heights = reps.map(r => r.height);
  const low = heights.indexOf(Math.min(...heights)), high = heights.indexOf(Math.max(...heights));
  player.setRepresentationForTypeByIndex('video', low, true);
  let switched = false;
  video.addEventListener('timeupdate', () => {{
    if (video.currentTime > 2.5 && !switched) {{
      switched = true;
      player.setRepresentationForTypeByIndex('video', high, true);
    }}
  }});
  await video.play();
  const end = await waitEnd(video, 40);
  return {{...end, errors, variants: reps.length, heights, seen: [...seen]}};
}};
</script></body></html>"""


@pytest.fixture(scope="session")
def ladder(tmp_path_factory: pytest.TempPathFactory, http_root: Server) -> str:
    if not PLAYERS.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail("tests/players/node_modules missing: scripts/test.sh runs npm ci there")
        pytest.skip("tests/players/node_modules missing (cd tests/players && npm ci)")
    src = media.make("frag-in-ladder", [*V, *A48, "-t", str(DURATION), "-map", "0:v", "-map", "1:a",
                                        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
                                        *AAC])
    out = tmp_path_factory.mktemp("ladder") / "out"
    fragment(src, out, "--rendition", "320x180@400k", "--rendition", "160x90@150k", "--no-check")
    doc = load_manifest(out)
    videos = [r for r in doc["renditions"] if r["kind"] == "video"]
    assert len(videos) == 2
    # identical boundaries across renditions: what makes switching seamless
    starts = [[s["start"] for s in r["segments"]] for r in videos]
    assert starts[0] == starts[1]
    (http_root.root / "shaka.html").write_text(SHAKA_PAGE)
    (http_root.root / "hls.html").write_text(HLS_PAGE)
    (http_root.root / "dashjs.html").write_text(DASHJS_PAGE)
    return publish(http_root, out, "ladder")


def play(browser: Any, page_url: str, manifest_url: str) -> dict[str, Any]:
    page = browser.new_page()
    logs: list[str] = []
    page.on("console", lambda m: logs.append(f"{m.type}: {m.text}"))
    try:
        page.goto(page_url)
        result: dict[str, Any] = page.evaluate("url => window.play(url)", manifest_url)
        result["console"] = [ln for ln in logs if ln.startswith("error")][:5]
        return result
    finally:
        page.close()


def check_played(result: dict[str, Any]) -> None:
    assert result["why"] == "ended" and result["ended"], result
    assert result["error"] is None and result["errors"] == [], result
    assert result["currentTime"] == pytest.approx(DURATION, abs=0.15), result
    assert result["variants"] == 2, result
    assert max(result["heights"]) in result["seen"], result  # switched up mid-way and kept playing


@pytest.mark.browser
@pytest.mark.slow
def test_dash_plays_to_the_end_in_shaka(browser: Any, http_root: Server, ladder: str) -> None:
    check_played(play(browser, f"{http_root.url}/shaka.html", ladder + "manifest.mpd"))


@pytest.mark.browser
@pytest.mark.slow
def test_dash_plays_to_the_end_in_dashjs(browser: Any, http_root: Server, ladder: str) -> None:
    check_played(play(browser, f"{http_root.url}/dashjs.html", ladder + "manifest.mpd"))


@pytest.mark.browser
@pytest.mark.slow
def test_hls_plays_to_the_end_in_hlsjs(browser: Any, http_root: Server, ladder: str) -> None:
    check_played(play(browser, f"{http_root.url}/hls.html", ladder + "master.m3u8"))


@pytest.mark.browser
@pytest.mark.slow
def test_hls_plays_to_the_end_in_shaka(browser: Any, http_root: Server, ladder: str) -> None:
    check_played(play(browser, f"{http_root.url}/shaka.html", ladder + "master.m3u8"))


def test_players_are_pinned() -> None:
    lock = Path(__file__).resolve().parents[1] / "players" / "package-lock.json"
    text = lock.read_text() if lock.is_file() else ""
    assert all(f'"node_modules/{name}"' in text for name in ("shaka-player", "hls.js", "dashjs"))


@pytest.fixture(scope="session")
def muxed_ladder(tmp_path_factory: pytest.TempPathFactory, http_root: Server, ladder: str) -> str:
    src = media.make("frag-in-ladder", [*V, *A48, "-t", str(DURATION), "-map", "0:v", "-map", "1:a",
                                        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
                                        *AAC])
    out = tmp_path_factory.mktemp("muxed") / "out"
    fragment(src, out, "--muxed", "--rendition", "320x180@400k", "--rendition", "160x90@150k", "--no-check")
    return publish(http_root, out, "muxed")


@pytest.mark.browser
@pytest.mark.slow
def test_muxed_hls_plays_to_the_end_in_hlsjs(browser: Any, http_root: Server, muxed_ladder: str) -> None:
    check_played(play(browser, f"{http_root.url}/hls.html", muxed_ladder + "master.m3u8"))


@pytest.mark.browser
@pytest.mark.slow
def test_muxed_dash_plays_to_the_end_in_dashjs(browser: Any, http_root: Server, muxed_ladder: str) -> None:
    check_played(play(browser, f"{http_root.url}/dashjs.html", muxed_ladder + "manifest.mpd"))


@pytest.mark.browser
@pytest.mark.slow
def test_muxed_dash_plays_to_the_end_in_shaka(browser: Any, http_root: Server, muxed_ladder: str) -> None:
    check_played(play(browser, f"{http_root.url}/shaka.html", muxed_ladder + "manifest.mpd"))
