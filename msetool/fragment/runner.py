"""The one place msetool starts processes: finding ffmpeg and running it.

Everything else in :mod:`msetool.fragment` is pure and receives a :class:`Runner`, so tests can replay
canned ffmpeg output and the packaging logic never depends on a real binary being present.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
from collections import deque
from collections.abc import Callable, Sequence

from msetool.errors import FfmpegError
from msetool.records import FrozenRecord, Record

#: typing.TYPE_CHECKING without importing typing: this module loads before ffmpeg is started
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Protocol

ProgressCallback = Callable[[float], None]


class FfmpegBinary(FrozenRecord):
    """Which ffmpeg runs and why it was chosen (printed by ``--verbose``). A record (msetool.records), not
    a dataclass: this module loads before ffmpeg starts, and each @dataclass costs ~0.5 ms to create."""

    __slots__ = __match_args__ = ("path", "origin")

    path: str
    #: "MSETOOL_FFMPEG" | "PATH" | "imageio-ffmpeg"
    origin: str

    def __init__(self, path: str, origin: str) -> None:
        put = object.__setattr__
        put(self, "path", path)
        put(self, "origin", origin)


def locate_ffmpeg(env: dict[str, str] | None = None) -> FfmpegBinary:
    """MSETOOL_FFMPEG wins, then an ffmpeg on PATH, then the binary shipped in the imageio-ffmpeg wheel.

    The PATH binary comes before the wheel because a user who installed ffmpeg usually wants that build
    (hardware encoders, newer codecs); the wheel guarantees msetool works on a machine with nothing else.
    """
    env = dict(os.environ) if env is None else env
    explicit = env.get("MSETOOL_FFMPEG")
    if explicit:
        found = shutil.which(explicit) or (explicit if os.path.isfile(explicit) else None)
        if not found:
            raise FfmpegError(f"MSETOOL_FFMPEG={explicit} is not an executable ffmpeg")
        return FfmpegBinary(found, "MSETOOL_FFMPEG")
    on_path = shutil.which("ffmpeg", path=env.get("PATH"))
    if on_path:
        return FfmpegBinary(on_path, "PATH")
    try:
        import imageio_ffmpeg

        wheel = str(imageio_ffmpeg.get_ffmpeg_exe())
    except Exception as e:  # the wheel raises RuntimeError when its binary is missing for this platform
        raise FfmpegError(
            "ffmpeg not found: set MSETOOL_FFMPEG, put ffmpeg on PATH, or pip install imageio-ffmpeg "
            f"({type(e).__name__}: {e})"
        ) from None
    return FfmpegBinary(wheel, "imageio-ffmpeg")


class RunResult(Record):
    """How one ffmpeg run ended (a mutable record, like :class:`FfmpegBinary`)."""

    __slots__ = __match_args__ = ("returncode", "stderr", "interrupted")

    returncode: int
    #: stderr lines (the last ``max_lines`` of them), for errors and for probing.
    stderr: list[str]
    interrupted: bool

    def __init__(self, returncode: int, stderr: list[str] | None = None, interrupted: bool = False) -> None:
        self.returncode = returncode
        self.stderr = [] if stderr is None else stderr
        self.interrupted = interrupted


if TYPE_CHECKING:  # a protocol for the type checker only: nothing checks it at run time

    class Runner(Protocol):
        """Runs one ffmpeg command line. ``argv[0]`` is the executable."""

        def run(self, argv: Sequence[str], on_progress: ProgressCallback | None = None) -> RunResult: ...


def parse_progress_line(line: str) -> float | None:
    """``-progress`` emits key=value lines; ``out_time_us`` (or ``out_time_ms``, also microseconds) is
    the position reached in the output, in seconds once converted."""
    key, sep, value = line.strip().partition("=")
    if not sep or key not in ("out_time_us", "out_time_ms"):
        return None
    try:
        us = int(value)
    except ValueError:
        return None  # "N/A" before the first packet
    return max(0.0, us / 1_000_000)


class SubprocessRunner:
    """Runs ffmpeg as a child process; progress on stdout (``-progress pipe:1``), diagnostics on stderr.

    Ctrl-C: the child shares our process group, so it receives SIGINT too; we wait for it to exit, then
    re-raise KeyboardInterrupt so the caller can discard its temporary output.
    """

    def __init__(self, max_lines: int = 400) -> None:
        self.max_lines = max_lines

    def run(self, argv: Sequence[str], on_progress: ProgressCallback | None = None,
            on_start: Callable[[], None] | None = None, on_end: Callable[[], None] | None = None
            ) -> RunResult:
        """Run ``argv`` to the end. ``on_start`` is called once the process has started (not when it
        cannot), so work meant to overlap ffmpeg does not compete with starting it. ``on_end`` is called
        when ffmpeg reports ``progress=end``: it prints that final report after writing its outputs'
        trailers (fftools in 5.1 and 9.0 alike), a few ms before the process has exited and been
        reaped, so work that waits for the last output can start that much earlier."""
        try:
            proc = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                errors="replace",
            )
        except OSError as e:
            raise FfmpegError(f"cannot start ffmpeg ({argv[0]}): {e.strerror or e}", list(argv)) from None
        if on_start is not None:
            on_start()
        tail: deque[str] = deque(maxlen=self.max_lines)

        def drain_stderr() -> None:
            assert proc.stderr is not None
            for ln in proc.stderr:
                tail.append(ln.rstrip("\n"))

        t = threading.Thread(target=drain_stderr, daemon=True)
        t.start()
        try:
            assert proc.stdout is not None
            for ln in proc.stdout:
                if on_progress is not None:
                    pos = parse_progress_line(ln)
                    if pos is not None:
                        on_progress(pos)
                if on_end is not None and ln.startswith("progress=end"):
                    on_end()
            rc = proc.wait()
        except KeyboardInterrupt:
            self._stop(proc)
            t.join(timeout=2)
            raise
        t.join(timeout=5)
        return RunResult(rc, list(tail))

    @staticmethod
    def _stop(proc: subprocess.Popen[str]) -> None:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


_NOISE = ("Press [q]", "frame=", "size=", "video:", "Stream mapping", "  Stream #", "Input #", "Output #")


def relevant_stderr(lines: Sequence[str], limit: int = 8) -> str:
    """The lines of ffmpeg's stderr that explain a failure: errors and warnings, not banners or stats."""
    keep = [ln for ln in lines
            if ln.strip() and not ln.lstrip().startswith(_NOISE) and not ln.startswith(" ")]
    hits = [ln for ln in keep if any(w in ln.lower() for w in ("error", "invalid", "unknown", "not ", "fail",
                                                                 "unsupported", "no such", "denied"))]
    chosen = hits or keep
    return "\n".join(chosen[-limit:])
