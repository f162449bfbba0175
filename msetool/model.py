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

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Literal

TrackKind = Literal["video", "audio", "text", "other"]


@dataclass(frozen=True, slots=True)
class TrackInfo:
    """One track as an initialization segment declares it."""

    track_id: int
    kind: TrackKind
    #: RFC 6381 codec string derived from the content ("avc1.64001F", "mp4a.40.2", "opus", "vp09.00.10.08").
    codec: str
    timescale: int
    #: The sample entry / codec id as stored ("avc1", "mp4a", "V_VP9", ...), for messages.
    coding_name: str = ""
    width: int | None = None
    height: int | None = None
    sample_rate: int | None = None
    channels: int | None = None
    language: str | None = None
    encrypted: bool = False
    #: Ticks to subtract from every PTS (edit list media_time, codec delay); applied by the reader.
    presentation_offset: int = 0
    #: Default frame duration in ticks when the stream does not carry one (WebM DefaultDuration, trex).
    default_duration: int | None = None
    #: Why the browser's decoder refuses this track's configuration (e.g. a WebM OpusHead whose channel
    #: count differs from the track's), or None. The byte stream is still valid: the append succeeds and
    #: the media element errors when the pipeline initializes its decoders (the simulator models that).
    decode_error: str | None = None


@dataclass(frozen=True, slots=True)
class InitSegment:
    """An initialization segment: the track layout every following media segment is read against."""

    format: Literal["mp4", "webm", "mp2t", "mpeg"]
    tracks: tuple[TrackInfo, ...]
    #: Movie duration if the segment states one (mvhd/mehd, WebM Duration), in seconds.
    duration: Fraction | None = None
    offset: int = 0
    size: int = 0

    def track(self, track_id: int) -> TrackInfo | None:
        for t in self.tracks:
            if t.track_id == track_id:
                return t
        return None


@dataclass(frozen=True, slots=True)
class CodedFrame:
    """A coded frame as MSE's coded frame processing sees it.

    ``dts``/``pts``/``duration`` are integer ticks of ``timescale``. ``offset`` is the byte offset of the
    frame's data in the appended stream (for messages), ``size`` its length in bytes.
    """

    track_id: int
    dts: int
    pts: int
    duration: int
    timescale: int
    keyframe: bool
    size: int = 0
    offset: int = 0
    #: The container gave no duration and the reader guessed it (WebM: the last block of a Cluster).
    #: Chromium replaces such a duration by the real gap when the next frame arrives and never trims
    #: it in audio splicing (source_buffer_range.cc AdjustEstimatedDurationForNewAppend).
    duration_estimated: bool = False
    #: Why the browser's decoder cannot decode this frame (it reads bytes that are not this frame), or
    #: None. The byte stream is still valid: the append succeeds and the media element errors if the
    #: paused element's pipeline decodes the frame (the simulator models where it does).
    decode_error: str | None = None

    @property
    def pts_s(self) -> Fraction:
        return Fraction(self.pts, self.timescale)

    @property
    def dts_s(self) -> Fraction:
        return Fraction(self.dts, self.timescale)

    @property
    def duration_s(self) -> Fraction:
        return Fraction(self.duration, self.timescale)


@dataclass(slots=True)
class MediaSegment:
    """One media segment (moof+mdat, WebM Cluster, a run of TS PES packets, MPEG audio frames)."""

    offset: int
    size: int
    frames: list[CodedFrame] = field(default_factory=list)
    #: Box/element path of the segment's first unit, for findings ("moof[3]", "Segment/Cluster[4]").
    path: str = ""
    sequence_number: int | None = None
