"""Per-track state: the spec's track buffer variables plus the storage of each profile.

Spec variables (#track-buffers): last decode timestamp, last frame duration, highest end timestamp,
need random access point flag. The Chromium profile adds the frame processor's per-track bookkeeping
(MseTrackBuffer in media/filters/frame_processor.cc): the queue of processed frames not yet handed to the
stream, the last processed DTS and the pending coded frame group start, used to decide when to signal a
new coded frame group to the stream.
"""

from __future__ import annotations

import math
from typing import Any

from msetool.mse.chromium_stream import ChromiumStream, Frame
from msetool.mse.ranges import TimeRanges
from msetool.mse.spec_track import SpecTrackStore

#: default per-stream memory limits (media/base/demuxer_memory_limit.h, desktop defaults)
AUDIO_MEMORY_LIMIT = 12 * 1024 * 1024
VIDEO_MEMORY_LIMIT = 150 * 1024 * 1024


class TrackBuffer:
    def __init__(
        self,
        track_id: int,
        kind: str,
        codec: str,
        chromium: bool,
        *,
        sample_rate: int | None = None,
        log: Any = None,
    ) -> None:
        self.track_id = track_id
        self.kind = kind
        self.codec = codec
        self.sample_rate = sample_rate
        self.is_audio = kind == "audio"
        # -- the spec's track buffer variables
        self.last_dts: Any = None
        self.last_dur: Any = None
        self.highest_end: Any = None
        self.need_rap = True
        # -- storage
        self.chromium = chromium
        limit = AUDIO_MEMORY_LIMIT if self.is_audio else VIDEO_MEMORY_LIMIT
        self.stream = ChromiumStream(self.is_audio, limit, log) if chromium else None
        self.store = None if chromium else SpecTrackStore()
        self.memory_limit = limit
        # -- Chromium MseTrackBuffer bookkeeping
        self.queue: list[Frame] = []
        self.last_processed_dts: int | None = None
        self.pending_group_start_pts: int | None = None
        self.last_keyframe_pts: int | None = None
        self.last_signalled_group_start: int | None = None
        self.flushed_since_group_start = False
        self.sap2_warned = False

    def reset(self) -> None:
        """Unset last decode timestamp, last frame duration, highest end timestamp; need a RAP."""
        self.last_dts = None
        self.last_dur = None
        self.highest_end = None
        self.need_rap = True
        self.last_keyframe_pts = None

    # -- Chromium frame processor hand-off ---------------------------------------------------------------

    def notify_start_of_group(self, dts: int, pts: int) -> None:
        self.last_keyframe_pts = None
        self.last_processed_dts = dts
        self.pending_group_start_pts = pts
        self.flushed_since_group_start = False
        self.last_signalled_group_start = pts
        assert self.stream is not None
        self.stream.on_start_of_coded_frame_group(pts)

    def flush(self) -> None:
        if self.queue:
            assert self.stream is not None
            self.stream.append(self.queue)
            self.queue = []
            self.flushed_since_group_start = True

    # -- reporting ----------------------------------------------------------------------------------------

    def ranges(self, duration: Any) -> TimeRanges:
        if self.stream is not None:
            r = TimeRanges(self.stream.buffered())
            if r and not _nan(duration) and duration != float("inf"):
                # ChunkDemuxerStream::GetBufferedRanges clamps to [first start, first start + duration)
                r = r.intersection(TimeRanges.of(r.start, r.start + duration))
            return r
        assert self.store is not None
        return self.store.ranges()

    def memory(self) -> int:
        if self.stream is not None:
            if not self.queue:
                return self.stream.memory()
            return self.stream.memory() + sum(f[4] + self.stream.frame_overhead for f in self.queue)
        assert self.store is not None
        return self.store.memory()

    def frame_count(self) -> int:
        if self.stream is not None:
            return self.stream.frame_count()
        assert self.store is not None
        return self.store.frame_count()

    def highest_pts(self) -> Any:
        if self.stream is not None:
            return self.stream.highest_pts() if self.stream.ranges else None
        assert self.store is not None
        return self.store.highest_pts()


def _nan(v: Any) -> bool:
    return isinstance(v, float) and math.isnan(v)
