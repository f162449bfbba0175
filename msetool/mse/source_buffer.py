"""SourceBuffer: the segment parser loop, init segment received, coded frame processing and removal.

Written after the W3C Media Source Extensions spec, Working Draft of 4 July 2024:
https://www.w3.org/TR/2024/WD-media-source-2-20240704/ . Step numbers in comments ("CFP 6") refer to the
numbered steps of the named algorithm there:

- SPL: #sourcebuffer-segment-parser-loop         - INIT: #sourcebuffer-init-segment-received
- CFP: #sourcebuffer-coded-frame-processing      - RST: #sourcebuffer-reset-parser-state
- REM: #sourcebuffer-coded-frame-removal         - EVICT: #sourcebuffer-coded-frame-eviction
- APP: #sourcebuffer-prepare-append / #sourcebuffer-buffer-append / #sourcebuffer-append-error

The model is sans-IO: appended bytes go to a :class:`msetool.stream.ByteStreamParser` (or tests hand in
its events directly) and everything else is state. Two profiles share the algorithm skeleton:

``spec`` runs every step per frame in exact rationals. ``chromium`` follows media/filters/frame_processor.cc
(the same steps, in integer µs, frames of one parser batch merged across tracks by DTS, audio trimmed at
the append window instead of dropped) and hands processed frames to a per-track Chromium
``SourceBufferStream`` model (msetool.mse.chromium_stream) which does overlap removal and range keeping
the way Chromium does. Each difference is listed in docs/simulate.md.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from fractions import Fraction
from itertools import chain, compress, groupby, pairwise, repeat
from operator import add, attrgetter, le, sub
from typing import TYPE_CHECKING, Any, NamedTuple

from msetool.mime import MimeType
from msetool.model import CodedFrame, InitSegment
from msetool.mse.chromium_stream import ADTS_HEADER_SIZE, DECODER_BUFFER_SIZE, Frame, Summary
from msetool.mse.events import AppendError, Event, Warning, invalid_state, type_error
from msetool.mse.profile import INF
from msetool.mse.ranges import TimeRanges
from msetool.mse.track_buffer import TrackBuffer
from msetool.stream import (
    ByteStreamParser,
    FrameColumns,
    FramesParsed,
    InitSegmentParsed,
    MediaSegmentEnded,
    MediaSegmentStarted,
    ParseFailed,
    ParserEvent,
    ParseWarning,
    PrerollScoped,
    reset_parser,
)

if TYPE_CHECKING:
    from msetool.mse.media_source import MediaSource

#: Chromium's media/base names of codec families, for messages that read like the media log.
CHROMIUM_CODEC_NAMES = {
    "avc": "h264",
    "hevc": "hevc",
    "vp9": "vp9",
    "vp8": "vp8",
    "av1": "av1",
    "aac": "aac",
    "mp3": "mp3",
    "opus": "opus",
    "flac": "flac",
    "vorbis": "vorbis",
    "ac3": "ac3",
    "eac3": "eac3",
    "dolbyvision": "dolbyvision",
}


#: bytes Chromium parses per step of an append (StreamParser kMaxPendingBytesPerParse)
PARSE_SLICE = 128 * 1024
_DECODE_ERRORS = attrgetter("decode_errors")
_RUN = attrgetter("track_id", "timescale")
_FIELDS = attrgetter("dts", "pts", "duration", "size", "keyframe", "duration_estimated", "decode_error")
_SIZE = attrgetter("size")



def _batch_bytes(ev: FramesParsed) -> int:
    frames = ev.built_frames
    if frames is not None:
        return sum(map(_SIZE, frames))
    return sum(sum(c.size) for c in ev.columns)


def _first_frame_extent(ev: FramesParsed) -> tuple[int, int]:
    """(offset, size) of the batch's first frame."""
    frames = ev.built_frames
    if frames is not None:
        return frames[0].offset, frames[0].size
    c0 = ev.columns[0]
    return c0.offset[0], c0.size[0]


class _Run(NamedTuple):
    """One track's run of a batch of frame objects, with the fields of FrameColumns the bulk path reads
    (a tuple: building a frozen dataclass per run cost the bulk path ~5% on such batches)."""

    track_id: int
    timescale: int
    dts: Sequence[int]
    pts: Sequence[int]
    duration: Sequence[int]
    size: Sequence[int]
    keyframe: Sequence[bool]
    estimated: frozenset[int] = frozenset()


def _frame_runs(frames: Sequence[CodedFrame]) -> list[_Run] | None:
    """A batch of frame objects (WebM, MPEG-TS and MPEG audio readers make those) as columns for the bulk
    path, one transposition per run instead of FrameColumns.of's pass per field; None when a frame has an
    estimated duration or a decode error (the per-frame path takes those batches)."""
    out = []
    for (tid, ts), run in groupby(frames, key=_RUN):
        d, p, du, sz, key, est, err = zip(*map(_FIELDS, run), strict=True)
        if any(est) or err.count(None) != len(err):
            return None
        out.append(_Run(tid, ts, d, p, du, sz, key))
    return out


def _regular_steps(dt: Sequence[int], pt: Sequence[int], n: int, ts: int) -> tuple[int, int, int] | None:
    """(largest µs DTS step, smallest and largest µs PTS step) of a run whose DTS and PTS ticks each rise
    by the same positive step ``s`` (lists only), without building the step lists; None otherwise.

    Ticks ``a + i*s`` become ``(a + i*s) * 1_000_000 // ts`` µs (plus the timestampOffset, which no step
    sees). With ``s * 1_000_000 = Q*ts + R`` and ``r_i`` the remainder of ``(a + i*s) * 1_000_000`` by
    ``ts``, step i is ``Q + 1`` when ``r_i + R >= ts`` (the remainder wraps) and ``Q`` otherwise, and
    ``r_{i+1}`` is ``r_i + R`` less ``ts`` if it wrapped. So some step of the ``n - 1`` wraps exactly when
    ``r_0 + (n-1)*R >= ts`` (the first wrap comes at the first i where ``r_0 + (i+1)*R`` reaches ``ts``),
    and every step wraps exactly when ``r_0 >= (n-1)*(ts - R)`` (wrapping steps lower the remainder by
    ``ts - R`` each, and the last of them still needs ``ts - R``). R = 0: every step is Q.
    """
    if type(dt) is not list:
        return None
    a = dt[0]
    s = dt[1] - a
    if s <= 0 or dt != list(range(a, a + s * n, s)):
        return None
    if pt is not dt and pt != dt:
        b = pt[0]
        if type(pt) is not list or pt != list(range(b, b + s * n, s)):
            return None
    else:
        b = a
    q, r = divmod(s * 1_000_000, ts)
    if not r:
        return q, q, q
    rd = a * 1_000_000 % ts
    rp = rd if b == a else b * 1_000_000 % ts
    hi = q + 1 if rd + (n - 1) * r >= ts else q
    plo = q + 1 if rp >= (n - 1) * (ts - r) else q
    phi = q + 1 if rp + (n - 1) * r >= ts else q
    return hi, plo, phi


class _AppendFailed(Exception):
    def __init__(self, error: AppendError) -> None:
        super().__init__(error.message)
        self.error = error


def _family(codec: str) -> str:
    from msetool.codecs.rfc6381 import CodecError, codec_family

    try:
        return codec_family(codec)
    except CodecError:
        return codec.split(".", maxsplit=1)[0].lower()


class SourceBuffer:
    """One SourceBuffer of a :class:`MediaSource`; ``id`` is the scenario's name for it."""

    #: use the bulk path for batches that provably reduce to it (tests turn it off to compare)
    fast_path = True

    def __init__(
        self,
        ms: MediaSource,
        sb_id: str,
        mime: MimeType,
        parser: ByteStreamParser | None,
        families: tuple[str, ...],
    ) -> None:
        self.ms = ms
        self.id = sb_id
        self.target = f"sb:{sb_id}"
        self._events: dict[str, Event] = {}
        self.mime = mime
        self.profile = ms.profile
        self.chromium = ms.profile.chromium
        self.parser = parser
        #: the parser told that the element has prerolled (see _buffer_append)
        self._narrowed: object = None
        #: [[generate timestamps flag]] from the byte stream format registry
        self.generate_timestamps = bool(parser.generate_timestamps) if parser is not None else False
        self.mode = "sequence" if self.generate_timestamps else "segments"
        self.updating = False
        self.removed = False
        self.timestamp_offset: Any = 0
        self.timestamp_offset_js = 0.0
        self.aws: Any = 0
        self.aws_js = 0.0
        self.awe: Any = INF
        self.awe_js = math.inf
        self.first_init_received = False
        self.pending_change_type = False
        self.group_start: Any = None
        self.group_end: Any = 0
        self.buffer_full = False
        self.tracks: dict[int, TrackBuffer] = {}
        self.track_order: list[int] = []
        #: codec families of the type (Chromium's strict codec expectations when non-empty)
        self.expected_families = families
        self.allow_codec_change = False
        self.codec_by_kind: dict[str, list[str]] = {}
        # Chromium frame processor state
        self.pending_notify_all = True
        self.preroll: list[Any] | None = None
        self.sample_duration = 0
        # bookkeeping for messages: parser offset -> (file, offset in file)
        self.fed = 0
        self.feeds: list[tuple[int, int, str, int]] = []  # (start, end, file, file offset)
        self.pending: list[tuple[str, Any]] = []
        self.segment_first_frame: dict[int, bool] = {}
        self.gen_base: dict[int, int] = {}
        self.dropped_by_window = 0
        self.dropped_no_rap = 0
        self.muxed_sequence_warned = False
        self.log: list[str] = []
        #: frames marked undecodable that coded frame processing buffered and the media element's
        #: pipeline has not looked at yet: (track kind, PTS, duration, size, keyframe, reason), model times
        self.undecodable: list[tuple[str, Any, Any, int, bool, str]] = []
        #: decoder configurations of the first initialization segment the decoder refuses: (kind, reason)
        self.config_errors: list[tuple[str, str]] = []

    # -------------------------------------------------------------------------------------------------
    # helpers

    def _event(self, typ: str) -> None:
        # events are frozen records: one per type serves every append (three of them per append)
        ev = self._events.get(typ)
        if ev is None:
            ev = self._events[typ] = Event(self.target, typ)
        self.ms.events.append(ev)

    def _warn(self, kind: str, message: str, time: float | None = None, **detail: Any) -> None:
        self.ms.warnings.append(Warning(kind, f"{self.id}: {message}", time, dict(detail)))

    def _segment_not_rap(self, track: int, t: float, dropped: bool) -> None:
        self._warn(
            "segmentNotRap",
            f"media segment does not start with a random access point on track {track}"
            + (
                ": its frames up to the next one are dropped"
                if dropped
                else " (it decodes only after the previous segment; a seek or abort() there stalls)"
            ),
            t,
        )

    def _media_log(self, msg: str) -> None:
        self.log.append(msg)

    def _locate(self, offset: int) -> tuple[str | None, int | None]:
        for start, end, name, base in self.feeds:
            if start <= offset < end or (offset == end and start == end):
                return name, base + offset - start
        if self.feeds:
            start, end, name, base = self.feeds[-1]
            return name, base + offset - start
        return None, offset

    def _fail(
        self, message: str, rule: str | None = None, offset: int | None = None, box: str | None = None
    ) -> None:
        file, off = self._locate(offset) if offset is not None else (None, None)
        raise _AppendFailed(AppendError(message, rule, off, file, box or None))

    def _check_not_removed_or_updating(self, what: str) -> None:
        if self.removed:
            raise invalid_state(
                f"Failed to {what} on 'SourceBuffer': This SourceBuffer has been removed from "
                "the parent media source."
            )
        if self.updating:
            raise invalid_state(
                f"Failed to {what} on 'SourceBuffer': This SourceBuffer is still processing an "
                "'appendBuffer' or 'remove' operation."
            )

    @property
    def parsing_media_segment(self) -> bool:
        return bool(self.parser is not None and self.parser.in_media_segment)

    # -------------------------------------------------------------------------------------------------
    # appendBuffer()

    def append_buffer(self, data: bytes, name: str = "<bytes>", file_offset: int = 0) -> None:
        """appendBuffer(data): prepare append, then queue the buffer append (run by :meth:`run_pending`)."""
        # APP prepare 1-2: removed from sourceBuffers / updating -> InvalidStateError
        self._check_not_removed_or_updating("execute 'appendBuffer'")
        # APP prepare 3: HTMLMediaElement.error is not null -> InvalidStateError
        if self.ms.element_error is not None:
            raise invalid_state(
                "Failed to execute 'appendBuffer' on 'SourceBuffer': The HTMLMediaElement.error "
                "attribute is not null."
            )
        # APP prepare 4: "ended" -> "open" + sourceopen
        self.ms.open_if_ended()
        # APP prepare 5-6: coded frame eviction; buffer full -> QuotaExceededError
        if not self._evict(len(data)):
            raise_quota()
        # appendBuffer 2-5: add to the input buffer, updating = true, updatestart, async buffer append
        self.updating = True
        self._event("updatestart")
        self.pending.append(("append", (data, name, file_offset)))

    def append_events(self, events: Sequence[ParserEvent]) -> None:
        """Tests and benchmarks: an append whose parser output is given (bytes never seen)."""
        self._check_not_removed_or_updating("execute 'appendBuffer'")
        if self.ms.element_error is not None:
            raise invalid_state("The HTMLMediaElement.error attribute is not null.")
        self.ms.open_if_ended()
        size = sum(_batch_bytes(e) for e in events if isinstance(e, FramesParsed))
        if not self._evict(size):
            raise_quota()
        self.updating = True
        self._event("updatestart")
        self.pending.append(("events", list(events)))

    def run_pending(self) -> None:
        """Run queued asynchronous work (buffer append, range removal) to completion."""
        while self.pending:
            kind, arg = self.pending.pop(0)
            if kind == "remove":
                self._range_removal(*arg)
            elif kind == "append":
                data, name, base = arg
                self._buffer_append(data=data, name=name, base=base)
            else:
                self._buffer_append(events=arg)

    def _buffer_append(
        self,
        data: bytes | None = None,
        name: str = "",
        base: int = 0,
        events: list[ParserEvent] | None = None,
    ) -> None:
        """APP buffer append: run the segment parser loop; on error the append error algorithm."""
        self.dropped_by_window = 0
        self.dropped_no_rap = 0
        for tb in self.tracks.values():
            if tb.stream is not None:
                tb.stream.overlap_removed = 0
        self.gen_base = {}
        offset_before = self.timestamp_offset
        try:
            slices = None
            if events is None:
                assert data is not None and self.parser is not None
                self.feeds.append((self.fed, self.fed + len(data), name, base))
                if self.chromium and len(data) > PARSE_SLICE:
                    slices = (self.fed, len(data))
                self.fed += len(data)
                parser = self.parser
                if self.ms.prerolled and self._narrowed is not parser:
                    # the element has prerolled (for good): decode checks of later fragments can no longer
                    # fail anything here; only those validate reads stay (BmffStreamParser.preroll_scope).
                    # Once per parser (a protocol isinstance costs microseconds)
                    self._narrowed = parser
                    if isinstance(parser, PrerollScoped) and parser.preroll_scope == "all":
                        parser.preroll_scope = "start"
                events = self.parser.feed(data)
            self._segment_parser_loop(events, slices)
        except _AppendFailed as e:
            self._append_error(e.error)
            return
        if self.timestamp_offset != offset_before:
            self.timestamp_offset_js = self.profile.to_js(self.timestamp_offset)
        self._append_warnings()
        # SPL 3 (buffer full) - spec profile keeps a byte quota per SourceBuffer
        if not self.chromium and sum(tb.memory() for tb in self.tracks.values()) > self._quota():
            self.buffer_full = True
        # APP buffer append 3-5: updating = false, update, updateend
        self.updating = False
        self._event("update")
        self._event("updateend")
        # the media element's pipeline reads what the append buffered (decode errors surface after updateend)
        self.ms.pipeline_decode()

    def _append_warnings(self) -> None:
        if self.dropped_by_window:
            self._warn(
                "appendWindow",
                f"{self.dropped_by_window} coded frame(s) dropped by the append window "
                f"[{self.aws_js}, {self.awe_js})",
                frames=self.dropped_by_window,
            )
        if self.dropped_no_rap:
            self._warn(
                "needRandomAccessPoint",
                f"{self.dropped_no_rap} coded frame(s) dropped while waiting for a random access point",
                frames=self.dropped_no_rap,
            )
        replaced = 0
        for tb in self.tracks.values():
            if tb.stream is not None:
                replaced += tb.stream.overlap_removed
        replaced += getattr(self, "_spec_replaced", 0)
        self._spec_replaced = 0
        if replaced:
            self._warn(
                "overlap",
                f"{replaced} previously buffered coded frame(s) replaced by overlapping frames",
                frames=replaced,
            )

    def _append_error(self, err: AppendError) -> None:
        """APP append error: reset parser state, updating=false, error, updateend, endOfStream("decode")."""
        self._media_log(err.message)
        self._reset_parser_state()
        self.updating = False
        self._event("error")
        self._event("updateend")
        self.ms.last_append_error = err
        self.ms.end_of_stream_algorithm("decode", err.message)

    # -------------------------------------------------------------------------------------------------
    # segment parser loop

    def _segment_parser_loop(
        self, events: Sequence[ParserEvent], slices: tuple[int, int] | None = None
    ) -> None:
        done_slice = 0
        for ev in events:
            if isinstance(ev, FramesParsed):
                if ev.count:
                    if slices is not None:
                        off0, size0 = _first_frame_extent(ev)
                        now = (off0 + size0 - 1 - slices[0]) // PARSE_SLICE
                        if now > done_slice:
                            done_slice = now
                            if self.undecodable:
                                self._decode_between_slices(off0)
                    self._coded_frame_processing(ev)
                    if slices is not None:
                        self.ms.note_first_reads()
            elif isinstance(ev, MediaSegmentStarted):
                # SPL PARSING_MEDIA_SEGMENT 1: no init segment yet (or pending changeType) -> append error
                if not self.first_init_received or self.pending_change_type:
                    self._fail(
                        "media segment received before the first initialization segment"
                        if not self.first_init_received
                        else "media segment received after changeType() before an initialization segment",
                        "GEN-11",
                        ev.offset,
                        ev.path,
                    )
                self.segment_first_frame = {tid: True for tid in self.tracks}
            elif isinstance(ev, InitSegmentParsed):
                self._init_segment_received(ev.init, ev.offset)
            elif isinstance(ev, MediaSegmentEnded):
                pass
            elif isinstance(ev, ParseFailed):
                # SPL 2: the bytes violate the byte stream format -> append error
                self._fail(ev.message, ev.rule, ev.offset, ev.path)
            elif isinstance(ev, ParseWarning):
                self._warn("parser", ev.message, rule=ev.rule, offset=ev.offset)

    def _decode_between_slices(self, offset: int) -> None:
        """Chromium parses an append PARSE_SLICE bytes at a time (SourceBufferState::RunSegmentParserLoop
        returns "more data" and Blink posts the rest), and the media element's pipeline runs in between:
        a decode error from frames of an earlier slice arrives before the next slice is parsed, which then
        fails (ChunkDemuxer shut down): the append error algorithm runs and the later slices are never
        buffered. Measured in Chromium 156 (a 161 KB muxed append whose first audio frame is undecodable:
        element error, then the SourceBuffer's error, updateend, sourceended)."""
        self.ms.pipeline_decode(final=False)
        err = self.ms.element_error
        if err is not None:
            self._fail(f"the media element failed while the append was parsed: {err[1]}", None, offset)

    # -------------------------------------------------------------------------------------------------
    # initialization segment received

    def _init_segment_received(self, init: InitSegment, offset: int) -> None:
        ms = self.ms
        av = [t for t in init.tracks if t.kind in ("audio", "video")]
        if not self.chromium:
            self._init_duration(init)
        # INIT 2: no audio, video or text tracks -> append error
        if not av:
            self._fail("initialization segment has no audio or video track", "GEN-13", offset)
        ids = [t.track_id for t in av]
        if len(set(ids)) != len(ids):
            self._fail("Duplicate bytestream track ids detected", "GEN-01", offset)
        if self.chromium:
            self._chromium_check_codecs(av, offset)
            # Chromium applies the init segment's duration once its configs were accepted (OnSourceInitDone)
            self._init_duration(init)
        if self.first_init_received:
            # INIT 3.1: same number and type of tracks as the first initialization segment
            self._check_subsequent_init(av, offset)
            # INIT 3.2-3.3: add the track descriptions; need random access point on all track buffers
            for tb in self.tracks.values():
                tb.need_rap = True
        else:
            # INIT 5: create the track buffers; the first audio/video track is active
            for t in av:
                tb = TrackBuffer(
                    t.track_id, t.kind, t.codec, self.chromium, sample_rate=t.sample_rate, log=self._media_log
                )
                self.tracks[t.track_id] = tb
                self.track_order.append(t.track_id)
            self.first_init_received = True
            self.config_errors = [(t.kind, t.decode_error) for t in av if t.decode_error is not None]
            ms.on_first_init(self)
        if self.chromium:
            # DecoderBuffer::GetMemoryUsage per buffer; AAC from MP4 carries a prepended ADTS header
            mp4 = self.mime.subtype == "mp4"
            for t in av:
                tb_ = self.tracks.get(t.track_id)
                if tb_ is not None and tb_.stream is not None:
                    aac = _family(t.codec) == "aac"
                    tb_.stream.frame_overhead = DECODER_BUFFER_SIZE + (ADTS_HEADER_SIZE if aac and mp4 else 0)
        self.codec_by_kind = {}
        for t in av:
            self.codec_by_kind.setdefault(t.kind, []).append(_family(t.codec))
            if t.kind == "audio" and t.sample_rate:
                self.sample_duration = int(1_000_000 / t.sample_rate) if self.chromium else 0
        self.preroll = None
        # INIT 6: pending initialization segment for changeType flag = false
        self.pending_change_type = False
        self.allow_codec_change = False

    def _init_duration(self, init: InitSegment) -> None:
        # INIT 1: duration NaN -> duration change to the init segment's duration (or +Infinity)
        if self.ms.duration_is_nan():
            if init.duration is not None and init.duration > 0:
                d = init.duration
                self.ms.duration_change(self.profile.ticks(d.numerator, d.denominator))
            else:
                self.ms.duration_change(INF)

    def _chromium_check_codecs(self, av: list[Any], offset: int) -> None:
        """source_buffer_state.cc OnNewConfigs: each track's codec must be one the type listed, and every
        listed codec needs a track; codec changes need changeType()."""
        if self.expected_families:
            remaining = list(self.expected_families)
            for t in av:
                fam = _family(t.codec)
                if fam not in remaining:
                    name = CHROMIUM_CODEC_NAMES.get(fam, fam)
                    kind = "Audio" if t.kind == "audio" else "Video"
                    self._fail(
                        f"{kind} stream codec {name} doesn't match SourceBuffer codecs.",
                        "BMFF-INIT-16",
                        offset,
                    )
                remaining.remove(fam)
            for fam in remaining:
                self._fail(
                    f"Initialization segment misses expected {CHROMIUM_CODEC_NAMES.get(fam, fam)} track.",
                    "BMFF-INIT-16",
                    offset,
                )
        if self.first_init_received and not self.allow_codec_change:
            for kind in ("audio", "video"):
                new = [_family(t.codec) for t in av if t.kind == kind]
                old = self.codec_by_kind.get(kind, [])
                if old and new and new[0] != old[0]:
                    label = "Audio" if kind == "audio" else "Video"
                    self._fail(
                        f"{label} codec changes not allowed unless using experimental changeType()"
                        + ("." if kind == "audio" else ""),
                        "GEN-06",
                        offset,
                    )

    def _check_subsequent_init(self, av: list[Any], offset: int) -> None:
        by_kind: dict[str, list[int]] = {}
        for tid in self.track_order:
            by_kind.setdefault(self.tracks[tid].kind, []).append(tid)
        new_by_kind: dict[str, list[int]] = {}
        for t in av:
            new_by_kind.setdefault(t.kind, []).append(t.track_id)
        for kind in ("audio", "video"):
            old, new = by_kind.get(kind, []), new_by_kind.get(kind, [])
            if self.chromium:
                # Chromium: unexpected tracks fail; a single track of a type may change its id
                if len(new) > len(old) or (len(old) > 1 and any(i not in old for i in new)):
                    extra = (
                        next(i for i in new if i not in old) if any(i not in old for i in new) else new[-1]
                    )
                    self._fail(f"Got unexpected {kind} track track_id={extra}", "GEN-05", offset)
            else:
                if len(old) != len(new):
                    self._fail(
                        f"initialization segment has {len(new)} {kind} track(s), the first one had "
                        f"{len(old)}",
                        "GEN-04",
                        offset,
                    )
                if len(old) > 1 and sorted(old) != sorted(new):
                    self._fail(f"{kind} track IDs changed across initialization segments", "GEN-05", offset)
        # remap single-track ids
        for kind in ("audio", "video"):
            old, new = by_kind.get(kind, []), new_by_kind.get(kind, [])
            if len(old) == 1 and len(new) == 1 and old[0] != new[0]:
                tb = self.tracks.pop(old[0])
                tb.track_id = new[0]
                self.tracks[new[0]] = tb
                self.track_order[self.track_order.index(old[0])] = new[0]

    # -------------------------------------------------------------------------------------------------
    # coded frame processing

    def _coded_frame_processing(self, ev: FramesParsed) -> None:
        """CFP for one parser batch. The Chromium profile first tries the bulk path on the batch's columns
        (no frame objects are built when the parser emitted columns), then the per-frame steps."""
        if self.chromium:
            if self.fast_path:
                # the batch in the form its reader made (FramesParsed.built_frames)
                frames = ev.built_frames
                cols: Sequence[FrameColumns | _Run] | None = (
                    ev.columns if frames is None else _frame_runs(frames)
                )
                if (
                    cols is not None
                    and (frames is not None or not any(map(_DECODE_ERRORS, cols)))
                    and self._chromium_steady_batch(cols)
                ):
                    return
            self._chromium_process(ev.frames)
        else:
            for f in ev.frames:
                self._spec_process_frame(f)
            # CFP 5 (after the loop): duration change to include the group end timestamp
            self.ms.increase_duration(self.group_end)

    # ---- spec profile ----------------------------------------------------------------------------------

    def _set_all_need_rap(self) -> None:
        for tb in self.tracks.values():
            tb.need_rap = True

    def _spec_process_frame(self, f: CodedFrame) -> None:
        tb = self.tracks.get(f.track_id)
        if tb is None:
            self._fail(
                f"coded frame for track {f.track_id}, which the initialization segment does not declare",
                "BMFF-MEDIA-13",
                f.offset,
            )
            return
        if self.segment_first_frame.pop(f.track_id, False) and tb.kind == "video" and not f.keyframe:
            self._segment_not_rap(f.track_id, float(Fraction(f.pts, f.timescale)), tb.need_rap)
        while True:
            # CFP 1.1-1.2 (loop top): presentation and decode timestamps; 0 when generating timestamps
            if self.generate_timestamps:
                pts: Any = Fraction(0)
                dts: Any = Fraction(0)
            else:
                pts = Fraction(f.pts, f.timescale)
                dts = Fraction(f.dts, f.timescale)
            # CFP 2: frame duration
            dur = Fraction(f.duration, f.timescale)
            # CFP 3: sequence mode with group start timestamp set
            if self.mode == "sequence" and self.group_start is not None:
                self.timestamp_offset = self.group_start - pts  # 3.1
                self.group_end = self.group_start  # 3.2
                self._set_all_need_rap()  # 3.3
                self.group_start = None  # 3.4
            # CFP 4: apply timestampOffset
            if self.timestamp_offset != 0:
                pts += self.timestamp_offset
                dts += self.timestamp_offset
            # CFP 5: track buffer = tb
            # CFP 6: discontinuity (DTS backwards, or a jump > 2 x last frame duration)
            if tb.last_dts is not None and (dts < tb.last_dts or dts - tb.last_dts > 2 * tb.last_dur):
                if self.mode == "segments":
                    self.group_end = pts  # 6.1 segments
                else:
                    self.group_start = self.group_end  # 6.1 sequence
                for t in self.tracks.values():  # 6.2-6.5
                    t.reset()
                continue  # 6.6 restart processing of the current frame
            # CFP 7: frame end timestamp
            end = pts + dur
            # CFP 8: PTS before appendWindowStart -> need RAP, drop
            # CFP 9: frame end after appendWindowEnd -> need RAP, drop
            if pts < self.aws or end > self.awe:
                tb.need_rap = True
                self.dropped_by_window += 1
                return
            # CFP 10: need random access point
            if tb.need_rap:
                if not f.keyframe:
                    self.dropped_no_rap += 1
                    return
                tb.need_rap = False
            # CFP 11-12: spliced audio / timed text frame unset
            store = tb.store
            assert store is not None
            replaced = 0
            # CFP 13: last decode timestamp unset and PTS inside an existing frame
            if tb.last_dts is None:
                over = store.overlapped_frame(pts)
                if over is not None:
                    if tb.kind == "audio":
                        # audio splice frame without crossfade: the overlapped frame becomes silence
                        # covering [overlapped PTS, PTS)
                        store.replace(over, (over[0], over[1], pts - over[0], True, over[4]))
                    elif pts < over[0] + Fraction(1, 1_000_000):
                        replaced += len(store.remove_one(over))
            # CFP 14-15: remove overlapped frames and their decode dependencies
            lo = pts if tb.highest_end is None else tb.highest_end
            if store.can_overlap(lo) and (tb.highest_end is None or tb.highest_end <= pts):
                replaced += len(store.remove_where(lambda x, lo=lo, end=end: lo <= x[0] < end))
            self._spec_replaced = getattr(self, "_spec_replaced", 0) + replaced
            # CFP 16: add the coded frame
            store.add((pts, dts, dur, f.keyframe, f.size))
            if f.decode_error is not None:
                self.undecodable.append((tb.kind, pts, dur, f.size, f.keyframe, f.decode_error))
            tb.last_dts = dts  # CFP 17
            tb.last_dur = dur  # CFP 18
            if tb.highest_end is None or end > tb.highest_end:  # CFP 19
                tb.highest_end = end
            self.group_end = max(self.group_end, end)  # CFP 20
            if self.generate_timestamps:  # CFP 21
                self.timestamp_offset = end
            return

    # ---- chromium profile ------------------------------------------------------------------------------

    def _chromium_process(self, frames: Sequence[CodedFrame]) -> None:
        """FrameProcessor::ProcessFrames for one parser batch, frame by frame."""
        ticks = self.profile.ticks
        per_track: dict[int, list[list[Any]]] = {}
        gen = self.generate_timestamps
        for f in frames:
            ts = f.timescale
            if gen:
                base = self.gen_base.setdefault(f.track_id, f.dts)
                p = ticks(f.pts - base, ts)
                e = ticks(f.pts - base + f.duration, ts)
                row = [p, p, e - p, f.keyframe, f.size, f.track_id, f.offset, f.duration_estimated,
                       f.decode_error]
            else:
                p = ticks(f.pts, ts)
                row = [
                    p,
                    ticks(f.dts, ts),
                    ticks(f.duration, ts),
                    f.keyframe,
                    f.size,
                    f.track_id,
                    f.offset,
                    f.duration_estimated,
                    f.decode_error,
                ]
            per_track.setdefault(f.track_id, []).append(row)
        # MergeBufferQueues: each track's frames must be in DTS order
        for rows in per_track.values():
            for a, b in pairwise(rows):
                if b[1] < a[1]:
                    self._fail("Parsed buffers not in DTS sequence", "BMFF-MEDIA-26", b[6])
        if len(per_track) == 1:
            merged = next(iter(per_track.values()))
        else:
            # StreamParser MergeBufferQueues: audio queues first, then the others, each in parser order;
            # on equal DTS the earlier queue wins, so an audio frame precedes a video frame with the same
            # DTS (and becomes the coded frame group start signalled to every track)
            # (the queues of one kind are a std::map keyed by track id)
            tracks = self.tracks
            order = {tid: (0 if tid in tracks and tracks[tid].is_audio else 1, tid) for tid in per_track}
            merged = sorted(
                (r for rows in per_track.values() for r in rows), key=lambda r: (r[1], order[r[5]])
            )
        if self.mode == "sequence" and len(self.tracks) > 1 and not self.muxed_sequence_warned:
            self.muxed_sequence_warned = True
            self._warn(
                "muxedSequenceMode",
                "using 'sequence' mode for a SourceBuffer with multiple tracks may "
                "cause loss of track synchronization",
            )
        offset_before = self.timestamp_offset
        predicted = offset_before
        if gen:
            predicted = offset_before + min(rows[-1][0] + rows[-1][2] for rows in per_track.values())
        for row in merged:
            self._chromium_process_frame(row)
        for tid in self.track_order:
            self.tracks[tid].flush()
        # CFP 5 after the loop: duration change (ChunkDemuxer::IncreaseDurationIfNecessary)
        self.ms.increase_duration(self.group_end)
        if gen and self.timestamp_offset == offset_before:
            # SourceBufferState::OnNewBuffers predicts the offset (crbug 850316)
            self.timestamp_offset = predicted

    def _chromium_steady_batch(self, cols: Sequence[FrameColumns | _Run]) -> bool:  # noqa: C901 - one check list
        """The hot path: a batch that continues every track's coded frame group without any event.

        When, for every track, the frames carry on from the last decode timestamp within 2 x the last
        frame duration (CFP 6 never fires), lie inside the append window (CFP 8-9 never drop or trim),
        the track needs no random access point (CFP 10), no coded frame group start is pending or
        signalled (keyframes continue the highest end timestamp without overlap or a jump beyond one
        frame duration), and presentation and end timestamps never decrease (no SAP type 2 flush), then
        ProcessFrame reduces per frame to "apply timestampOffset, enqueue, update last DTS/duration,
        highest end, group end" and tracks do not interact except through max(group end). Those steps are
        done here as list operations on the batch's columns (:class:`msetool.stream.FrameColumns`);
        anything else returns False and takes the per-frame path.
        """
        if (
            not self.fast_path
            or self.generate_timestamps
            or self.mode != "segments"
            or self.pending_notify_all
            or self.preroll
        ):
            return False
        off = self.timestamp_offset
        if off == INF:
            return False
        if len(cols) == 1:
            one = self._steady_column(cols[0], off)
            if one is not None:
                return one
        # a track's runs of the batch, in order of first appearance (muxed parsers interleave them)
        by_track: dict[int, list[FrameColumns | _Run]] = {}
        for c in cols:
            if c.estimated:
                return False  # estimated durations: per-frame path
            by_track.setdefault(c.track_id, []).append(c)
        plans = []
        aws, awe = self.aws, self.awe
        for tid, runs in by_track.items():
            tb = self.tracks.get(tid)
            if tb is None or tb.need_rap or tb.last_dts is None or tb.pending_group_start_pts is not None:
                return False
            ts = runs[0].timescale
            pt: Sequence[int]
            dt: Sequence[int]
            du: Sequence[int]
            fsize: Sequence[int]
            fkey: Sequence[bool]
            if len(runs) == 1:
                c = runs[0]
                pt, dt, du, fsize, fkey = c.pts, c.dts, c.duration, c.size, c.keyframe
            else:
                if any(c.timescale != ts for c in runs):
                    return False  # one timescale per track
                pt = list(chain.from_iterable(c.pts for c in runs))
                dt = list(chain.from_iterable(c.dts for c in runs))
                du = list(chain.from_iterable(c.duration for c in runs))
                fsize = list(chain.from_iterable(c.size for c in runs))
                fkey = list(chain.from_iterable(c.keyframe for c in runs))
            if min(pt) < 0 or min(dt) < 0:
                return False
            n = len(pt)
            const_dur = du.count(du[0]) == n
            if 1_000_000 % ts == 0:
                m = 1_000_000 // ts
                pu = [x * m + off for x in pt]
                du_us = [du[0] * m] * n if const_dur else [x * m for x in du]
                dd = pu if dt == pt else [x * m + off for x in dt]
            else:
                pu = [x * 1_000_000 // ts + off for x in pt]
                du_us = [du[0] * 1_000_000 // ts] * n if const_dur else [x * 1_000_000 // ts for x in du]
                dd = pu if dt == pt else [x * 1_000_000 // ts + off for x in dt]
            # frame end timestamps; with one duration for the batch they follow PTS and need no list
            d0 = du_us[0]
            ends = None if const_dur else list(map(add, pu, du_us))
            end_first = pu[0] + d0 if ends is None else ends[0]
            end_last = pu[-1] + d0 if ends is None else ends[-1]
            last, ldur = tb.last_dts, tb.last_dur
            if dd[0] < last or dd[0] - last > 2 * ldur or pu[0] < aws or end_last > awe:
                return False
            steps = list(map(sub, dd[1:], dd[:-1]))
            dmin, dmax = (d0, d0) if const_dur else (min(du_us), max(du_us))
            psteps = steps if dd is pu else list(map(sub, pu[1:], pu[:-1]))
            if n > 1:
                if min(steps) < 0:
                    return False
                if max(steps) > 2 * dmin and not all(map(le, steps, [2 * x for x in du_us])):
                    return False
                if min(psteps) < 0 or (ends is not None and min(map(sub, ends[1:], ends[:-1])) < 0):
                    return False  # (equal durations and non-decreasing PTS give non-decreasing ends)
            he = tb.highest_end
            lk = tb.last_keyframe_pts
            lp = tb.last_processed_dts
            if he is None or end_first < he or (lp is not None and lp > dd[0]):
                return False
            keys = list(range(n)) if tb.is_audio else [i for i, k in enumerate(fkey) if k]
            if tb.is_audio:
                # every frame is a keyframe: the highest end before it must be within [PTS - duration, PTS]
                if not (he <= pu[0] <= he + d0):
                    return False
                if n > 1:
                    if ends is None:
                        # gap to the previous frame's end = PTS step - duration, must lie in [0, duration]
                        if min(psteps) < d0 or max(psteps) > 2 * d0:
                            return False
                    elif not all(
                        0 <= g <= d for g, d in zip(map(sub, pu[1:], ends[:-1]), du_us[1:], strict=True)
                    ):
                        return False
            else:
                for i in keys:
                    before = (pu[i - 1] + du_us[i - 1]) if i else he
                    if before > pu[i] or before + du_us[i] < pu[i]:
                        return False
            if (not keys or keys[0] != 0) and lk is not None and pu[0] < lk:
                return False
            plans.append((tb, n, pu, dd, du_us, end_last, keys, steps, dmax, fsize, fkey))
        for tb, n, pu, dd, du_us, end_last, keys, steps, dmax, fsize, fkey in plans:
            audio = tb.is_audio
            sizes = fsize
            rows = list(zip(pu, dd, du_us, [True] * n if audio else fkey, sizes, [False] * n, strict=True))
            top = (pu[-1], du_us[-1]) if n == 1 or pu[-2] < pu[-1] else max(zip(pu, du_us, strict=False))
            end = (
                end_last
                if min(du_us) > 0
                else max(p + (d if d > 0 else 1) for p, d in zip(pu, du_us, strict=False))
            )
            sm = Summary(pu[0], end, max(dmax, *steps) if steps else dmax, top, sum(sizes), keys)
            self._append_steady(tb, rows, sm, audio, fkey[0], dd[-1], du_us[-1], end_last,
                                pu[keys[-1]] if keys else None)
        for tid in self.track_order:
            self.tracks[tid].flush()
        self.ms.increase_duration(self.group_end)
        return True

    def _append_steady(  # noqa: PLR0917 (the batch's last values, as both steady paths computed them)
        self, tb: TrackBuffer, rows: list[Frame], sm: Summary, audio: bool, first_key: bool, last_dts: int,
        last_dur: int, end_last: int, last_key_pts: int | None,
    ) -> None:
        """The common end of :meth:`_chromium_steady_batch` and :meth:`_steady_column`: what coded frame
        processing leaves in the track after the batch's frames, then the frames to the stream."""
        if self.segment_first_frame.pop(tb.track_id, None) and not audio and not first_key:
            self._segment_not_rap(tb.track_id, sm[0] / 1e6, False)
        tb.last_dts = last_dts
        tb.last_dur = last_dur
        tb.last_processed_dts = last_dts
        tb.highest_end = end_last
        if last_key_pts is not None:
            tb.last_keyframe_pts = last_key_pts
        self.group_end = max(self.group_end, end_last)
        assert tb.stream is not None and not tb.queue
        tb.stream.append(rows, sm)
        tb.flushed_since_group_start = True

    def _steady_column(self, c: FrameColumns | _Run, off: int) -> bool | None:  # noqa: C901 - one check list
        """:meth:`_chromium_steady_batch` for the commonest batch, one run of one track (a ``trun`` of a
        separate-track fMP4): the same checks and steps with fewer passes over the columns. None when the
        run is not plain (no frames, columns of unequal length, estimated durations, a timescale above
        1 MHz or not positive, a timestampOffset that is not an int), which the general code takes.

        Passes saved, and why they give the same answer: with integer ticks and a timescale of at most
        1 MHz, ``t -> t * 1_000_000 // timescale + offset`` is strictly increasing, so DTS (PTS) ticks are
        non-decreasing exactly when the µs DTS (PTS) steps are; the general code rejects a run with a
        negative step, and on non-decreasing columns the first value is the minimum, so "no negative
        timestamp" needs only the first DTS and PTS. The min and max of the steps are taken once and
        reused by the checks and the summary; for a run of one duration whose ticks rise by one step (what
        an encoder's fMP4 runs are) they come from :func:`_regular_steps` without building step lists.
        """
        pt, dt, du, fsize, fkey = c.pts, c.dts, c.duration, c.size, c.keyframe
        n = len(pt)
        ts = c.timescale
        if (
            not n
            or c.estimated
            or len(dt) != n
            or len(du) != n
            or len(fsize) != n
            or len(fkey) != n
            or type(ts) is not int
            or not 0 < ts <= 1_000_000
            or type(off) is not int
        ):
            return None
        tb = self.tracks.get(c.track_id)
        if tb is None or tb.need_rap or tb.last_dts is None or tb.pending_group_start_pts is not None:
            return False
        if pt[0] < 0 or dt[0] < 0:
            return False  # (later elements: a negative one follows a decrease, rejected below)
        du0 = du[0]
        const_dur = du.count(du0) == n
        pu: list[int]
        dd: list[int]
        if 1_000_000 % ts == 0:
            m = 1_000_000 // ts
            pu = [x * m + off for x in pt] if off else [x * m for x in pt]
            dd = pu if dt == pt else [x * m + off for x in dt] if off else [x * m for x in dt]
            d0 = du0 * m
            du_us = [d0] * n if const_dur else [x * m for x in du]
        else:
            pu = [x * 1_000_000 // ts + off for x in pt] if off else [x * 1_000_000 // ts for x in pt]
            if dt == pt:
                dd = pu
            else:
                dd = [x * 1_000_000 // ts + off for x in dt] if off else [x * 1_000_000 // ts for x in dt]
            d0 = du0 * 1_000_000 // ts
            du_us = [d0] * n if const_dur else [x * 1_000_000 // ts for x in du]
        # frame end timestamps; with one duration for the batch they follow PTS and need no list
        ends = None if const_dur else list(map(add, pu, du_us))
        end_first = pu[0] + d0 if ends is None else ends[0]
        end_last = pu[-1] + d0 if ends is None else ends[-1]
        dd0 = dd[0]
        last = tb.last_dts
        if dd0 < last or dd0 - last > 2 * tb.last_dur or pu[0] < self.aws or end_last > self.awe:
            return False
        dmin, dmax = (d0, d0) if const_dur else (min(du_us), max(du_us))
        audio = tb.is_audio
        smax = dmax
        pmin = 0
        if n > 1:
            regular = _regular_steps(dt, pt, n, ts) if const_dur else None
            if regular is not None:
                # the checks below on the step bounds: with one duration, "each DTS step <= 2 x its
                # frame's duration" is "largest step <= 2 x duration", and rising ticks step >= 0
                hi, pmin, pmax = regular
                if hi > 2 * d0 or (audio and (pmin < d0 or pmax > 2 * d0)):
                    return False
            else:
                steps = list(map(sub, dd[1:], dd))
                lo, hi = min(steps), max(steps)
                if lo < 0:
                    return False
                if hi > 2 * dmin and not all(map(le, steps, [2 * x for x in du_us])):
                    return False
                psteps = steps if dd is pu else list(map(sub, pu[1:], pu))
                pmin = lo if dd is pu else min(psteps)
                if pmin < 0 or (ends is not None and min(map(sub, ends[1:], ends)) < 0):
                    return False  # (equal durations and non-decreasing PTS give non-decreasing ends)
                if audio:
                    if ends is None:
                        # gap to the previous frame's end = PTS step - duration, must lie in [0, duration]
                        if pmin < d0 or max(psteps) > 2 * d0:
                            return False
                    elif not all(
                        0 <= g <= d for g, d in zip(map(sub, pu[1:], ends), du_us[1:], strict=False)
                    ):
                        return False
            smax = max(smax, hi)
        he = tb.highest_end
        lp = tb.last_processed_dts
        if he is None or end_first < he or (lp is not None and lp > dd0):
            return False
        if audio:
            # every frame is a keyframe: the highest end before it must be within [PTS - duration, PTS]
            if not (he <= pu[0] <= he + d0):
                return False
            keys = list(range(n))
        else:
            keys = list(compress(range(n), fkey))
            for i in keys:
                before = (pu[i - 1] + du_us[i - 1]) if i else he
                if before > pu[i] or before + du_us[i] < pu[i]:
                    return False
        lk = tb.last_keyframe_pts
        if (not keys or keys[0] != 0) and lk is not None and pu[0] < lk:
            return False
        # the batch is steady: the steps of _chromium_steady_batch's second loop
        rows = list(zip(pu, dd, du_us, repeat(True) if audio else fkey, fsize, repeat(False)))
        top = (pu[-1], du_us[-1]) if n == 1 or pu[-2] < pu[-1] else max(zip(pu, du_us, strict=False))
        end = end_last if dmin > 0 else max(p + (d if d > 0 else 1) for p, d in zip(pu, du_us, strict=False))
        # the keyframes' PTS when they are known to rise strictly (so the stream need not check)
        key_pts = None
        if audio:
            if pmin > 0 or n == 1:
                key_pts = pu
        elif len(keys) == 1:
            key_pts = [pu[keys[0]]]
        elif pmin > 0:
            key_pts = [pu[i] for i in keys]
        sm = Summary(pu[0], end, smax, top, sum(fsize), keys, key_pts)
        self._append_steady(tb, rows, sm, audio, fkey[0], dd[-1], du_us[-1], end_last,
                            pu[keys[-1]] if keys else None)
        tracks = self.tracks
        for tid in self.track_order:
            if tracks[tid].queue:  # (flush() does nothing to an empty queue)
                tracks[tid].flush()
        if self.group_end > self.ms.duration:  # (increase_duration does nothing otherwise, nor on NaN)
            self.ms.increase_duration(self.group_end)
        return True

    def _chromium_reset(self) -> None:
        """FrameProcessor::Reset (discontinuity, reset parser state)."""
        for tb in self.tracks.values():
            tb.reset()
        if self.mode != "sequence":
            self.pending_notify_all = True
        else:
            self.group_start = self.group_end

    def _chromium_process_frame(self, row: list[Any]) -> None:  # noqa: C901 - one spec step list
        pts, dts, dur, key, size, tid, off, est, bad = row
        tb = self.tracks.get(tid)
        if tb is None:
            self._fail(
                f"coded frame for track {tid}, which the initialization segment does not declare",
                "BMFF-MEDIA-13",
                off,
            )
            return
        if self.segment_first_frame.pop(tid, False) and not tb.is_audio and not key:
            self._segment_not_rap(tid, pts / 1e6, tb.need_rap)
        is_audio = tb.is_audio
        if is_audio and not key:
            key = True  # all audio frames are keyframes for these codecs
        seq = self.mode == "sequence"
        while True:
            p, d = pts, dts
            # CFP 3: sequence mode with group start timestamp set
            if seq and self.group_start is not None:
                if self.group_start == INF:
                    self._fail(
                        "Sequence mode timestampOffset update prevented by a group start timestamp that "
                        "exceeds range allowed by implementation",
                        None,
                        off,
                    )
                self.timestamp_offset = self.group_start - p
                self.group_end = self.group_start
                self._set_all_need_rap()
                self.pending_notify_all = True
                self.group_start = None
            # CFP 4: apply timestampOffset
            off_t = self.timestamp_offset
            if off_t != 0:
                if off_t == INF:
                    self._fail("timestampOffset exceeds range allowed by implementation", None, off)
                p += off_t
                d += off_t
            # CFP 6: discontinuity
            if tb.last_dts is not None:
                delta = d - tb.last_dts
                if delta < 0 or delta > 2 * tb.last_dur:
                    if not seq:
                        self.group_end = p
                    self._chromium_reset()
                    continue
            # CFP 7
            end = p + dur
            fdur = dur
            # partial append window trimming of audio
            if is_audio and (key or not tb.need_rap):
                trimmed = self._chromium_trim_audio(p, d, dur)
                if trimmed is not None:
                    p, d, fdur = trimmed
                    end = p + fdur
            # CFP 8-9: outside the append window -> need RAP, drop
            if p < self.aws or end > self.awe:
                tb.need_rap = True
                self.dropped_by_window += 1
                if len(self.log) < 200:
                    self._media_log(
                        f"Dropping {tb.kind} frame (DTS {d}us PTS {p}us,{end}us) that is outside append "
                        f"window [{self.aws}us,{self.awe}us)."
                    )
                return
            # CFP 10: need random access point
            if tb.need_rap:
                if not key:
                    self.dropped_no_rap += 1
                    return
                tb.need_rap = False
            # signal a new coded frame group to the streams when needed
            signal = self.pending_notify_all
            if (tb.last_processed_dts is not None and tb.last_processed_dts > d) or (
                tb.pending_group_start_pts is not None and tb.pending_group_start_pts > p
            ):
                signal = True
            if key:
                he = tb.highest_end
                if he is not None and he > p:
                    signal = True
                    tb.highest_end = None
                elif he is not None and he + fdur < p:
                    signal = True
            if signal:
                for tid2 in self.track_order:
                    self.tracks[tid2].flush()
                if self.pending_notify_all:
                    for tid2 in self.track_order:
                        self.tracks[tid2].notify_start_of_group(d, p)
                    self.pending_notify_all = False
                else:
                    lp = tb.last_processed_dts
                    udts = d if lp is None else min(lp, d)
                    upts = tb.pending_group_start_pts
                    if upts is None and tb.highest_end is not None and tb.highest_end < p:
                        upts = tb.highest_end
                    if upts is None or upts > p:
                        upts = p
                    tb.notify_start_of_group(udts, upts)
            # EnqueueProcessedFrame
            if key:
                tb.last_keyframe_pts = p
            elif tb.last_keyframe_pts is not None and p < tb.last_keyframe_pts:
                if not tb.sap2_warned:
                    tb.sap2_warned = True
                    self._warn(
                        "sapType2",
                        "presentation time of a random access point is later than a "
                        "non-keyframe that depends on it; buffered range reporting may be less precise",
                    )
                if tb.queue:
                    if not tb.flushed_since_group_start:
                        if tb.last_signalled_group_start is not None and p < tb.last_signalled_group_start:
                            tb.flush()
                    elif p < tb.queue[0][0]:
                        tb.flush()
            tb.pending_group_start_pts = None
            tb.last_processed_dts = d
            tb.queue.append((p, d, fdur, key, size, est))
            if bad is not None:
                self.undecodable.append((tb.kind, p, fdur, size, key, bad))
            # CFP 17-20
            tb.last_dts = d
            tb.last_dur = dur
            if tb.highest_end is None or end > tb.highest_end:
                tb.highest_end = end
            self.group_end = max(self.group_end, end)
            return

    def _chromium_trim_audio(self, p: int, d: int, dur: int) -> tuple[int, int, int] | None:
        """FrameProcessor::HandlePartialAppendWindowTrimming; returns new (pts, dts, duration) if trimmed."""
        aws, awe = self.aws, self.awe
        end = p + dur
        if p < aws and end <= aws:
            self.preroll = [p, d, dur]
            return None
        if p >= awe:
            return None
        processed = False
        if self.preroll is not None:
            delta = self.preroll[0] + self.preroll[2] - p
            if abs(delta) < self.sample_duration and self.preroll[0] <= p:
                processed = True
            else:
                self._media_log(
                    f"Partial append window trimming dropping unused audio preroll buffer with PTS "
                    f"{self.preroll[0]}us that ends too far ({delta}us) from next buffer with PTS {p}us"
                )
            self.preroll = None
        if p < aws:
            self._media_log(
                f"Truncating audio buffer which overlaps append window start. PTS {p}us "
                f"frame_end_timestamp {end}us append_window_start {aws}us"
            )
            delta = aws - p
            p, d, dur = aws, d + delta, end - aws
            processed = True
        if end > awe:
            self._media_log(
                f"Truncating audio buffer which overlaps append window end. PTS {p}us "
                f"frame_end_timestamp {end}us append_window_end {awe}us"
            )
            dur = int(awe - p)
            processed = True
        return (p, d, dur) if processed else None

    # -------------------------------------------------------------------------------------------------
    # reset parser state, abort()

    def _reset_parser_state(self) -> None:
        """RST: process what the parser can still complete, unset last DTS/duration/highest end, need RAP,
        sequence group start, empty the input buffer."""
        if self.parser is not None:
            # RST 1: complete coded frames in the input buffer are processed first (Chromium's MP2T parser
            # emits the PES packets and access units it held back when it is flushed)
            offset_before = self.timestamp_offset
            for ev in reset_parser(self.parser):
                if isinstance(ev, FramesParsed) and ev.count and self.first_init_received:
                    try:
                        self._coded_frame_processing(ev)
                    except _AppendFailed:
                        break
            if self.timestamp_offset != offset_before:
                self.timestamp_offset_js = self.profile.to_js(self.timestamp_offset)
        if self.chromium:
            self._chromium_reset()
            self.preroll = None
        else:
            for tb in self.tracks.values():  # RST 2-5
                tb.reset()
            if self.mode == "sequence":  # RST 6
                self.group_start = self.group_end
        # RST 7-8: empty the input buffer, WAITING_FOR_SEGMENT (the parser's reset)

    def abort(self) -> None:
        if self.removed:
            raise invalid_state(
                "Failed to execute 'abort' on 'SourceBuffer': This SourceBuffer has been removed "
                "from the parent media source."
            )
        if self.ms.ready_state != "open":
            raise invalid_state(
                "Failed to execute 'abort' on 'SourceBuffer': The parent media source's "
                "readyState is not 'open'."
            )
        if any(k == "remove" for k, _ in self.pending):
            raise invalid_state("Failed to execute 'abort' on 'SourceBuffer': removal is in progress.")
        if self.updating:
            # abort 4: abort the buffer append (its bytes are never parsed), abort + updateend
            self.pending = []
            self.updating = False
            self._event("abort")
            self._event("updateend")
        self._reset_parser_state()  # abort 5
        self.aws, self.aws_js = 0, 0.0  # abort 6
        self.awe, self.awe_js = INF, math.inf  # abort 7

    # -------------------------------------------------------------------------------------------------
    # remove()

    def remove(self, start: float, end: float) -> None:
        self._check_not_removed_or_updating("execute 'remove'")
        dur = self.ms.duration_js()
        if math.isnan(dur):
            raise type_error(
                "Failed to execute 'remove' on 'SourceBuffer': The MediaSource's duration is NaN."
            )
        if math.isnan(start) or start < 0 or start > dur:
            raise type_error(
                f"Failed to execute 'remove' on 'SourceBuffer': The start provided ({start}) is "
                f"outside the range (0, {dur})."
            )
        if math.isnan(end) or end <= start:
            raise type_error(
                f"Failed to execute 'remove' on 'SourceBuffer': The end value provided ({end}) must "
                f"be greater than the start value provided ({start})."
            )
        self.ms.open_if_ended()
        self.updating = True
        self._event("updatestart")
        self.pending.append(("remove", (start, end)))

    def _range_removal(self, start_js: float, end_js: float) -> None:
        start = self.profile.from_js(start_js)
        end = self.profile.from_js(end_js)
        self.coded_frame_removal(start, end)
        self.updating = False
        self._event("update")
        self._event("updateend")

    def coded_frame_removal(self, start: Any, end: Any) -> None:
        duration = self.ms.duration
        if self.chromium:
            if start == duration:
                return  # ChunkDemuxer::Remove: removing from the duration on is a no-op
            for tid in self.track_order:
                stream = self.tracks[tid].stream
                assert stream is not None
                stream.remove(start, end, duration)
            return
        for tb in self.tracks.values():
            store = tb.store
            assert store is not None
            # REM 3.1: remove end timestamp = duration
            remove_end = duration
            # REM 3.2: the first random access point at or after end
            rap = store.rap_at_or_after(end)
            if rap is not None:
                remove_end = rap
            # REM 3.3: remove frames whose PTS is in [start, remove end) and (3.5) their dependants
            last_dts = tb.last_dts
            gone = store.remove_where(lambda x, s=start, e=remove_end: s <= x[0] < e)
            # REM 3.4: the last appended frame was removed -> a new coded frame group starts next
            if last_dts is not None and any(g[1] == last_dts for g in gone):
                if self.mode == "segments":
                    self.group_end = next(g[0] for g in gone if g[1] == last_dts)
                else:
                    self.group_start = self.group_end
                for t in self.tracks.values():
                    t.reset()
        if self.buffer_full and sum(t.memory() for t in self.tracks.values()) <= self._quota():
            self.buffer_full = False

    # -------------------------------------------------------------------------------------------------
    # eviction

    def _quota(self) -> int:
        return sum(tb.memory_limit for tb in self.tracks.values()) or (162 * 1024 * 1024)

    def _evict(self, new_size: int) -> bool:
        """EVICT: Chromium splits the new bytes over the streams by their buffered size and lets each stream
        garbage-collect; the spec profile keeps a byte quota per SourceBuffer and evicts nothing it would need
        to play from position 0."""
        if not self.chromium:
            if sum(t.memory() for t in self.tracks.values()) + new_size > self._quota():
                self.buffer_full = True
            return not self.buffer_full
        # each track's size once: a stream's eviction changes no other track's size
        mem = {tid: tb.memory() for tid, tb in self.tracks.items()}
        total = sum(mem.values())
        if total == 0:
            return True
        ok = True
        for tid in self.track_order:
            tb = self.tracks[tid]
            cur = mem[tid]
            if cur == 0:
                continue
            assert tb.stream is not None
            ok = tb.stream.evict(new_size * cur // total, None if tb.queue else cur) and ok
        return ok

    # -------------------------------------------------------------------------------------------------
    # attributes

    def buffered(self) -> TimeRanges:
        """SourceBuffer.buffered: intersection of the audio and video track ranges (ended: last range
        extended to the highest end time)."""
        if self.removed:
            raise invalid_state(
                "Failed to read the 'buffered' property from 'SourceBuffer': This SourceBuffer "
                "has been removed from the parent media source."
            )
        per_track = [self.tracks[t].ranges(self.ms.duration) for t in self.track_order]
        return intersect_track_ranges(per_track, self.ms.buffered_ended())

    def set_mode(self, value: str) -> None:
        if value not in ("segments", "sequence"):
            raise type_error(
                f"Failed to set the 'mode' property on 'SourceBuffer': The provided value '{value}' "
                "is not a valid enum value of type AppendMode."
            )
        self._check_not_removed_or_updating("set the 'mode' property")
        # mode 3: generate timestamps flag and "segments" -> TypeError
        if self.generate_timestamps and value == "segments":
            raise type_error(
                "Failed to set the 'mode' property on 'SourceBuffer': The mode value provided "
                "(segments) is invalid for a byte stream format that uses generated timestamps."
            )
        self.ms.open_if_ended()  # mode 4
        if self.parsing_media_segment:  # mode 5
            raise invalid_state(
                "Failed to set the 'mode' property on 'SourceBuffer': The mode may not be set "
                "while the SourceBuffer's append state is 'PARSING_MEDIA_SEGMENT'."
            )
        if value == "sequence":  # mode 6
            self.group_start = self.group_end
        elif self.mode == "sequence" and self.chromium:
            self.pending_notify_all = True
        self.mode = value  # mode 7

    def set_timestamp_offset(self, value: float) -> None:
        if math.isnan(value) or math.isinf(value):
            raise type_error(
                "Failed to set the 'timestampOffset' property on 'SourceBuffer': The provided double "
                "value is non-finite."
            )
        self._check_not_removed_or_updating("set the 'timestampOffset' property")
        self.ms.open_if_ended()
        if self.parsing_media_segment:
            raise invalid_state(
                "Failed to set the 'timestampOffset' property on 'SourceBuffer': The timestamp "
                "offset may not be set while the SourceBuffer's append state is "
                "'PARSING_MEDIA_SEGMENT'."
            )
        self.timestamp_offset = self.profile.from_js(value)
        self.timestamp_offset_js = value
        if self.mode == "sequence":
            self.group_start = self.timestamp_offset
        self.preroll = None

    def set_append_window_start(self, value: float) -> None:
        if math.isnan(value) or math.isinf(value):
            raise type_error(
                "Failed to set the 'appendWindowStart' property on 'SourceBuffer': The provided "
                "double value is non-finite."
            )
        self._check_not_removed_or_updating("set the 'appendWindowStart' property")
        if value < 0 or value >= self.awe_js:
            raise type_error(
                f"Failed to set the 'appendWindowStart' property on 'SourceBuffer': The value "
                f"provided ({value}) is outside the range [0, {self.awe_js})."
            )
        self.aws, self.aws_js = self.profile.from_js(value), value

    def set_append_window_end(self, value: float) -> None:
        if math.isnan(value):
            raise type_error(
                "Failed to set the 'appendWindowEnd' property on 'SourceBuffer': The provided double "
                "value is NaN."
            )
        self._check_not_removed_or_updating("set the 'appendWindowEnd' property")
        if value <= self.aws_js:
            raise type_error(
                f"Failed to set the 'appendWindowEnd' property on 'SourceBuffer': The value provided "
                f"({value}) is less than or equal to the minimum value ({self.aws_js})."
            )
        self.awe, self.awe_js = self.profile.from_js(value), value

    def change_type(self, type_text: str, parser: ByteStreamParser, families: tuple[str, ...]) -> None:
        """changeType() after the caller checked support (NotSupportedError) and built the new parser."""
        # changeType 4: ended -> open
        self.ms.open_if_ended()
        # changeType 5: reset parser state
        self._reset_parser_state()
        # changeType 6-8: new byte stream parser, generate timestamps flag, mode
        self.parser = parser
        self.fed = 0
        self.feeds = []
        self.generate_timestamps = bool(parser.generate_timestamps)
        if self.generate_timestamps:
            self.set_mode_internal("sequence")
        self.expected_families = families
        self.allow_codec_change = True
        self.mime = _parse(type_text)
        # changeType 9: pending initialization segment for changeType flag = true
        self.pending_change_type = True

    def set_mode_internal(self, value: str) -> None:
        if value == "sequence":
            self.group_start = self.group_end
        self.mode = value

    def state(self) -> dict[str, Any]:
        to_js = _num
        st: dict[str, Any] = {
            "attached": not self.removed,
            "buffered": None if self.removed else self.buffered().map(lambda t: to_js(self.profile.to_js(t))),
            "updating": self.updating,
            "mode": self.mode,
            "timestampOffset": to_js(self.timestamp_offset_js),
            "appendWindowStart": to_js(self.aws_js),
            "appendWindowEnd": to_js(self.awe_js),
        }
        return st


def intersect_track_ranges(per_track: list[TimeRanges], ended: bool) -> TimeRanges:
    """The buffered algorithm: [0, highest end) intersected with each track's ranges (ended: the last
    range of each track extended to the highest end)."""
    ends = [r.end for r in per_track if r]
    if not ends:
        return TimeRanges()
    highest = max(ends)
    out = TimeRanges.of(0, highest)
    for r in per_track:
        out = out.intersection(r.add(r[-1][0], highest) if ended and r else r)
    return out


def _num(v: float) -> float | str:
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    if v == int(v) and abs(v) < 1e15:
        return int(v) if not isinstance(v, bool) else v
    return round(v, 9)


def _parse(text: str) -> MimeType:
    from msetool.mime import parse_mime

    return parse_mime(text)


def raise_quota() -> None:
    from msetool.mse.events import DOMException

    raise DOMException(
        "QuotaExceededError",
        "Failed to execute 'appendBuffer' on 'SourceBuffer': The SourceBuffer "
        "is full, and cannot free space to append additional buffers.",
    )


JsNumber = Callable[[float], Any]
