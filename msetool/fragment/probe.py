"""What is in the input, read from ``ffmpeg -i`` (the imageio-ffmpeg wheel ships no ffprobe).

``ffmpeg -hide_banner -i FILE`` prints the demuxer's view of the file and exits with "At least one output
file must be specified". That text is stable enough for what packaging needs: duration, start time and,
per stream, kind, codec, size, frame rate, sample rate and channels. Parsing is a pure function of the
text so it is tested on canned output.

:func:`probe_mp4` is the fast path for ``--copy`` from a plain MP4/MOV file: the plan then needs only
which streams there are and their codecs, which the ``moov`` box says directly, and reading it in Python
saves starting a second ffmpeg process (with a distribution's dynamically linked ffmpeg that start-up is
most of a probe). It answers only when the file is unambiguous (ftyp first, one moov, not fragmented,
every track audio or video with one sample description of a codec it knows) and returns None otherwise,
so anything unusual is still described by ffmpeg itself.
"""

from __future__ import annotations

import os
import re
import struct
from collections.abc import Iterator

from msetool.errors import FfmpegError, UsageError
from msetool.fragment.boxwalk import esds_fields, walk
from msetool.fragment.runner import relevant_stderr
from msetool.records import FrozenRecord

#: typing.TYPE_CHECKING without importing typing: this module loads before ffmpeg is started
TYPE_CHECKING = False
if TYPE_CHECKING:
    from msetool.fragment.plan import StrPath
    from msetool.fragment.runner import Runner


class StreamInfo(FrozenRecord):
    """One stream of the input as ffmpeg describes it. A record (msetool.records), not a dataclass: this
    module loads before ffmpeg starts, and each @dataclass costs ~0.5 ms to create."""

    __slots__ = __match_args__ = (
        "index", "kind", "codec", "profile", "width", "height", "fps", "sample_rate", "channels",
        "bitrate_k", "start", "attached_pic",
    )  # fmt: skip

    index: int
    #: "video" | "audio" | "subtitle" | "data" | "attachment"
    kind: str
    #: ffmpeg codec name: "h264", "aac", "vp9", ...
    codec: str
    profile: str
    width: int | None
    height: int | None
    fps: float | None
    sample_rate: int | None
    channels: str
    bitrate_k: int | None
    start: float | None
    #: The stream is a picture attached to the file (cover art), not video to package.
    attached_pic: bool

    def __init__(  # noqa: PLR0917 (the dataclass init it replaces took every field positionally)
        self,
        index: int,
        kind: str,
        codec: str,
        profile: str = "",
        width: int | None = None,
        height: int | None = None,
        fps: float | None = None,
        sample_rate: int | None = None,
        channels: str = "",
        bitrate_k: int | None = None,
        start: float | None = None,
        attached_pic: bool = False,
    ) -> None:
        put = object.__setattr__
        put(self, "index", index)
        put(self, "kind", kind)
        put(self, "codec", codec)
        put(self, "profile", profile)
        put(self, "width", width)
        put(self, "height", height)
        put(self, "fps", fps)
        put(self, "sample_rate", sample_rate)
        put(self, "channels", channels)
        put(self, "bitrate_k", bitrate_k)
        put(self, "start", start)
        put(self, "attached_pic", attached_pic)


class MediaInfo(FrozenRecord):
    """What the input holds (a record, like :class:`StreamInfo`)."""

    __slots__ = __match_args__ = ("path", "container", "duration", "start", "streams")

    path: str
    container: str
    duration: float | None
    start: float
    streams: tuple[StreamInfo, ...]

    def __init__(
        self,
        path: str,
        container: str,
        duration: float | None,
        start: float,
        streams: tuple[StreamInfo, ...] = (),
    ) -> None:
        put = object.__setattr__
        put(self, "path", path)
        put(self, "container", container)
        put(self, "duration", duration)
        put(self, "start", start)
        put(self, "streams", streams)

    @property
    def video(self) -> StreamInfo | None:
        return next((s for s in self.streams if s.kind == "video" and not s.attached_pic), None)

    @property
    def audio(self) -> StreamInfo | None:
        return next((s for s in self.streams if s.kind == "audio"), None)


#: patterns for ``ffmpeg -i`` output, compiled on first use (re's cache): the ``--copy`` path reads the
#: moov instead, and compiling them all took ~0.8 ms of the start-up before ffmpeg runs
_INPUT = r"^Input #0, ([^,]+(?:,[^,]+)*?), from '"
_DURATION = r"Duration: (N/A|(\d+):(\d+):(\d+(?:\.\d+)?))(?:, start: (-?\d+(?:\.\d+)?))?"
_STREAM = r"^\s*Stream #0:(\d+)(?:\[[^\]]*\])?(?:\([^)]*\))?: (Video|Audio|Subtitle|Data|Attachment): (.*)$"
_SIZE = r"\b(\d{2,5})x(\d{2,5})\b"
_FPS = r"([\d.]+)(k?) fps"
_HZ = r"(\d+) Hz"
_KBS = r"(\d+) kb/s"
_START = r"start (-?\d+(?:\.\d+)?)"


def _split_top(text: str) -> list[str]:
    """Split on commas outside parentheses/brackets: "h264 (High) (avc1 / 0x31), yuv420p(tv, bt709), ..."."""
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth = max(0, depth - 1)
        if ch == "," and depth == 0:
            parts.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur.strip())
    return parts


def parse_probe_output(text: str, path: str = "") -> MediaInfo:
    """Parse ``ffmpeg -i`` stderr. Raises UsageError when ffmpeg could not open the file as media."""
    lines = text.splitlines()
    container = ""
    duration: float | None = None
    start = 0.0
    streams: list[StreamInfo] = []
    for ln in lines:
        m = re.match(_INPUT, ln)
        if m:
            container = m.group(1)
            continue
        m = re.search(_DURATION, ln)
        if m and "Duration:" in ln and not streams:
            if m.group(1) != "N/A":
                duration = int(m.group(2)) * 3600 + int(m.group(3)) * 60 + float(m.group(4))
            if m.group(5):
                start = float(m.group(5))
            continue
        m = re.match(_STREAM, ln)
        if m:
            streams.append(_parse_stream(int(m.group(1)), m.group(2).lower(), m.group(3)))
    if not container:
        why = relevant_stderr(lines, limit=1) or "ffmpeg did not recognise it"
        raise UsageError(f"{path or 'input'}: not a media file ffmpeg can read ({why.strip()})")
    return MediaInfo(path, container, duration, start, tuple(streams))


def _parse_stream(index: int, kind: str, rest: str) -> StreamInfo:
    parts = _split_top(rest)
    head = parts[0] if parts else ""
    codec = head.split(" ", 1)[0]
    prof = re.match(r"^\S+ \(([^)]*)\)", head)
    profile = prof.group(1) if prof and "/" not in prof.group(1) else ""
    width = height = None
    fps = None
    rate = None
    channels = ""
    for p in parts[1:]:
        if kind == "video" and width is None:
            s = re.search(_SIZE, p)
            if s and not p.startswith(("yuv", "nv", "rgb", "gray", "p0", "bgr")):
                width, height = int(s.group(1)), int(s.group(2))
        f = re.search(_FPS, p)
        if f:
            fps = float(f.group(1)) * (1000 if f.group(2) else 1)
        h = re.search(_HZ, p)
        if h:
            rate = int(h.group(1))
    if kind == "audio" and len(parts) > 2:
        channels = parts[2].split(" ")[0]
    kbs = re.search(_KBS, rest)
    st = re.search(_START, rest)
    return StreamInfo(
        index=index,
        kind=kind,
        codec=codec,
        profile=profile,
        width=width,
        height=height,
        fps=fps,
        sample_rate=rate,
        channels=channels,
        bitrate_k=int(kbs.group(1)) if kbs else None,
        start=float(st.group(1)) if st else None,
        attached_pic="(attached pic)" in rest,
    )


def probe(path: StrPath, runner: Runner, ffmpeg: str) -> MediaInfo:
    """Open ``path`` with ffmpeg and describe it; missing or unreadable files are usage errors."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise UsageError(f"{path}: no such file")
    if os.path.isdir(path):
        raise UsageError(f"{path}: is a directory, expected a media file")
    try:
        with open(path, "rb") as fh:
            fh.read(1)
    except OSError as e:
        raise UsageError(f"{path}: cannot read ({e.strerror})") from None
    result = runner.run([ffmpeg, "-hide_banner", "-nostdin", "-i", path])
    text = "\n".join(result.stderr)
    if result.returncode < 0:
        raise FfmpegError(f"ffmpeg was killed while probing {path} (signal {-result.returncode})")
    return parse_probe_output(text, path)


#: ISO BMFF sample entry -> ffmpeg codec name, for the codecs ``--copy`` can keep (plan.COPY_VIDEO/AUDIO).
_MP4_CODECS = {"avc1": "h264", "avc3": "h264", "hvc1": "hevc", "hev1": "hevc", "av01": "av1", "vp09": "vp9",
               "Opus": "opus", "fLaC": "flac", "ac-3": "ac3", "ec-3": "eac3"}
#: mp4a objectTypeIndication -> ffmpeg codec name (14496-1 / MP4RA: MPEG-4 and MPEG-2 AAC, MPEG-1/2 audio)
_MP4A_OTI = {0x40: "aac", 0x66: "aac", 0x67: "aac", 0x68: "aac", 0x69: "mp3", 0x6B: "mp3"}
#: a moov larger than this (hours of samples) is left to ffmpeg rather than read into memory
_MOOV_LIMIT = 64 << 20


def probe_mp4(path: StrPath) -> MediaInfo | None:
    """Describe a plain MP4/MOV file from its ``moov`` as ``ffmpeg -i`` would for ``--copy`` planning (stream
    indexes in track order, kinds, codecs, duration), or None when ffmpeg should be asked instead."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            moov: bytes | None = None
            pos, mdat = 0, False
            while pos + 8 <= size and not (moov is not None and mdat):
                fh.seek(pos)
                head = fh.read(16)
                box_size, typ = struct.unpack_from(">I4s", head)
                header = 8
                if box_size == 1 and len(head) == 16:
                    box_size, header = struct.unpack_from(">Q", head, 8)[0], 16
                elif box_size == 0:
                    box_size = size - pos
                if box_size < header or pos + box_size > size or (pos == 0 and typ != b"ftyp"):
                    return None
                if typ == b"moov":
                    if moov is not None or box_size > _MOOV_LIMIT:
                        return None
                    fh.seek(pos)
                    moov = fh.read(box_size)
                elif typ == b"mdat":
                    mdat = True
                elif typ in (b"moof", b"sidx", b"styp"):
                    return None  # fragmented input: ffmpeg's view of it is worth the process
                pos += box_size
        if moov is None or not mdat:
            return None
        return _moov_info(moov, path)
    except (OSError, struct.error, IndexError, ValueError, UnicodeDecodeError):
        return None


#: a box as (type, body offset, end offset)
_Box = tuple[str, int, int]


def _boxes(data: bytes, start: int, end: int) -> Iterator[_Box]:
    """The boxes in [start, end) by the read-back's walk (:mod:`msetool.fragment.boxwalk`), without
    loading :mod:`msetool.fragment.layout` and its records before ffmpeg starts (the watcher loads it
    while ffmpeg runs)."""
    for typ, pos, size, header in walk(data, start, end):
        yield typ.decode("latin-1"), pos + header, pos + size


def _find(data: bytes, path: str, start: int, end: int) -> _Box | None:
    """First box along ``a/b/c`` below [start, end) (layout.find)."""
    first, _, rest = path.partition("/")
    for b in _boxes(data, start, end):
        if b[0] == first:
            return b if not rest else _find(data, rest, b[1], b[2])
    return None


def _moov_info(moov: bytes, path: str) -> MediaInfo | None:
    body, end = 8, len(moov)
    if _find(moov, "mvex", body, end) is not None:
        return None
    mvhd = _find(moov, "mvhd", body, end)
    if mvhd is None:
        return None
    if moov[mvhd[1]] == 1:
        timescale, duration = struct.unpack_from(">IQ", moov, mvhd[1] + 20)
    else:
        timescale, duration = struct.unpack_from(">II", moov, mvhd[1] + 12)
    streams: list[StreamInfo] = []
    for index, (_, trak_body, trak_end) in enumerate(b for b in _boxes(moov, body, end) if b[0] == "trak"):
        hdlr = _find(moov, "mdia/hdlr", trak_body, trak_end)
        stsd = _find(moov, "mdia/minf/stbl/stsd", trak_body, trak_end)
        if hdlr is None or stsd is None or struct.unpack_from(">I", moov, stsd[1] + 4)[0] != 1:
            return None
        kind = {b"vide": "video", b"soun": "audio"}.get(moov[hdlr[1] + 8 : hdlr[1] + 12])
        entry = next(_boxes(moov, stsd[1] + 8, stsd[2]), None)
        if kind is None or entry is None:
            return None
        etype, ebody, eend = entry
        codec = _MP4_CODECS.get(etype)
        if etype == "mp4a":
            esds = next((b for b in _boxes(moov, ebody + 28, eend) if b[0] == "esds"), None)
            codec = _MP4A_OTI.get(esds_fields(moov, esds[1], esds[2])[0]) if esds is not None else None
        if codec is None:
            return None
        if kind == "video":
            w, h = struct.unpack_from(">HH", moov, ebody + 24)
            streams.append(StreamInfo(index, kind, codec, width=w, height=h))
        else:
            # channels stay unknown: channelcount says 2 for mono AAC as ffmpeg writes it (the ASC knows)
            rate = struct.unpack_from(">I", moov, ebody + 24)[0] >> 16
            streams.append(StreamInfo(index, kind, codec, sample_rate=rate or None))
    if not streams:
        return None
    seconds = duration / timescale if timescale and duration and duration != 0xFFFFFFFF else None
    return MediaInfo(path, "mov,mp4,m4a,3gp,3g2,mj2", seconds, 0.0, tuple(streams))
