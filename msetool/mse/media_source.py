"""MediaSource: readyState, duration, the SourceBuffer list, endOfStream, and the media element's view.

Spec: https://www.w3.org/TR/2024/WD-media-source-2-20240704/ (#mediasource, #duration-change-algorithm,
#end-of-stream-algorithm, #addsourcebuffer-method). The media element is modelled only as far as MSE
observes it: whether it has metadata (every SourceBuffer received an initialization segment), its
``error`` (after an append error or endOfStream with an error), and ``durationchange``.

Chromium refinements (profile ``chromium``): an error before HAVE_METADATA is DEMUXER_ERROR_COULD_NOT_OPEN
(MEDIA_ERR_SRC_NOT_SUPPORTED): the element detaches the MediaSource, which closes and removes its
SourceBuffers; after HAVE_METADATA the MediaSource stays "ended" with MEDIA_ERR_DECODE. The duration setter
does not raise the duration to the highest buffered end; ChunkDemuxer truncates buffered data beyond it
instead (crbug 623729). The spec profile follows the spec's end of stream algorithm, which behaves the
same for the first case (the element's "unsupported format" path detaches the source).
"""

from __future__ import annotations

import math
from typing import Any

from msetool.codecs.support import check_type
from msetool.errors import UsageError
from msetool.mime import parse_mime
from msetool.mse.events import AppendError, DOMException, Event, Warning, invalid_state, type_error
from msetool.mse.profile import INF, Profile, get_profile
from msetool.mse.source_buffer import SourceBuffer, _num, intersect_track_ranges
from msetool.stream import (
    PREROLL_MS,
    SEEK_TO_START_FUDGE,
    VIDEO_PREROLL_FRAMES,
    ByteStreamParser,
    parser_for,
)


class MediaSource:
    """A MediaSource attached to a media element, after ``sourceopen``."""

    def __init__(self, profile: str | Profile = "chromium") -> None:
        self.profile = get_profile(profile) if isinstance(profile, str) else profile
        self.ready_state = "open"
        self.duration: Any = math.nan
        #: the double a page assigned (the getter returns it until the duration changes internally)
        self.user_duration: float | None = None
        self.source_buffers: list[SourceBuffer] = []
        self.active: list[SourceBuffer] = []
        self.events: list[Event] = []
        self.warnings: list[Warning] = []
        #: (code, message) once the media element reported an error
        self.element_error: tuple[int, str] | None = None
        self.last_append_error: AppendError | None = None
        #: the reader's reason for the frame or decoder configuration behind a pipeline decode error
        self.decode_error_reason: str | None = None
        #: Chromium's demuxer was marked end of stream (endOfStream() without error); only then does
        #: ChunkDemuxer extend the last ranges in buffered. An append error leaves readyState "ended"
        #: with the demuxer in its error state instead.
        self.eos_marked = False
        #: Chromium's ChunkDemuxer left its normal states: PARSE_ERROR after an append error or
        #: endOfStream(error), SHUTDOWN after a pipeline (decode) error. MarkEndOfStream then returns at
        #: once: endOfStream() changes readyState only (no duration change, no "ended" buffered rule).
        self.demuxer_stopped = False
        #: the paused element's pipeline has prerolled (every active track buffered PREROLL from its
        #: start); it then decodes nothing more
        self.prerolled = False
        #: (SourceBuffer id, track id) whose decoder has read its first frame
        self.reading: set[tuple[str, int]] = set()
        #: undecodable first frames the decoders read (SourceBuffer, SourceBuffer.undecodable entry)
        self.first_bad: list[tuple[SourceBuffer, tuple[str, Any, Any, int, bool, str]]] = []

    # -- helpers -----------------------------------------------------------------------------------------

    def _event(self, target: str, typ: str) -> None:
        self.events.append(Event(target, typ))

    def duration_is_nan(self) -> bool:
        return isinstance(self.duration, float) and math.isnan(self.duration)

    def duration_js(self) -> float:
        if self.ready_state == "closed" or self.duration_is_nan():
            return math.nan
        if self.user_duration is not None:
            return self.user_duration
        return self.profile.to_js(self.duration)

    def have_metadata(self) -> bool:
        sbs = self.source_buffers
        if not sbs:
            return False
        for sb in sbs:  # noqa: SIM110 - a loop: this runs after every append and parser batch
            if not sb.first_init_received:
                return False
        return True

    def open_if_ended(self) -> None:
        if self.ready_state == "ended":
            self.ready_state = "open"
            self.eos_marked = False
            self._event("mediaSource", "sourceopen")

    def on_first_init(self, sb: SourceBuffer) -> None:
        # INIT 5.x: the first audio/video track is enabled/selected -> the SB becomes active
        if sb not in self.active:
            self.active.append(sb)

    def get(self, sb_id: str) -> SourceBuffer | None:
        for sb in self.source_buffers:
            if sb.id == sb_id:
                return sb
        return None

    # -- addSourceBuffer ---------------------------------------------------------------------------------

    def add_source_buffer(self, sb_id: str, type_text: str) -> SourceBuffer:
        if not type_text.strip():
            raise type_error(
                "Failed to execute 'addSourceBuffer' on 'MediaSource': The type provided is empty."
            )
        sup = check_type(type_text, self.profile.name)
        parser = self._parser(type_text) if sup.supported else None
        if parser is None:
            raise DOMException(
                "NotSupportedError",
                f"Failed to execute 'addSourceBuffer' on 'MediaSource': The "
                f"type provided ('{type_text}') is unsupported. {sup.reason}".rstrip(),
            )
        if self.ready_state != "open":
            raise invalid_state(
                "Failed to execute 'addSourceBuffer' on 'MediaSource': The MediaSource's "
                "readyState is not 'open'."
            )
        sb = SourceBuffer(self, sb_id, parse_mime(type_text), parser, sup.families)
        self.source_buffers.append(sb)
        self._event("mediaSource", "addsourcebuffer")
        return sb

    def _parser(self, type_text: str) -> ByteStreamParser | None:
        try:
            return parser_for(parse_mime(type_text), self.profile.name)  # type: ignore[arg-type]
        except (KeyError, ImportError, AttributeError, UsageError):
            return None

    def change_type(self, sb: SourceBuffer, type_text: str) -> None:
        """SourceBuffer.changeType(type)."""
        if not type_text.strip():
            raise type_error("Failed to execute 'changeType' on 'SourceBuffer': The type provided is empty.")
        sb._check_not_removed_or_updating("execute 'changeType'")
        sup = check_type(type_text, self.profile.name)
        parser = self._parser(type_text) if sup.supported else None
        if parser is None:
            raise DOMException(
                "NotSupportedError",
                f"Failed to execute 'changeType' on 'SourceBuffer': Changing "
                f"to the type provided ('{type_text}') is not supported. {sup.reason}".rstrip(),
            )
        sb.change_type(type_text, parser, sup.families)

    # -- duration ----------------------------------------------------------------------------------------

    def _highest_buffered_start(self) -> Any:
        best: Any = None
        for sb in self.source_buffers:
            for tb in sb.tracks.values():
                h = tb.highest_pts()
                if h is not None and (best is None or h > best):
                    best = h
        return best

    def _highest_end(self) -> Any:
        best: Any = None
        for sb in self.source_buffers:
            for tid in sb.track_order:
                r = sb.tracks[tid].ranges(INF)
                if r and (best is None or r.end > best):
                    best = r.end
        return best

    def duration_change(self, new: Any, *, user: float | None = None) -> None:
        """The duration change algorithm (internal callers pass model times)."""
        if new == self.duration and not self.duration_is_nan():
            if user is not None:
                self.user_duration = user
            return
        self.duration = new
        self.user_duration = user
        self._event("video", "durationchange")

    def increase_duration(self, group_end: Any) -> None:
        """CFP 5: media beyond the duration -> duration change to max(duration, group end timestamp)."""
        if self.duration_is_nan():
            return
        if group_end > self.duration:
            self.duration_change(group_end)

    def set_duration(self, value: float) -> None:
        if math.isnan(value) or value < 0:
            raise type_error(
                f"Failed to set the 'duration' property on 'MediaSource': The value provided "
                f"({value}) is negative or NaN."
            )
        if self.ready_state != "open":
            raise invalid_state(
                "Failed to set the 'duration' property on 'MediaSource': The MediaSource's "
                "readyState is not 'open'."
            )
        if any(sb.updating for sb in self.source_buffers):
            raise invalid_state(
                "Failed to set the 'duration' property on 'MediaSource': The 'updating' attribute "
                "is true on one or more of this MediaSource's SourceBuffers."
            )
        new = self.profile.from_js(value)
        # duration change 2: below the highest buffered presentation timestamp -> InvalidStateError
        hp = self._highest_buffered_start()
        if hp is not None and new < hp:
            raise invalid_state(
                "Failed to set the 'duration' property on 'MediaSource': Setting duration below "
                "highest presentation timestamp of any buffered coded frames is disallowed. "
                "Instead, first do asynchronous remove(newDuration, oldDuration) on all "
                "sourceBuffers, where newDuration < oldDuration."
            )
        if self.profile.chromium:
            if new != self.duration:
                for sb in self.source_buffers:
                    for tb in sb.tracks.values():
                        if tb.stream is not None and new != INF:
                            tb.stream.on_set_duration(new)
            self.duration_change(new, user=value)
            return
        # duration change 3-4: never below the highest end time
        he = self._highest_end()
        if he is not None and new < he:
            new = he
            value = self.profile.to_js(he)
        self.duration_change(new, user=value)

    # -- endOfStream -------------------------------------------------------------------------------------

    def end_of_stream(self, error: str | None = None) -> None:
        if error not in (None, "network", "decode"):
            raise type_error(
                f"Failed to execute 'endOfStream' on 'MediaSource': The provided value '{error}' is "
                "not a valid enum value of type EndOfStreamError."
            )
        if self.ready_state != "open":
            raise invalid_state(
                "Failed to execute 'endOfStream' on 'MediaSource': The MediaSource's readyState "
                "is not 'open'."
            )
        if any(sb.updating for sb in self.source_buffers):
            raise invalid_state(
                "Failed to execute 'endOfStream' on 'MediaSource': The 'updating' attribute is "
                "true on one or more of this MediaSource's SourceBuffers."
            )
        self.end_of_stream_algorithm(error, None)

    def end_of_stream_algorithm(self, error: str | None, message: str | None) -> None:
        """#end-of-stream-algorithm: readyState "ended", sourceended, then by error."""
        self.ready_state = "ended"
        self._event("mediaSource", "sourceended")
        if self.profile.chromium:
            if self.demuxer_stopped:
                # ChunkDemuxer::MarkEndOfStream returns at once in PARSE_ERROR / SHUTDOWN (F7)
                return
            if error is not None:
                self.demuxer_stopped = True  # ReportError_Locked: PARSE_ERROR
        if error is None:
            if self.profile.chromium and self.have_metadata():
                # Chromium 156 ends up with the frames an MPEG-2 TS parser holds back (PES packets, access
                # units, the video duration estimator) buffered at end of stream, as after abort(): measured
                # with video-only TS (buffered grows to the last frame's end at endOfStream)
                for sb in self.source_buffers:
                    if getattr(sb.parser, "take_reset_events", None) is not None:
                        sb._reset_parser_state()
            self.eos_marked = True
            if self.profile.chromium and not self.have_metadata():
                # ChunkDemuxer::MarkEndOfStream before HAVE_METADATA: DEMUXER_ERROR_COULD_NOT_OPEN
                self._element_error(
                    4,
                    "DEMUXER_ERROR_COULD_NOT_OPEN: MediaSource endOfStream before demuxer "
                    "initialization completes (before HAVE_METADATA) is treated as an error.",
                )
                return
            # no error: duration change to the highest end time of all track buffer ranges
            he = self._highest_end()
            if he is not None and (not self.profile.chromium or self.duration_is_nan() or he < self.duration):
                self.duration_change(he)
            return
        if not self.have_metadata():
            # before HAVE_METADATA: the media element's "unsupported format" path (detaches the source)
            text = message or "stream parsing failed"
            self._element_error(
                4,
                f"PipelineStatus::CHUNK_DEMUXER_ERROR_APPEND_FAILED: {text}"
                if error == "decode"
                else "PipelineStatus::CHUNK_DEMUXER_ERROR_EOS_STATUS_NETWORK_ERROR",
            )
            return
        if error == "network":
            self._element_error(2, "PipelineStatus::CHUNK_DEMUXER_ERROR_EOS_STATUS_NETWORK_ERROR")
        elif message is not None:
            self._element_error(3, f"PipelineStatus::CHUNK_DEMUXER_ERROR_APPEND_FAILED: {message}")
        else:
            self._element_error(3, "PipelineStatus::CHUNK_DEMUXER_ERROR_EOS_STATUS_DECODE_ERROR")

    # -- the media element's pipeline (decoding) -------------------------------------------------------

    #: a buffered range that starts this close to 0 is where the pipeline's initial seek to 0 lands
    #: (source_buffer_stream.cc kSeekToStartFudgeRoom)
    SEEK_TO_START_FUDGE_US = SEEK_TO_START_FUDGE * 1_000_000
    #: how much of each track the paused element decodes before it has enough data (HAVE_ENOUGH_DATA) and
    #: stops reading (audio_renderer_algorithm.cc starting capacity 200 ms; measured in Chromium 156: a
    #: bad frame at 0.1 s behind 0.088 s of good data is decoded, one at 0.3 s behind 0.288 s is not)
    PREROLL_US = PREROLL_MS * 1000
    #: the video renderer's share: it has enough with this many frames (media/base/limits.h
    #: kMaxVideoFrames; measured in Chromium 156 on 25 fps VP9: a bad 4th frame fails, a bad 5th does not)
    VIDEO_PREROLL_FRAMES = VIDEO_PREROLL_FRAMES

    def _start_range(self, sb: SourceBuffer, tid: int) -> tuple[Any, Any] | None:
        """The track range the paused element's pipeline plays from (its first, if it starts near 0)."""
        r = sb.tracks[tid].ranges(self.duration)
        if not r:
            return None
        start, end = r[0]
        if start >= self.profile.micro(self.SEEK_TO_START_FUDGE_US):
            return None
        return start, end

    def pipeline_decode(self, *, final: bool = True) -> None:
        """After an append: what the paused element's pipeline decodes, and the decode errors that gives.

        The pipeline starts once every SourceBuffer has an initialization segment (HAVE_METADATA): its
        decoders are configured from the first initialization segments, so a configuration the decoder
        refuses is DECODER_ERROR_NOT_SUPPORTED (MEDIA_ERR_SRC_NOT_SUPPORTED: the element detaches the
        MediaSource). Paused at 0, it then reads each track from the start of its first range (if that
        starts within kSeekToStartFudgeRoom of 0) until it has enough of it (audio: PREROLL_US; video:
        VIDEO_PREROLL_FRAMES frames), and decodes those frames; an
        undecodable frame among them is PIPELINE_ERROR_DECODE (MEDIA_ERR_DECODE): the MediaSource stays
        "open", appendBuffer() throws from then on (the element's error is set), other calls work; the
        demuxer is shut down. The append itself succeeded (no error event on the SourceBuffer). Measured
        in Chromium 156 (docs/simulate.md, difference 20).

        ``final=False``: called between two 128 KiB parse slices of one append (the pipeline runs while
        Blink posts the next slice); only a track's first frame can fail that fast (measured: a bad first
        frame stops the append, a bad frame behind a good one fails after it), and the preroll goes on.
        """
        if self.element_error is not None or self.ready_state == "closed" or not self.have_metadata():
            return
        for sb in self.active:
            for kind, reason in sb.config_errors:
                self._element_error(
                    4,
                    f"PipelineStatus::DECODER_ERROR_NOT_SUPPORTED: {kind} decoder initialization failed "
                    "with DecoderStatus::Codes::kUnsupportedConfig",
                )
                self.decode_error_reason = reason
                self.demuxer_stopped = True
                self.warnings.append(
                    Warning(
                        "decodeError",
                        f"{sb.id}: the {kind} decoder refuses the initialization segment's configuration "
                        f"({reason}): the media element fails with MEDIA_ERR_SRC_NOT_SUPPORTED",
                        None,
                        {"reason": reason},
                    )
                )
                return
        if self.prerolled:
            for sb in self.source_buffers:
                sb.undecodable = []
            return
        if not final:
            # between slices only a track's very first frame fails fast enough to stop the append (its
            # decoder read it the moment it was buffered); a bad frame behind a good one fails after it
            if self.first_bad:
                sb, entry = self.first_bad[0]
                sb.undecodable = [entry]
                self.pipeline_decode()
            return
        preroll = self.profile.micro(self.PREROLL_US)
        for sb in self.active:
            bad = sb.undecodable
            if final:
                sb.undecodable = []
            for kind, pts, dur, size, key, reason in bad:
                for tid in sb.track_order:
                    tb = sb.tracks[tid]
                    if tb.kind != kind:
                        continue
                    start = self._start_range(sb, tid)
                    one = self.profile.micro(1)
                    depth = preroll if kind == "audio" else self.VIDEO_PREROLL_FRAMES * max(dur, one)
                    if start is None or not (start[0] <= pts < start[1]) or pts >= start[0] + depth:
                        continue
                    us = round(float(self.profile.to_js(pts)) * 1_000_000)
                    dus = round(float(self.profile.to_js(dur)) * 1_000_000)
                    self._element_error(
                        3,
                        f"PipelineStatus::PIPELINE_ERROR_DECODE: Failed to send {kind} packet for decoding: "
                        f"{{timestamp={us} duration={dus} size={size} is_key_frame={int(key)} encrypted=0}}",
                    )
                    self.decode_error_reason = reason
                    self.demuxer_stopped = True
                    self.warnings.append(
                        Warning(
                            "decodeError",
                            f"{sb.id}: the {kind} frame at {self.profile.to_js(pts):.6f} s cannot be "
                            f"decoded ({reason}): the media element fails with MEDIA_ERR_DECODE",
                            float(self.profile.to_js(pts)),
                            {"reason": reason},
                        )
                    )
                    return
        self.note_first_reads()
        # HAVE_ENOUGH_DATA: every active track buffered PREROLL from where the pipeline starts
        enough = True
        for sb in self.active:
            for tid in sb.track_order:
                start = self._start_range(sb, tid)
                tb = sb.tracks[tid]
                depth = preroll
                if tb.kind != "audio" and tb.last_dur is not None:
                    depth = self.VIDEO_PREROLL_FRAMES * max(tb.last_dur, self.profile.micro(1))
                if start is None or start[1] - start[0] < depth:
                    enough = False
        if enough and self.active:
            self.prerolled = True

    def note_first_reads(self) -> None:
        """Each track's decoder reads its first frame as soon as it is buffered (the media thread runs
        while the append is parsed): remember which tracks started, and whose first frame is undecodable."""
        if self.element_error is not None or self.ready_state == "closed" or not self.have_metadata():
            return
        reading = self.reading
        for sb in self.active:
            sid = sb.id
            for tid in sb.track_order:
                key = (sid, tid)
                if key in reading:
                    continue
                start = self._start_range(sb, tid)
                if start is None:
                    continue
                self.reading.add(key)
                kind = sb.tracks[tid].kind
                for entry in sb.undecodable:
                    _, pts, dur = entry[:3]
                    first = pts - start[0] < max(dur, self.profile.micro(1))
                    if entry[0] == kind and start[0] <= pts < start[1] and first:
                        self.first_bad.append((sb, entry))
                        break

    def _element_error(self, code: int, message: str) -> None:
        self.element_error = (code, message)
        self._event("video", "error")
        if code == 4:
            self.detach()

    def detach(self) -> None:
        """The element lost its source: readyState "closed", SourceBuffers removed, sourceclose."""
        self.ready_state = "closed"
        self.duration = math.nan
        self.user_duration = None
        for sb in self.source_buffers:
            sb.removed = True
            sb.pending = []
            sb.updating = False
        self.source_buffers = []
        self.active = []
        self._event("mediaSource", "sourceclose")

    # -- reporting ---------------------------------------------------------------------------------------

    def element_buffered(self) -> Any:
        ranges = [sb.buffered() for sb in self.active]
        return intersect_track_ranges(ranges, self.buffered_ended()) if ranges else None

    def buffered_ended(self) -> bool:
        """Whether buffered applies the "ended" rule (extend the last range to the highest end time)."""
        if self.profile.chromium:
            return self.ready_state == "ended" and self.eos_marked
        return self.ready_state == "ended"

    def state(self) -> dict[str, Any]:
        return {
            "readyState": self.ready_state,
            "duration": _num(self.duration_js()),
            "activeSourceBuffers": len(self.active),
            "sourceBuffers": len(self.source_buffers),
        }
