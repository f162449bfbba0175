"""The contract between byte stream readers and the simulator: a sans-IO segment parser.

The MSE segment parser loop consumes the SourceBuffer's input buffer incrementally: an append may hold half
a segment or several segments, and the result must not depend on where the bytes were cut. Each format
provides a :class:`ByteStreamParser` that is fed appended bytes and returns events in stream order. The
simulator runs the spec's algorithms on those events; it never looks at bytes itself.

Formats register by MIME subtype in :data:`PARSERS` (lazy imports keep start-up fast).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from typing import Literal, Protocol, runtime_checkable

from msetool.mime import MimeType
from msetool.model import CodedFrame, InitSegment
from msetool.records import FrozenRecord

Profile = Literal["spec", "chromium"]


#: SourceBufferStream::kSeekToStartFudgeRoom: a paused element at 0 starts from the first buffered range
#: only when it begins before this; then it prerolls about PREROLL_MS of audio and VIDEO_PREROLL_FRAMES video
#: frames (the simulator's model, measured in Chromium 156)
SEEK_TO_START_FUDGE = 1  # second
PREROLL_MS = 200
VIDEO_PREROLL_FRAMES = 4


def may_preroll_at_start(pts: int, duration: int, timescale: int) -> bool:
    """Whether a frame could be one a paused element at 0 decodes before playback starts, on the raw
    timeline: before SEEK_TO_START_FUDGE plus the preroll depth of either kind of track (4 of its own
    durations for video, PREROLL_MS for audio). Only such a frame's decode error can fail that preroll
    (validate's GEN-DECODE-01), so parsers may leave the others unchecked once nothing else needs them
    (BmffStreamParser.preroll_scope) and validate keeps only these."""
    return (pts < timescale * SEEK_TO_START_FUDGE + VIDEO_PREROLL_FRAMES * duration
            or pts * 1000 < timescale * (SEEK_TO_START_FUDGE * 1000 + PREROLL_MS))


class InitSegmentParsed(FrozenRecord):
    """A complete initialization segment was parsed (runs the init segment received algorithm)."""

    __slots__ = __match_args__ = ("init", "offset")
    init: InitSegment
    offset: int

    def __init__(self, init: InitSegment, offset: int) -> None:
        object.__setattr__(self, "init", init)
        object.__setattr__(self, "offset", offset)


class MediaSegmentStarted(FrozenRecord):
    """The parser entered PARSING_MEDIA_SEGMENT at ``offset`` (a moof, a Cluster, ...)."""

    __slots__ = __match_args__ = ("offset", "path")
    offset: int
    path: str

    def __init__(self, offset: int, path: str = "") -> None:
        object.__setattr__(self, "offset", offset)
        object.__setattr__(self, "path", path)


class FrameColumns(FrozenRecord):
    """Consecutive coded frames of one track, one column per field (what a ``trun`` already is).

    Readers that decode whole sample tables hand them over like this instead of one :class:`CodedFrame`
    per sample: the hot consumers (the validate engine's aggregates, the simulator's steady-batch path)
    work on whole columns with builtins, and a 46k-sample file no longer costs 46k objects. Columns are
    sequences of equal length; ``decode_errors`` is sparse (index -> reason), since nearly every frame
    decodes.
    """

    __slots__ = __match_args__ = (
        "track_id", "timescale", "dts", "pts", "duration", "size", "offset", "keyframe", "decode_errors",
        "estimated",
    )  # fmt: skip
    track_id: int
    timescale: int
    dts: Sequence[int]
    pts: Sequence[int]
    duration: Sequence[int]
    size: Sequence[int]
    offset: Sequence[int]
    keyframe: Sequence[bool]
    decode_errors: Mapping[int, str]
    #: indexes whose duration the reader guessed (``CodedFrame.duration_estimated``)
    estimated: frozenset[int]

    def __init__(  # noqa: PLR0917 (the dataclass init it replaces took every field positionally)
        self,
        track_id: int,
        timescale: int,
        dts: Sequence[int],
        pts: Sequence[int],
        duration: Sequence[int],
        size: Sequence[int],
        offset: Sequence[int],
        keyframe: Sequence[bool],
        decode_errors: Mapping[int, str] | None = None,
        estimated: frozenset[int] = frozenset(),
    ) -> None:
        put = object.__setattr__
        put(self, "track_id", track_id)
        put(self, "timescale", timescale)
        put(self, "dts", dts)
        put(self, "pts", pts)
        put(self, "duration", duration)
        put(self, "size", size)
        put(self, "offset", offset)
        put(self, "keyframe", keyframe)
        put(self, "decode_errors", {} if decode_errors is None else decode_errors)
        put(self, "estimated", estimated)

    def __len__(self) -> int:
        return len(self.dts)

    def frames(self) -> list[CodedFrame]:
        """The same frames as objects, for consumers that walk frame by frame."""
        tid, ts, errs, est = self.track_id, self.timescale, self.decode_errors, self.estimated
        if not errs and not est:
            return [
                CodedFrame(tid, d, p, du, ts, k, sz, o)
                for d, p, du, sz, o, k in zip(
                    self.dts, self.pts, self.duration, self.size, self.offset, self.keyframe, strict=True
                )
            ]
        return [
            CodedFrame(tid, d, p, du, ts, k, sz, o, i in est, errs.get(i))
            for i, (d, p, du, sz, o, k) in enumerate(
                zip(self.dts, self.pts, self.duration, self.size, self.offset, self.keyframe, strict=True)
            )
        ]

    @classmethod
    def of(cls, frames: Sequence[CodedFrame]) -> FrameColumns:
        """Columns of frames that all belong to one track and timescale (the caller groups them)."""
        f0 = frames[0]
        errs = {i: f.decode_error for i, f in enumerate(frames) if f.decode_error is not None}
        est = frozenset(i for i, f in enumerate(frames) if f.duration_estimated)
        return cls(
            f0.track_id,
            f0.timescale,
            [f.dts for f in frames],
            [f.pts for f in frames],
            [f.duration for f in frames],
            [f.size for f in frames],
            [f.offset for f in frames],
            [f.keyframe for f in frames],
            errs,
            est,
        )


class FramesParsed:
    """Complete coded frames, in decode order per track, ready for coded frame processing.

    Built either from frame objects (``FramesParsed(frames)``) or from columns
    (``FramesParsed(columns=[...])``, each a run of one track, in stream order); each view is derived from
    the other on first use, so producers and consumers pick whichever is cheap for them. ``frames`` is the
    concatenation of the columns in order; ``columns`` groups consecutive frames of one track and timescale.
    """

    __slots__ = ("_columns", "_frames", "_from_columns")

    def __init__(
        self, frames: list[CodedFrame] | None = None, *, columns: Sequence[FrameColumns] | None = None
    ) -> None:
        if frames is None and columns is None:
            frames = []
        self._frames = frames
        self._from_columns = columns is not None
        self._columns: tuple[FrameColumns, ...] | None = (
            None if columns is None else tuple(c for c in columns if len(c))
        )

    @property
    def frames(self) -> list[CodedFrame]:
        if self._frames is None:
            cols = self._columns or ()
            self._frames = cols[0].frames() if len(cols) == 1 else [f for c in cols for f in c.frames()]
        return self._frames

    @property
    def columns(self) -> tuple[FrameColumns, ...]:
        if self._columns is None:
            frames = self._frames or []
            out: list[FrameColumns] = []
            start = 0
            for i in range(1, len(frames) + 1):
                if (
                    i == len(frames)
                    or frames[i].track_id != frames[start].track_id
                    or frames[i].timescale != frames[start].timescale
                ):
                    out.append(FrameColumns.of(frames[start:i]))
                    start = i
            self._columns = tuple(out)
        return self._columns

    @property
    def built_frames(self) -> list[CodedFrame] | None:
        """The frame objects if the producer built frames, None if it built columns.

        Deriving columns from frames costs about what a frame-by-frame consumer spends, so a consumer with
        both a frame loop and a column path uses the view that already exists.
        """
        return None if self._from_columns else self._frames

    @property
    def count(self) -> int:
        """Number of frames, without building either view."""
        if self._frames is not None:
            return len(self._frames)
        return sum(map(len, self._columns or ()))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FramesParsed):
            return NotImplemented
        return type(self) is type(other) and self.frames == other.frames

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"FramesParsed({self.count} frames)"


class MediaSegmentEnded(FrozenRecord):
    """The media segment ended (all its frames were emitted)."""

    __slots__ = __match_args__ = ("offset",)
    offset: int

    def __init__(self, offset: int) -> None:
        object.__setattr__(self, "offset", offset)


class _ParseNote(FrozenRecord):
    """What :class:`ParseFailed` and :class:`ParseWarning` both carry (their fields and constructor are
    the same; the two classes stay distinct types)."""

    __slots__ = __match_args__ = ("message", "offset", "path", "rule")
    message: str
    offset: int
    path: str
    rule: str | None

    def __init__(self, message: str, offset: int, path: str = "", rule: str | None = None) -> None:
        put = object.__setattr__
        put(self, "message", message)
        put(self, "offset", offset)
        put(self, "path", path)
        put(self, "rule", rule)


class ParseFailed(_ParseNote):
    """The bytes violate the byte stream format: the append error algorithm runs.

    ``message`` reads like the browser's media log where we know it; ``rule`` names the validate rule that
    predicts this failure, so simulate, validate and explain agree.
    """

    __slots__ = ()


class ParseWarning(_ParseNote):
    """Something a browser logs but tolerates (e.g. Chromium's media log warnings)."""

    __slots__ = ()


ParserEvent = (
    InitSegmentParsed | MediaSegmentStarted | FramesParsed | MediaSegmentEnded | ParseFailed | ParseWarning
)


class ByteStreamParser(Protocol):
    """A sans-IO segment parser for one SourceBuffer.

    Offsets in events count bytes since the parser was created (the concatenation of every append), which
    lets callers map them back to files.
    """

    #: True for formats without timestamps of their own (MPEG audio): the SourceBuffer forces sequence mode.
    generate_timestamps: bool

    def feed(self, data: bytes) -> list[ParserEvent]:
        """Consume appended bytes; return every event they complete. After ParseFailed, nothing more."""
        ...

    def reset(self) -> None:
        """The spec's "reset parser state": drop buffered bytes and any partial media segment."""
        ...

    def flush(self) -> list[ParserEvent]:
        """End of stream: emit what only an end can complete (e.g. an unknown-size WebM Cluster)."""
        ...

    @property
    def in_media_segment(self) -> bool:
        """True while the append state is PARSING_MEDIA_SEGMENT (setters then throw InvalidStateError)."""
        ...


@runtime_checkable
class PrerollScoped(Protocol):
    """A parser that can leave most preroll decode checks out (BmffStreamParser): ``"all"`` or ``"start"``,
    see may_preroll_at_start. The SourceBuffer narrows it once its element has prerolled."""

    preroll_scope: str


class FormatInfo(FrozenRecord):
    __slots__ = __match_args__ = ("name", "subtypes", "parser", "checker", "extra")
    name: str
    subtypes: tuple[str, ...]
    parser: str  # "module:Class"
    checker: str  # "module:function" for validate
    extra: dict[str, str]

    def __init__(
        self,
        name: str,
        subtypes: tuple[str, ...],
        parser: str,
        checker: str = "",
        extra: dict[str, str] | None = None,
    ) -> None:
        put = object.__setattr__
        put(self, "name", name)
        put(self, "subtypes", subtypes)
        put(self, "parser", parser)
        put(self, "checker", checker)
        put(self, "extra", {} if extra is None else extra)


#: Byte stream formats of the MSE registry, keyed by name.
FORMATS: dict[str, FormatInfo] = {
    "mp4": FormatInfo("mp4", ("video/mp4", "audio/mp4"), "msetool.bmff.stream:BmffStreamParser",
                      "msetool.rules.bmff:check_stream"),
    "webm": FormatInfo("webm", ("video/webm", "audio/webm"), "msetool.webm.stream:WebmStreamParser",
                       "msetool.rules.webm:check_stream"),
    "mp2t": FormatInfo("mp2t", ("video/mp2t", "audio/mp2t"), "msetool.ts.stream:TsStreamParser",
                       "msetool.rules.ts:check_stream"),
    "mpeg": FormatInfo("mpeg", ("audio/mpeg", "audio/aac", "audio/mp3"),
                       "msetool.mpeg.stream:MpegAudioStreamParser", "msetool.rules.mpeg:check_stream"),
}


def format_of(mime: MimeType) -> str | None:
    """The byte stream format name for a MIME type, or None when no format registers it."""
    for info in FORMATS.values():
        if mime.essence in info.subtypes:
            return info.name
    return None


def load(ref: str) -> object:
    module, _, attr = ref.partition(":")
    return getattr(importlib.import_module(module), attr)


def parser_for(mime: MimeType, profile: Profile = "chromium") -> ByteStreamParser:
    """A fresh parser for the byte stream format of ``mime``; raises KeyError for unknown formats."""
    name = format_of(mime)
    if name is None:
        raise KeyError(mime.essence)
    cls = load(FORMATS[name].parser)
    parser: ByteStreamParser = cls(mime=mime, profile=profile)  # type: ignore[operator]
    return parser


def reset_parser(parser: ByteStreamParser) -> list[ParserEvent]:
    """Run the parser's reset (abort(), the append error algorithm) and return what the reset emits.

    Some browsers' parsers emit frames while they are reset: Chromium's MPEG-2 TS parser flushes the PES
    packets and access units it held back (``TsStreamParser.take_reset_events``). Coded frame processing
    must run on those events before the rest of "reset parser state". Parsers without such a method emit
    nothing.
    """
    parser.reset()
    take = getattr(parser, "take_reset_events", None)
    if take is None:
        return []
    events: list[ParserEvent] = take()
    return events
