"""FragmentOptions + what the input holds -> one ffmpeg command line. Pure: no files, no processes.

Why the command looks the way it does (each choice avoids something a browser rejects):

* Separate tracks (the default) go through ffmpeg's ``dash`` muxer: one fMP4 output per representation,
  so every init segment carries one track (CMAF style), and its ``movflags=+dash`` sets
  default-base-is-moof in every ``tfhd``. Chromium rejects any ``tfhd`` base-data-offset, which is what
  ffmpeg's plain fragmented MP4 writes by default.
* ``--muxed`` goes through the ``mp4`` muxer with ``default_base_moof`` spelled out: a two-track
  fragment that uses neither base-data-offset nor default-base-is-moof does not decode in Chromium.
* When transcoding, every encoder gets keyframes forced on the same segment boundaries
  (``n * segment_duration``), so all renditions cut at identical times and ABR switching stays seamless.
* ``--copy`` keeps the coded streams; AAC goes through ``aac_adtstoasc`` so a source carrying ADTS
  headers (MPEG-TS, raw .aac) still gets an AudioSpecificConfig in ``esds``.
"""

from __future__ import annotations

import math
import os
import re

from msetool.errors import UsageError
from msetool.fragment.probe import MediaInfo
from msetool.records import FrozenRecord

#: typing.TYPE_CHECKING without importing typing: this module loads before ffmpeg is started
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Literal

    #: a path as str or os.PathLike (pathlib.Path): pathlib itself loads after ffmpeg has started (~4 ms)
    StrPath = str | os.PathLike[str]
    VideoCodec = Literal["h264", "av1", "vp9"]
    AudioCodec = Literal["aac", "opus"]
    TrackKind = Literal["video", "audio", "muxed"]
VIDEO_CODECS: tuple[str, ...] = ("h264", "av1", "vp9")
AUDIO_CODECS: tuple[str, ...] = ("aac", "opus")

#: ffmpeg codec names that MP4-based MSE in Chromium can carry, for ``--copy``.
COPY_VIDEO = {"h264": "avc1", "hevc": "hvc1", "av1": "av01", "vp9": "vp09"}
COPY_AUDIO = {"aac": "mp4a", "opus": "Opus", "mp3": "mp4a", "flac": "fLaC", "ac3": "ac-3", "eac3": "ec-3"}

#: The dash muxer writes each representation into its own folder (created beforehand: ffmpeg does not),
#: renamed to the track id afterwards: one rename per track instead of one per segment.
REP_DIR = "rep-{}"
INIT_TEMPLATE = "rep-$RepresentationID$/init.mp4"
MEDIA_TEMPLATE = "rep-$RepresentationID$/seg-$Number%05d$.m4s"
FFMPEG_MPD = "ffmpeg.mpd"


class Rendition(FrozenRecord):
    """One video encode: size and target bitrate. A record (msetool.records), not a dataclass: this module
    loads before ffmpeg starts, and each @dataclass costs ~0.5 ms to create."""

    __slots__ = __match_args__ = ("width", "height", "bitrate_k")

    width: int
    height: int
    bitrate_k: int

    def __init__(self, width: int, height: int, bitrate_k: int) -> None:
        put = object.__setattr__
        put(self, "width", width)
        put(self, "height", height)
        put(self, "bitrate_k", bitrate_k)

    @property
    def label(self) -> str:
        return f"{self.height}p"

    def __str__(self) -> str:
        return f"{self.width}x{self.height}@{self.bitrate_k}k"


#: compiled on first use (re's cache): only ``--rendition`` needs it, and start-up is waited for
_RENDITION = r"^\s*(\d+)\s*x\s*(\d+)\s*@\s*(\d+)\s*([kKmM]?)\s*$"


def parse_rendition(spec: str) -> Rendition:
    """``1280x720@3000k`` -> Rendition. Encoders need even sizes (4:2:0 chroma), so odd ones are refused."""
    m = re.match(_RENDITION, spec)
    if not m:
        raise UsageError(f"bad rendition {spec!r}: expected WIDTHxHEIGHT@BITRATEk, e.g. 1280x720@3000k")
    w, h, rate = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if m.group(4).lower() == "m":
        rate *= 1000
    if not (16 <= w <= 8192 and 16 <= h <= 8192):
        raise UsageError(f"bad rendition {spec!r}: width and height must be between 16 and 8192")
    if w % 2 or h % 2:
        raise UsageError(f"bad rendition {spec!r}: width and height must be even (4:2:0 video)")
    if not 16 <= rate <= 200_000:
        raise UsageError(f"bad rendition {spec!r}: bitrate must be between 16k and 200000k")
    return Rendition(w, h, rate)


#: ``--ladder``: a small ABR ladder; rungs larger than the source are dropped (the smallest always stays).
DEFAULT_LADDER: tuple[Rendition, ...] = (
    Rendition(1280, 720, 3000),
    Rendition(854, 480, 1400),
    Rendition(640, 360, 800),
)


class FragmentOptions(FrozenRecord):
    """What ``msetool fragment`` was asked to do (a record, like :class:`Rendition`)."""

    __slots__ = __match_args__ = (
        "input", "output", "segment_duration", "copy", "muxed", "renditions", "ladder", "video_codec",
        "audio_codec", "audio_bitrate_k", "preset", "force",
    )  # fmt: skip

    input: StrPath
    output: StrPath
    segment_duration: float
    copy: bool
    muxed: bool
    renditions: tuple[Rendition, ...]
    ladder: bool
    video_codec: str
    audio_codec: str
    audio_bitrate_k: int
    #: Encoder speed/quality trade-off for h264 (x264 preset names).
    preset: str
    force: bool

    def __init__(  # noqa: PLR0917 (the dataclass init it replaces took every field positionally)
        self,
        input: StrPath,
        output: StrPath,
        segment_duration: float = 2.0,
        copy: bool = False,
        muxed: bool = False,
        renditions: tuple[Rendition, ...] = (),
        ladder: bool = False,
        video_codec: str = "h264",
        audio_codec: str = "aac",
        audio_bitrate_k: int = 128,
        preset: str = "veryfast",
        force: bool = False,
    ) -> None:
        put = object.__setattr__
        put(self, "input", input)
        put(self, "output", output)
        put(self, "segment_duration", segment_duration)
        put(self, "copy", copy)
        put(self, "muxed", muxed)
        put(self, "renditions", renditions)
        put(self, "ladder", ladder)
        put(self, "video_codec", video_codec)
        put(self, "audio_codec", audio_codec)
        put(self, "audio_bitrate_k", audio_bitrate_k)
        put(self, "preset", preset)
        put(self, "force", force)


class TrackOutput(FrozenRecord):
    """One init segment + its media segments, as the final output names them."""

    __slots__ = __match_args__ = ("id", "kind", "rendition", "representation", "muxed_file")

    id: str
    kind: TrackKind
    rendition: Rendition | None
    #: dash: the representation number ffmpeg substitutes for $RepresentationID$; muxed: -1.
    representation: int
    #: muxed: the fragmented file ffmpeg writes, split into segments afterwards.
    muxed_file: str

    def __init__(
        self,
        id: str,
        kind: TrackKind,
        rendition: Rendition | None = None,
        representation: int = -1,
        muxed_file: str = "",
    ) -> None:
        put = object.__setattr__
        put(self, "id", id)
        put(self, "kind", kind)
        put(self, "rendition", rendition)
        put(self, "representation", representation)
        put(self, "muxed_file", muxed_file)


class Plan(FrozenRecord):
    """The ffmpeg command line and the tracks it writes (a record, like :class:`Rendition`)."""

    __slots__ = __match_args__ = ("argv", "tracks", "container", "warnings")

    argv: list[str]
    tracks: tuple[TrackOutput, ...]
    container: Literal["dash", "mp4"]
    warnings: tuple[str, ...]

    def __init__(
        self,
        argv: list[str],
        tracks: tuple[TrackOutput, ...],
        container: Literal["dash", "mp4"],
        warnings: tuple[str, ...] = (),
    ) -> None:
        put = object.__setattr__
        put(self, "argv", argv)
        put(self, "tracks", tracks)
        put(self, "container", container)
        put(self, "warnings", warnings)


def check_options(opts: FragmentOptions) -> None:
    if not (0.5 <= opts.segment_duration <= 60) or not math.isfinite(opts.segment_duration):
        raise UsageError(f"--segment-duration {opts.segment_duration:g}: must be between 0.5 and 60 seconds")
    if opts.video_codec not in VIDEO_CODECS:
        choices = ", ".join(VIDEO_CODECS)
        raise UsageError(f"unsupported video codec {opts.video_codec!r}: choose one of {choices}")
    if opts.audio_codec not in AUDIO_CODECS:
        choices = ", ".join(AUDIO_CODECS)
        raise UsageError(f"unsupported audio codec {opts.audio_codec!r}: choose one of {choices}")
    if opts.copy and (opts.renditions or opts.ladder):
        raise UsageError("--copy keeps the coded streams, so it cannot make renditions; drop one of them")


def choose_renditions(opts: FragmentOptions, info: MediaInfo) -> tuple[Rendition | None, ...]:
    """The video encodes to make: explicit ``--rendition``s, the ladder, or one at the source size (None)."""
    if opts.renditions:
        return opts.renditions
    if opts.ladder:
        v = info.video
        src_h = v.height if v and v.height else 10_000
        rungs = tuple(r for r in DEFAULT_LADDER if r.height <= src_h)
        return rungs or DEFAULT_LADDER[-1:]
    return (None,)


def _track_ids(renditions: tuple[Rendition | None, ...], prefix: str) -> list[str]:
    if renditions == (None,):
        return [prefix]
    labels = [r.label if r else "source" for r in renditions]
    if len(set(labels)) != len(labels):
        labels = [str(r).replace("@", "-") if r else "source" for r in renditions]
    return [f"{prefix}-{lab}" for lab in labels]


def _gop_frames(info: MediaInfo, seconds: float) -> int | None:
    v = info.video
    if v is None or not v.fps or v.fps > 240:
        return None
    return max(1, round(v.fps * seconds))


def _video_encode_args(opts: FragmentOptions, info: MediaInfo, i: int, r: Rendition | None) -> dict[str, Any]:
    """Encoder options for output video stream ``i`` (stream specifiers keep the renditions apart)."""
    s = f"v:{i}"
    seg = opts.segment_duration
    a: dict[str, Any] = {f"pix_fmt:{s}": "yuv420p"}
    gop = _gop_frames(info, seg)
    if gop:
        a[f"g:{s}"] = gop
        a[f"keyint_min:{s}"] = gop
    a[f"force_key_frames:{s}"] = f"expr:gte(t,n_forced*{seg:g})"
    if opts.video_codec == "h264":
        a[f"c:{s}"] = "libx264"
        a[f"preset:{s}"] = opts.preset
        a[f"sc_threshold:{s}"] = 0
        a[f"profile:{s}"] = "high"
    elif opts.video_codec == "vp9":
        a[f"c:{s}"] = "libvpx-vp9"
        a[f"deadline:{s}"] = "realtime"
        a[f"cpu-used:{s}"] = 8
        a[f"row-mt:{s}"] = 1
    else:
        a[f"c:{s}"] = "libsvtav1"
        a[f"preset:{s}"] = 10
        a[f"svtav1-params:{s}"] = "scd=0"
    if r is not None:
        a[f"b:{s}"] = f"{r.bitrate_k}k"
        a[f"maxrate:{s}"] = f"{r.bitrate_k * 3 // 2}k"
        a[f"bufsize:{s}"] = f"{r.bitrate_k * 2}k"
    elif opts.video_codec == "h264":
        a[f"crf:{s}"] = 23
    elif opts.video_codec == "vp9":
        a[f"crf:{s}"] = 33
        a[f"b:{s}"] = 0
    else:
        a[f"crf:{s}"] = 35
    return a


def _audio_args(opts: FragmentOptions, info: MediaInfo, spec: str) -> dict[str, Any]:
    a = info.audio
    assert a is not None
    if opts.copy:
        if a.codec not in COPY_AUDIO:
            raise UsageError(
                f"{opts.input}: audio codec {a.codec!r} cannot go into MP4 for MSE as it is; "
                "drop --copy to transcode it"
            )
        out: dict[str, Any] = {f"c:{spec}": "copy", f"tag:{spec}": COPY_AUDIO[a.codec]}
        if a.codec == "aac":
            out[f"bsf:{spec}"] = "aac_adtstoasc"
        return out
    out = {f"b:{spec}": f"{opts.audio_bitrate_k}k"}
    if opts.audio_codec == "aac":
        out[f"c:{spec}"] = "aac"
        if a.sample_rate and a.sample_rate > 48000:
            out[f"ar:{spec}"] = 48000
    else:
        out[f"c:{spec}"] = "libopus"
        out[f"ar:{spec}"] = 48000
    # Audio that starts after the video is padded with silence from 0, so both tracks buffer from the
    # same time and playback does not stall waiting for audio at the start.
    out[f"filter:{spec}"] = "aresample=async=1:first_pts=0"
    return out


def _check_copy_video(opts: FragmentOptions, info: MediaInfo) -> None:
    v = info.video
    if v is not None and v.codec not in COPY_VIDEO:
        raise UsageError(
            f"{opts.input}: video codec {v.codec!r} cannot go into MP4 for MSE as it is; "
            "drop --copy to transcode it"
        )


def spelled(p: StrPath) -> str:
    """``p`` with ``~`` expanded, spelt as pathlib spells it on POSIX (``str(Path(p).expanduser())``): empty
    and ``.`` parts and trailing slashes dropped, ``..`` kept, a leading ``//`` kept as POSIX allows.

    Why not pathlib: the path checks and the command are made before ffmpeg starts, and importing pathlib
    there cost ~4 ms of every run. ffmpeg gets the input as the checks found it (a quoted ``~/in.mp4``
    included)."""
    p = os.path.expanduser(os.fspath(p))
    if os.sep != "/":  # pragma: no cover - msetool runs on POSIX systems; pathlib knows the others
        from pathlib import Path

        return str(Path(p))
    root = "//" if p[:2] == "//" and p[2:3] != "/" else "/" if p[:1] == "/" else ""
    return root + "/".join(x for x in p.split("/") if x and x != ".") or "."


_GLOBAL = ("-hide_banner", "-nostdin", "-nostats", "-loglevel", "warning", "-progress", "pipe:1")


def build_plan(opts: FragmentOptions, info: MediaInfo, workdir: StrPath, ffmpeg: str = "ffmpeg") -> Plan:
    """The ffmpeg command that writes every track of ``opts`` into ``workdir``."""
    from msetool.fragment import ffmpeg_python as ffmpeg_python_import

    ffmpeg_python = ffmpeg_python_import.load()  # ffmpeg-python: builds the filter graph and the -map list

    check_options(opts)
    if info.video is None and info.audio is None:
        raise UsageError(f"{opts.input}: no audio or video stream to package")
    warnings: list[str] = []
    if opts.copy:
        _check_copy_video(opts, info)
    if info.video is None and (opts.renditions or opts.ladder):
        raise UsageError(f"{opts.input}: has no video stream, so --rendition/--ladder cannot apply")

    src = ffmpeg_python.input(spelled(opts.input))
    work = os.fspath(workdir)
    renditions = choose_renditions(opts, info) if info.video else ()
    video_streams: list[Any] = []
    video_args: dict[str, Any] = {}
    if info.video is not None:
        if opts.copy:
            video_streams.append(src[f"{info.video.index}"])
            video_args = {"c:v:0": "copy", "tag:v:0": COPY_VIDEO[info.video.codec]}
        else:
            base = src[f"{info.video.index}"]
            split = base.filter_multi_output("split", len(renditions)) if len(renditions) > 1 else None
            for i, r in enumerate(renditions):
                s = split[i] if split is not None else base
                if r is not None:
                    s = s.filter("scale", r.width, r.height).filter("setsar", "1")
                elif (info.video.width or 0) % 2 or (info.video.height or 0) % 2:
                    # 4:2:0 encoders need even sizes: drop the odd last row/column
                    s = s.filter("crop", "trunc(iw/2)*2", "trunc(ih/2)*2")
                video_streams.append(s)
                video_args.update(_video_encode_args(opts, info, i, r))
    common: dict[str, Any] = {"map_metadata": -1, "map_chapters": -1, "sn": None, "dn": None}

    tracks: list[TrackOutput] = []
    if not opts.muxed or info.video is None or info.audio is None:
        streams = list(video_streams)
        args: dict[str, Any] = {**common, **video_args}
        vids = _track_ids(renditions, "video") if info.video else []
        for i, vid in enumerate(vids):
            tracks.append(TrackOutput(vid, "video", renditions[i], representation=i))
        sets = []
        if vids:
            sets.append("id=0,streams=v")
        if info.audio is not None:
            streams.append(src[f"{info.audio.index}"])
            args.update(_audio_args(opts, info, "a:0"))
            tracks.append(TrackOutput("audio", "audio", None, representation=len(vids)))
            sets.append(f"id={len(sets)},streams=a")
        out = ffmpeg_python.output(
            *streams,
            os.path.join(work, FFMPEG_MPD),
            format="dash",
            seg_duration=f"{opts.segment_duration:g}",
            use_template=1,
            use_timeline=1,
            single_file=0,
            init_seg_name=INIT_TEMPLATE,
            media_seg_name=MEDIA_TEMPLATE,
            adaptation_sets=" ".join(sets),
            dash_segment_type="mp4",
            **args,
        )
        argv = out.global_args(*_GLOBAL).overwrite_output().compile(cmd=ffmpeg)
        return Plan(list(argv), tuple(tracks), "dash", tuple(warnings))

    # --muxed: one fragmented MP4 per video rendition, each with the audio track, split afterwards.
    ids = _track_ids(renditions, "muxed")
    outputs = []
    for i, (tid, r) in enumerate(zip(ids, renditions, strict=True)):
        vargs = {k.replace(f"v:{i}", "v:0"): v for k, v in video_args.items() if k.endswith(f"v:{i}")}
        if opts.copy:
            vargs = dict(video_args)
        margs: dict[str, Any] = {**common, **vargs, **_audio_args(opts, info, "a:0")}
        frag = "+frag_keyframe+empty_moov+default_base_moof+skip_trailer+cmaf"
        fname = f"{tid}.mp4"
        outputs.append(
            ffmpeg_python.output(
                video_streams[i], src[f"{info.audio.index}"], os.path.join(work, fname),
                format="mp4", movflags=frag, **margs,
            )
        )
        tracks.append(TrackOutput(tid, "muxed", r, muxed_file=fname))
    merged = ffmpeg_python.merge_outputs(*outputs)
    argv = merged.global_args(*_GLOBAL).overwrite_output().compile(cmd=ffmpeg)
    return Plan(list(argv), tuple(tracks), "mp4", tuple(warnings))
