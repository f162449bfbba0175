"""When the packager's watcher takes an ffmpeg segment as complete (msetool.fragment.package._watch), and
what it prepares while ffmpeg starts.

The self-check reads each segment while ffmpeg writes the next ones; a segment read before ffmpeg has
finished it would be checked half-written. A fake writer plays ffmpeg's dash muxer on disk in both
styles: in place (complete once the next segment exists, or at exit) and under ``<name>.tmp``, renamed
when complete (ffmpeg 5.1 and 9.0 for files: complete as soon as it exists under its name).
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from msetool.fragment.package import _watch
from msetool.fragment.plan import REP_DIR, TrackOutput
from tests import media


class FakeMonitor:
    """Notes what the watcher hands over, and each file's size when it was handed over."""

    def __init__(self) -> None:
        self.tracks: list[object] = []
        self.read: list[tuple[str, int]] = []
        self.flushed_after: list[int] = []  # segments read when flush() was called

    def start(self, path: Path, name: str, _mime: Callable[[list[object]], str]) -> None:
        self.read.append((name, path.stat().st_size))

    def add_segment(self, path: Path, name: str) -> None:
        self.read.append((name, path.stat().st_size))

    def idle(self) -> None:
        pass

    def flush(self) -> None:
        self.flushed_after.append(len(self.read) - 1)


class Run:
    """_watch in a thread over one video representation folder, with the events the packager sets."""

    def __init__(self, work: Path) -> None:
        self.folder = work / REP_DIR.format(0)
        self.folder.mkdir()
        self.monitor = FakeMonitor()
        self.exited, self.abort = threading.Event(), threading.Event()
        self.finishing, self.wake = threading.Event(), threading.Event()
        track = TrackOutput("video", "video", representation=0)
        self.thread = threading.Thread(
            target=_watch, args=(str(work), (track,), {"video": self.monitor}, self.exited, self.abort),
            kwargs={"finishing": self.finishing, "wake": self.wake}, daemon=True)

    def write(self, name: str, size: int) -> None:
        (self.folder / name).write_bytes(b"\x00" * size)

    def names(self) -> list[str]:
        return [n for n, _size in self.monitor.read]

    def until(self, what: Callable[[], bool], timeout: float = 5.0) -> None:
        end = time.monotonic() + timeout
        while not what():
            assert time.monotonic() < end, f"watcher read {self.names()}"
            time.sleep(0.005)

    def settle(self) -> None:
        time.sleep(0.1)  # several of the watcher's naps (8 ms at most)

    def end(self) -> None:
        self.exited.set()
        self.wake.set()
        self.thread.join(5)
        assert not self.thread.is_alive()


def test_in_place_segments_wait_for_the_next_one_or_the_exit(tmp_path: Path) -> None:
    run = Run(tmp_path)
    run.write("init.mp4", 100)
    run.write("seg-00001.m4s", 10)  # still being written, in place
    run.thread.start()
    run.until(lambda: run.names() == ["video/init.mp4"])
    run.settle()
    assert run.names() == ["video/init.mp4"]
    run.write("seg-00001.m4s", 500)
    run.write("seg-00002.m4s", 7)  # the next one begins: the first is complete
    run.until(lambda: len(run.names()) == 2)
    run.settle()
    assert run.monitor.read[1] == ("video/seg-00001.m4s", 500)
    run.write("seg-00002.m4s", 600)
    run.finishing.set()  # ffmpeg's final report alone does not make an in-place segment complete
    run.wake.set()
    run.settle()
    assert len(run.names()) == 2
    run.end()
    assert run.monitor.read[2] == ("video/seg-00002.m4s", 600)


def test_renamed_segments_are_complete_once_they_exist(tmp_path: Path) -> None:
    run = Run(tmp_path)
    run.write("init.mp4", 100)
    run.write("seg-00001.m4s.tmp", 10)
    run.thread.start()
    run.settle()
    assert run.names() == []  # no segment under its name yet: the init may still be growing too
    run.write("seg-00001.m4s.tmp", 500)
    (run.folder / "seg-00001.m4s.tmp").rename(run.folder / "seg-00001.m4s")
    run.write("seg-00002.m4s.tmp", 3)
    run.until(lambda: len(run.names()) == 2)  # the next one's .tmp tells the writer renames
    run.write("seg-00002.m4s.tmp", 600)
    (run.folder / "seg-00002.m4s.tmp").rename(run.folder / "seg-00002.m4s")
    # the last segment: nothing follows it, and ffmpeg has not exited, yet it is read
    run.until(lambda: len(run.names()) == 3)
    assert run.monitor.read[1:] == [("video/seg-00001.m4s", 500), ("video/seg-00002.m4s", 600)]
    assert run.monitor.flushed_after == []
    run.finishing.set()  # ffmpeg's final report: the pending validation runs before its exit
    run.wake.set()
    run.until(lambda: run.monitor.flushed_after == [2])
    run.settle()
    assert run.monitor.flushed_after == [2]  # once
    run.end()
    assert len(run.names()) == 3


def test_warm_up_leaves_nothing_for_the_first_segments_to_import(tmp_path: Path) -> None:
    """The watcher imports ahead, while ffmpeg starts, what the check's first segments need. In a fresh
    interpreter set up as the watcher is, appending, validating and finishing a video and an audio
    rendition (ffmpeg-made) must import no module at all: one that does is start-up cost back inside the
    check, where a fast disk never gives it back."""
    video = media.split_fmp4(media.fmp4_avc(), tmp_path / "v")
    audio = media.split_fmp4(media.fmp4_aac(), tmp_path / "a")
    code = """
import sys
from pathlib import Path
from msetool.fragment.check import RenditionMonitor, default_validator, warm_up
validator = default_validator()
assert validator is not None
monitors = [RenditionMonitor(rid, validator, simulate=True) for rid in ("video", "audio")]
warm_up()
before = set(sys.modules)
args = sys.argv[1:]
half = len(args) // 2
for monitor, files, mime in ((monitors[0], args[:half], 'video/mp4; codecs="avc1.64000D"'),
                             (monitors[1], args[half:], 'audio/mp4; codecs="mp4a.40.2"')):
    monitor.start(Path(files[0]), "init.mp4", lambda _tracks, mime=mime: mime)
    for seg in files[1:]:
        monitor.add_segment(Path(seg), Path(seg).name)
    monitor.flush()
    assert not [f for f in monitor.finish().findings if f.severity.value == "error"]
print(" ".join(sorted(set(sys.modules) - before)))
"""
    files = [str(p) for init, segs in (video, audio) for p in (init, *segs[:3])]
    run = subprocess.run([sys.executable, "-c", code, *files], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parents[3], check=False)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == []
