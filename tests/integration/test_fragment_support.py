"""Shared pieces of the fragment integration tests (no tests here): ffmpeg-made inputs, running
``msetool fragment``, a localhost HTTP server for Chromium, and the MSE append page."""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests import media

ROOT = Path(__file__).resolve().parents[2]
PLAYERS = ROOT / "tests" / "players" / "node_modules"

V = ["-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30"]
A48 = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"]
A44 = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100"]
X264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
AAC = ["-c:a", "aac", "-b:a", "64k"]

#: name -> (ffmpeg args making a plain MP4, expected media duration in seconds)
INPUTS: dict[str, tuple[list[str], float]] = {
    # B-frames (x264 needs a non-ultrafast preset for them) with a 2 s GOP, so --copy can cut on boundaries
    "bframes": ([*V, *A48, "-t", "4", "-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-preset",
                 "veryfast", "-pix_fmt", "yuv420p", "-bf", "3", "-g", "60", "-keyint_min", "60",
                 "-sc_threshold", "0", *AAC],
                4.0),
    # GOP of 37 frames (1.233 s): does not divide a 2 s segment
    "oddgop": ([*V, *A48, "-t", "4", "-map", "0:v", "-map", "1:a", *X264, "-g", "37", "-keyint_min", "37",
                "-sc_threshold", "0", *AAC], 4.0),
    # audio starts 0.5 s after the video
    "latestart": ([*V, "-itsoffset", "0.5", *A48, "-t", "4", "-map", "0:v", "-map", "1:a", *X264, *AAC,
                   "-shortest"], 4.0),
    "audio44k": ([*V, *A44, "-t", "4", "-map", "0:v", "-map", "1:a", *X264, *AAC], 4.0),
    "videoonly": ([*V, "-t", "4", *X264], 4.0),
    "audioonly": ([*A48, "-t", "4", *AAC], 4.0),
    # MPEG-TS: H.264 Annex B + AAC with ADTS headers (the source ffmpeg 9 writes ASC-less esds from)
    "ts": ([*V, *A48, "-t", "4", "-map", "0:v", "-map", "1:a", *X264, "-g", "60", "-keyint_min", "60",
            "-sc_threshold", "0", *AAC], 4.0),
    # raw ADTS AAC
    "adts": ([*A48, "-t", "4", *AAC], 4.0),
}

SUFFIX = {"audioonly": ".m4a", "ts": ".ts", "adts": ".aac"}


def make_input(name: str) -> Path:
    args, _ = INPUTS[name]
    suffix = SUFFIX.get(name, ".mp4")
    return media.make(f"frag-in-{name}", args, suffix=suffix)


def msetool(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real CLI (as a user would), with the wheel's ffmpeg unless MSETOOL_FFMPEG is set."""
    e = dict(os.environ)
    e.setdefault("MSETOOL_FFMPEG", media.ffmpeg_exe())
    if env:
        e.update(env)
    return subprocess.run([sys.executable, "-m", "msetool", *map(str, args)], capture_output=True, text=True,
                          check=False, env=e, timeout=300, stdin=subprocess.DEVNULL)


def fragment(src: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    r = msetool("fragment", src, "--out", out, "--force", *extra)
    assert r.returncode == 0, f"fragment failed ({r.returncode}):\n{r.stdout}\n{r.stderr}"
    return r


def load_manifest(out: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((out / "mse.json").read_text())
    return doc


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()


@dataclass
class Server:
    root: Path
    url: str


@pytest.fixture(scope="session")
def http_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A localhost HTTP server over one folder; tests put outputs and pages in it."""
    root = tmp_path_factory.mktemp("www")
    (root / "blank.html").write_text("<!doctype html><html><body></body></html>")
    if PLAYERS.is_dir():
        (root / "lib").symlink_to(PLAYERS)
    handler = functools.partial(_Quiet, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    try:
        yield Server(root, f"http://127.0.0.1:{httpd.server_address[1]}")
    finally:
        httpd.shutdown()
        httpd.server_close()


def publish(server: Server, out: Path, name: str) -> str:
    """Copy an output folder under the server root; returns its URL."""
    dest = server.root / name
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(out, dest)
    return f"{server.url}/{name}/"


#: Appends each chosen rendition (init, then every segment in order) to its own SourceBuffer, with the
#: exact type from mse.json, and reports what Chromium buffered and the duration endOfStream() gave.
APPEND_JS = """
async (base) => {
  const m = await (await fetch(base + 'mse.json')).json();
  const picks = [];
  const v = m.renditions.find(r => r.kind !== 'audio'); if (v) picks.push(v);
  const a = m.renditions.find(r => r.kind === 'audio'); if (a) picks.push(a);
  const ms = new MediaSource();
  const video = document.createElement('video');
  document.body.appendChild(video);
  video.src = URL.createObjectURL(ms);
  await new Promise(r => ms.addEventListener('sourceopen', r, {once: true}));
  const result = {supported: {}, buffered: {}, errors: []};
  const sbs = [];
  for (const r of picks) {
    result.supported[r.type] = MediaSource.isTypeSupported(r.type);
    sbs.push([r, ms.addSourceBuffer(r.type)]);
  }
  for (const [r, sb] of sbs) {
    for (const f of [r.init, ...r.segments.map(s => s.file)]) {
      const data = await (await fetch(base + f)).arrayBuffer();
      try {
        await new Promise((res, rej) => {
          sb.addEventListener('updateend', res, {once: true});
          sb.addEventListener('error', () => rej(new Error('append error on ' + f)), {once: true});
          sb.appendBuffer(data);
        });
      } catch (e) { result.errors.push(String(e.message || e)); break; }
    }
    const b = [];
    for (let i = 0; i < sb.buffered.length; i++) b.push([sb.buffered.start(i), sb.buffered.end(i)]);
    result.buffered[r.id] = b;
  }
  if (!result.errors.length) {
    // endOfStream sets the duration to where the last track of any SourceBuffer ends
    ms.endOfStream();
    result.endedDuration = ms.duration;
  }
  result.mediaError = video.error ? video.error.message : null;
  return result;
}
"""


def append_in_chromium(browser: Any, url: str) -> dict[str, Any]:
    page = browser.new_page()
    try:
        page.goto(url.split("/", 3)[0] + "//" + url.split("/", 3)[2] + "/blank.html")
        out: dict[str, Any] = page.evaluate(APPEND_JS, url)
        return out
    finally:
        page.close()
