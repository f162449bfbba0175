"""Format-neutral segment model shared by every byte stream format.

The readers (``bmff``, ``webm``, ``ts``, ``mpeg``) turn bytes into these objects; the rules and the
simulator only ever see these objects, so one simulator serves four formats. Bytes that are valid byte
stream format but that a decoder refuses are not parse failures: readers mark them with ``decode_error``
(on a :class:`CodedFrame`, or on a :class:`TrackInfo` for a decoder configuration), and the simulator turns
them into the media element's decode error where the browser's pipeline would decode them.

Timestamps stay in integer ticks of the track's timescale: converting to seconds is the consumer's
decision (the spec profile keeps exact rationals, the Chromium profile truncates to microseconds).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from msetool.records import FrozenRecord, Record

if TYPE_CHECKING:
    from fractions import Fraction

TrackKind = Literal["video", "audio", "text", "other"]


class TrackInfo(FrozenRecord):
    """One track as an initialization segment declares it."""

    __slots__ = __match_args__ = (
        "track_id", "kind", "codec", "timescale", "coding_name", "width", "height", "sample_rate",
        "channels", "language", "encrypted", "presentation_offset", "default_duration", "decode_error",
    )  # fmt: skip

    track_id: int
    kind: TrackKind
    #: RFC 6381 codec string derived from the content ("avc1.64001F", "mp4a.40.2", "opus", "vp09.00.10.08").
    codec: str
    timescale: int
    #: The sample entry / codec id as stored ("avc1", "mp4a", "V_VP9", ...), for messages.
    coding_name: str
    width: int | None
    height: int | None
    sample_rate: int | None
    channels: int | None
    language: str | None
    encrypted: bool
    #: Ticks to subtract from every PTS (edit list media_time, codec delay); applied by the reader.
    presentation_offset: int
    #: Default frame duration in ticks when the stream does not carry one (WebM DefaultDuration, trex).
    default_duration: int | None
    #: Why the browser's decoder refuses this track's configuration (e.g. a WebM OpusHead whose channel
    #: count differs from the track's), or None. The byte stream is still valid: the append succeeds and
    #: the media element errors when the pipeline initializes its decoders (the simulator models that).
    decode_error: str | None

    def __init__(  # noqa: PLR0917 (the dataclass init it replaces took every field positionally)
        self,
        track_id: int,
        kind: TrackKind,
        codec: str,
        timescale: int,
        coding_name: str = "",
        width: int | None = None,
        height: int | None = None,
        sample_rate: int | None = None,
        channels: int | None = None,
        language: str | None = None,
        encrypted: bool = False,
        presentation_offset: int = 0,
        default_duration: int | None = None,
        decode_error: str | None = None,
    ) -> None:
        put = object.__setattr__
        put(self, "track_id", track_id)
        put(self, "kind", kind)
        put(self, "codec", codec)
        put(self, "timescale", timescale)
        put(self, "coding_name", coding_name)
        put(self, "width", width)
        put(self, "height", height)
        put(self, "sample_rate", sample_rate)
        put(self, "channels", channels)
        put(self, "language", language)
        put(self, "encrypted", encrypted)
        put(self, "presentation_offset", presentation_offset)
        put(self, "default_duration", default_duration)
        put(self, "decode_error", decode_error)


class InitSegment(FrozenRecord):
    """An initialization segment: the track layout every following media segment is read against."""

    __slots__ = __match_args__ = ("format", "tracks", "duration", "offset", "size")

    format: Literal["mp4", "webm", "mp2t", "mpeg"]
    tracks: tuple[TrackInfo, ...]
    #: Movie duration if the segment states one (mvhd/mehd, WebM Duration), in seconds.
    duration: Fraction | None
    offset: int
    size: int

    def __init__(
        self,
        format: Literal["mp4", "webm", "mp2t", "mpeg"],
        tracks: tuple[TrackInfo, ...],
        duration: Fraction | None = None,
        offset: int = 0,
        size: int = 0,
    ) -> None:
        put = object.__setattr__
        put(self, "format", format)
        put(self, "tracks", tracks)
        put(self, "duration", duration)
        put(self, "offset", offset)
        put(self, "size", size)

    def track(self, track_id: int) -> TrackInfo | None:
        for t in self.tracks:
            if t.track_id == track_id:
                return t
        return None


class CodedFrame(FrozenRecord):
    """A coded frame as MSE's coded frame processing sees it.

    ``dts``/``pts``/``duration`` are integer ticks of ``timescale``. ``offset`` is the byte offset of the
    frame's data in the appended stream (for messages), ``size`` its length in bytes.
    """

    __slots__ = __match_args__ = (
        "track_id", "dts", "pts", "duration", "timescale", "keyframe", "size", "offset",
        "duration_estimated", "decode_error",
    )  # fmt: skip

    track_id: int
    dts: int
    pts: int
    duration: int
    timescale: int
    keyframe: bool
    size: int
    offset: int
    #: The container gave no duration and the reader guessed it (WebM: the last block of a Cluster).
    #: Chromium replaces such a duration by the real gap when the next frame arrives and never trims
    #: it in audio splicing (source_buffer_range.cc AdjustEstimatedDurationForNewAppend).
    duration_estimated: bool
    #: Why the browser's decoder cannot decode this frame (it reads bytes that are not this frame), or
    #: None. The byte stream is still valid: the append succeeds and the media element errors if the
    #: paused element's pipeline decodes the frame (the simulator models where it does).
    decode_error: str | None

    def __init__(  # noqa: PLR0917 (the dataclass init it replaces took every field positionally)
        self,
        track_id: int,
        dts: int,
        pts: int,
        duration: int,
        timescale: int,
        keyframe: bool,
        size: int = 0,
        offset: int = 0,
        duration_estimated: bool = False,
        decode_error: str | None = None,
    ) -> None:
        put = object.__setattr__
        put(self, "track_id", track_id)
        put(self, "dts", dts)
        put(self, "pts", pts)
        put(self, "duration", duration)
        put(self, "timescale", timescale)
        put(self, "keyframe", keyframe)
        put(self, "size", size)
        put(self, "offset", offset)
        put(self, "duration_estimated", duration_estimated)
        put(self, "decode_error", decode_error)

    @property
    def pts_s(self) -> Fraction:
        from fractions import Fraction

        return Fraction(self.pts, self.timescale)

    @property
    def dts_s(self) -> Fraction:
        from fractions import Fraction

        return Fraction(self.dts, self.timescale)

    @property
    def duration_s(self) -> Fraction:
        from fractions import Fraction

        return Fraction(self.duration, self.timescale)


class MediaSegment(Record):
    """One media segment (moof+mdat, WebM Cluster, a run of TS PES packets, MPEG audio frames)."""

    __slots__ = __match_args__ = ("offset", "size", "frames", "path", "sequence_number")
    offset: int
    size: int
    frames: list[CodedFrame]
    #: Box/element path of the segment's first unit, for findings ("moof[3]", "Segment/Cluster[4]").
    path: str
    sequence_number: int | None

    def __init__(
        self,
        offset: int,
        size: int,
        frames: list[CodedFrame] | None = None,
        path: str = "",
        sequence_number: int | None = None,
    ) -> None:
        self.offset = offset
        self.size = size
        self.frames = [] if frames is None else frames
        self.path = path
        self.sequence_number = sequence_number
