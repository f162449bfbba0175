"""Chromium's per-track buffer: ``SourceBufferStream`` + ``SourceBufferRange`` re-expressed in Python.

Chromium does not run the spec's overlap-removal steps (coded frame processing steps 13-15) frame by
frame. Its FrameProcessor hands runs of processed frames to a per-track ``SourceBufferStream``, which keeps
a list of ranges, each a decode-ordered run of frames starting with a keyframe, and decides on its own how
ranges start, continue, merge and get cut. What users see in ``SourceBuffer.buffered`` comes from here:

- a range starts at the coded frame group start time signalled by the frame processor (or its first
  frame), and ends at the highest-PTS frame's PTS + duration (1 µs for a zero-duration frame);
- new frames continue a range when their start is within the *fudge room* of the range's highest PTS:
  ``2 × max_interbuffer_distance``, the largest DTS step or frame duration ever appended to the stream
  (never shrinks, starts at 1 ms);
- overlap removal removes ``[start of new frames, end of new frames)`` (extended back to the group start for
  the first append of a group, and over ``(highest PTS of the append sequence, start)`` when jumping
  forward), always cutting ranges at keyframes so no frame survives without its keyframe;
- audio overlaps trim the overlapped frame's tail instead of removing it (when the overlap is ≥ 1 ms).

Sources: chromium/chromium media/filters/source_buffer_stream.cc and source_buffer_range.cc (read in the
store at commits 055b8ce5 and 00f279bf). Everything is integer microseconds, like ``base::TimeDelta``.
Playback state (selected range, seek, track buffer of the reader) is not modelled: the element is paused
at 0 in every scenario msetool runs.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from operator import sub
from typing import NamedTuple

#: A stored frame: (pts, dts, duration, is_keyframe, size, duration_is_estimated), times in µs.
Frame = tuple[int, int, int, bool, int, bool]

P, D, DUR, KEY, SIZE, EST = 0, 1, 2, 3, 4, 5

#: kMinimumInterbufferDistanceInMs.
MIN_INTERBUFFER_DISTANCE = 1000


#: sizeof(DecoderBuffer) in Chromium 156 on x86-64, which DecoderBuffer::GetMemoryUsage() adds to each
#: buffer's size; calibrated against the browser's eviction of AAC, ADTS, MP3 and Opus streams.
DECODER_BUFFER_SIZE = 104
#: The MP4 parser hands AAC samples over with an ADTS header prepended (AAC::ConvertEsdsToADTS).
ADTS_HEADER_SIZE = 7


class Summary(NamedTuple):
    """What Append needs to know about a run of frames, computed once (or by the caller's hot path)."""

    start: int  # lowest PTS
    end: int  # highest PTS + duration (1 µs for a zero duration), GetTimestampInterval
    max_step: int  # max(frame duration, DTS step inside the run)
    top: tuple[int, int]  # lexicographic max of (PTS, duration): the highest frame
    mem: int
    keys: list[int]  # indices of keyframes
    #: the keyframes' PTS (in ``keys`` order) when the caller knows them and knows they rise strictly
    key_pts: Sequence[int] | None = None


def summarize(frames: Sequence[Frame]) -> Summary:
    dts = [f[D] for f in frames]
    step = max(f[DUR] for f in frames)
    if len(dts) > 1:
        step = max(step, *map(sub, dts[1:], dts[:-1]))
    return Summary(
        min(f[P] for f in frames),
        max(f[P] + (f[DUR] if f[DUR] > 0 and not f[EST] else 1) for f in frames),
        step,
        max((f[P], f[DUR]) for f in frames),
        sum(f[SIZE] for f in frames),
        [i for i, f in enumerate(frames) if f[KEY]],
    )


class Range:
    """One ``SourceBufferRange`` with the NO_GAPS_ALLOWED policy (the only one MSE uses)."""

    __slots__ = (
        "frames", "hi_dur", "hi_is_max", "hi_pts", "kbase", "kidx", "kpts", "mem", "start_pts", "stream",
    )

    def __init__(self, stream: ChromiumStream, frames: Sequence[Frame], start_pts: int | None) -> None:
        self.stream = stream
        self.frames: list[Frame] = []
        #: keyframe map: keyframe PTS (sorted) -> index in ``frames``.
        self.kpts: list[int] = []
        self.kidx: list[int] = []
        #: keyframe_map_index_base_: ``kidx`` holds indices counted from the range's first frame ever
        self.kbase = 0
        self.start_pts = start_pts
        self.hi_pts: int | None = None
        self.hi_dur = 0
        #: ``hi_pts`` is at least every frame's PTS (so no frame of the range lies after the highest
        #: frame): true as long as frames were only appended or dropped from the head; recomputing the end
        #: from the last GOP after a cut may leave higher PTS in earlier GOPs, which clears it
        self.hi_is_max = True
        self.mem = 0
        self.append_to_end(frames)

    # -- appending ---------------------------------------------------------------------------------------

    def append_to_end(self, new: Sequence[Frame], summary: Summary | None = None) -> None:
        """AppendBuffersToEnd. Bulk form of the per-buffer steps (UpdateEndTime: the highest frame is the
        lexicographic maximum of (PTS, duration); the keyframe map gains each keyframe's PTS unless
        present)."""
        if not new:
            return
        sm = summary or summarize(new)
        if self.frames and self.frames[-1][EST] and not self.stream.is_audio:
            # AdjustEstimatedDurationForNewAppend: the real duration is the gap to the new first frame
            last = self.frames[-1]
            delta = new[0][P] - last[P]
            if delta != last[DUR] and delta >= 0:
                self.replace(
                    len(self.frames) - 1, (last[P], last[D], delta, bool(last[KEY]), last[SIZE], True)
                )
        base = len(self.frames)
        self.frames.extend(new)
        if self.hi_pts is None or (self.hi_pts, self.hi_dur) <= sm.top:
            self.hi_pts, self.hi_dur = sm.top
        self.mem += sm.mem
        keys = sm.keys
        if not keys:
            return
        kpts, kidx = self.kpts, self.kidx
        new_pts = sm.key_pts
        rising = True
        if new_pts is None:
            new_pts = [new[i][P] for i in keys]
            rising = len(new_pts) == 1 or min(map(sub, new_pts[1:], new_pts[:-1])) > 0
        if rising and (not kpts or kpts[-1] < new_pts[0]):
            kpts.extend(new_pts)
            b = base + self.kbase
            # keys are distinct rising indices into ``new``: as many as frames means every frame
            kidx.extend(range(b, b + len(keys)) if len(keys) == len(new) else [b + i for i in keys])
            return
        for i, pts in zip(keys, new_pts, strict=True):
            j = bisect_left(kpts, pts)
            if j == len(kpts) or kpts[j] != pts:  # std::map::insert keeps an existing key
                kpts.insert(j, pts)
                kidx.insert(j, base + self.kbase + i)

    def drop_head(self, k: int, new_start: int) -> None:
        """Delete the GOPs before keyframe-map entry ``k`` in place (what SplitRange at that keyframe
        followed by deleting the head range leaves), without copying the tail."""
        idx = self.kidx[k] - self.kbase
        self.mem -= sum(f[SIZE] for f in self.frames[:idx])
        del self.frames[:idx]
        del self.kpts[:k]
        del self.kidx[:k]
        self.kbase += idx
        self.start_pts = new_start

    def fudge(self) -> int:
        return 2 * self.stream.max_interbuffer_distance

    def is_next_in_presentation_sequence(self, ts: int) -> bool:
        hp = self.hi_pts
        assert hp is not None
        return hp == ts or (hp < ts <= hp + self.fudge())

    def is_next_in_decode_sequence(self, dts: int) -> bool:
        end = self.frames[-1][D]
        return end == dts or (end < dts <= end + self.fudge())

    def can_append_to_end(self, new: Sequence[Frame], group_start: int | None) -> bool:
        f = new[0]
        if group_start is None:
            if f[KEY]:
                return self.is_next_in_presentation_sequence(f[P]) or self._after_estimated(f, f[P])
            return self.is_next_in_decode_sequence(f[D])
        return self.is_next_in_presentation_sequence(group_start) or self._after_estimated(f, group_start)

    def _after_estimated(self, first: Frame, start: int) -> bool:
        """AllowableAppendAfterEstimatedDuration: a keyframe exactly at the end of an estimated last frame."""
        return bool(self.frames and self.frames[-1][EST] and first[KEY] and self.buffered_end() == start)

    def next_range_start_for_append(self, other: Range) -> int | None:
        first = other.frames[0][P]
        this_end = self.end()
        if first < this_end:
            return None
        nrs = other.start()
        return nrs if nrs >= this_end else this_end

    def can_append_range_to_end(self, other: Range) -> bool:
        return self.can_append_to_end(other.frames, self.next_range_start_for_append(other))

    def append_range_to_end(self, other: Range) -> None:
        self.append_to_end(other.frames)

    # -- queries -----------------------------------------------------------------------------------------

    def start(self) -> int:
        return self.start_pts if self.start_pts is not None else self.frames[0][P]

    def end(self) -> int:
        assert self.hi_pts is not None
        return self.hi_pts

    def buffered_end(self) -> int:
        assert self.hi_pts is not None
        return self.hi_pts + (self.hi_dur or 1)

    def belongs_to_range(self, ts: int | None) -> bool:
        if ts is None or not self.frames:
            return False
        return self.is_next_in_presentation_sequence(ts) or self.start() <= ts <= self.end()

    def _key_at_or_before(self, ts: int) -> int:
        """Index into the keyframe map (GetFirstKeyframeAtOrBefore); 0 when every keyframe is later."""
        kpts = self.kpts
        i = bisect_left(kpts, ts)
        if i != 0 and (i == len(kpts) or kpts[i] != ts):
            i -= 1
        return i

    def highest_buffered_at_or_before(self, ts: int) -> int:
        kpts = self.kpts
        if kpts[0] > ts:
            return self.start()
        if kpts[0] == ts:
            return ts
        idx = self.kidx[self._key_at_or_before(ts)] - self.kbase
        frames = self.frames
        result = frames[idx][P]
        for j in range(idx + 1, len(frames)):
            p = frames[j][P]
            if p > ts:
                break
            result = max(result, p)
        return result

    def next_keyframe(self, ts: int) -> int | None:
        if not self.frames or ts < self.start() or ts >= self.buffered_end():
            return None
        i = bisect_left(self.kpts, ts)
        if i == len(self.kpts):
            return None
        if i == 0 and (self.start_pts is None or ts > self.start_pts) and ts < self.kpts[0]:
            return ts
        return self.kpts[i]

    def keyframe_before(self, ts: int) -> int | None:
        if not self.frames or ts < self.start() or ts >= self.buffered_end():
            return None
        return self.kpts[self._key_at_or_before(ts)]

    def buffer_index_at(self, ts: int, skip_given: bool) -> int:
        frames = self.frames
        if not self.kpts:
            return len(frames)
        k = self._key_at_or_before(ts)
        i = self.kidx[k] - self.kbase
        stop = self.kidx[k + 1] - self.kbase if k + 1 < len(self.kidx) else len(frames)
        while i < stop:
            p = frames[i][P]
            if p > ts or (not skip_given and p == ts):
                break
            i += 1
        return i

    def frames_overlapping(self, start: int, end: int) -> list[int] | None:
        """GetBuffersInRange: indices of frames intersecting [start, end); None if any has no duration."""
        first = self.keyframe_before(start)
        if first is None:
            return []
        out: list[int] = []
        frames = self.frames
        for i in range(self.buffer_index_at(first, False), len(frames)):
            f = frames[i]
            if f[DUR] <= 0:
                return None
            if f[P] >= end:
                break
            if f[P] + f[DUR] <= start:
                continue
            out.append(i)
        return out

    # -- cutting -----------------------------------------------------------------------------------------

    def _update_end_from_last_gop(self) -> None:
        self.hi_pts, self.hi_dur = None, 0
        if not self.frames or not self.kidx:
            self.hi_is_max = not self.frames
            return
        # the scan below covers every frame only when the last GOP starts at the range's first frame
        self.hi_is_max = self.kidx[-1] == self.kbase
        hp: int | None = None
        hd = 0
        for f in self.frames[self.kidx[-1] - self.kbase :]:
            if hp is None or hp < f[P] or (hp == f[P] and hd <= f[DUR]):
                hp, hd = f[P], f[DUR]
        self.hi_pts, self.hi_dur = hp, hd

    def truncate_at_index(self, idx: int) -> tuple[bool, int]:
        """Delete frames[idx:]; returns (range now empty, frames deleted)."""
        frames = self.frames
        if idx >= len(frames):
            return not frames, 0
        cut_pts = frames[idx][P]
        k = bisect_left(self.kpts, cut_pts)
        del self.kpts[k:]
        del self.kidx[k:]
        n = len(frames) - idx
        self.mem -= sum(f[SIZE] for f in frames[idx:])
        del frames[idx:]
        self._update_end_from_last_gop()
        return not frames, n

    def truncate_at(self, ts: int, exclusive: bool) -> tuple[bool, int]:
        return self.truncate_at_index(self.buffer_index_at(ts, exclusive))

    def split(self, ts: int) -> Range | None:
        """SplitRange: move the GOPs whose keyframe PTS is >= ts into a new range."""
        k = bisect_left(self.kpts, ts)
        if k == len(self.kpts):
            return None
        idx = self.kidx[k] - self.kbase
        moved = self.frames[idx:]
        new_start = max(ts, self.start()) if self.frames else ts
        del self.kpts[k:]
        del self.kidx[k:]
        self.mem -= sum(f[SIZE] for f in moved)
        del self.frames[idx:]
        self._update_end_from_last_gop()
        return Range(self.stream, moved, new_start)

    def delete_gop_from_back(self) -> list[Frame]:
        idx = self.kidx.pop() - self.kbase
        self.kpts.pop()
        gone = self.frames[idx:]
        del self.frames[idx:]
        self.mem -= sum(f[SIZE] for f in gone)
        self._update_end_from_last_gop()
        return gone

    def replace(self, i: int, frame: Frame) -> None:
        old = self.frames[i]
        self.frames[i] = frame
        if self.hi_pts == old[P] and self.hi_dur == old[DUR]:
            self._update_end_from_last_gop()


class ChromiumStream:
    """One track's ``SourceBufferStream`` (append, remove, ranges, splice trimming, memory limit)."""

    #: append frames that just continue the only range without the general removal and merge steps
    #: (:meth:`_continues_only_range`; tests turn it off to compare)
    fast_path = True

    def __init__(self, is_audio: bool, memory_limit: int, log: Callable[[str], None] | None = None) -> None:
        self.is_audio = is_audio
        self.memory_limit = memory_limit
        #: bytes each buffer costs beyond its payload (set by the track buffer for its codec)
        self.frame_overhead = DECODER_BUFFER_SIZE
        self.ranges: list[Range] = []
        self.rfna: Range | None = None  # range_for_next_append_
        self.cfg_start: int | None = None  # coded_frame_group_start_pts_
        self.new_cfg = False
        self.max_interbuffer_distance = MIN_INTERBUFFER_DISTANCE
        self._log = log or (lambda _m: None)
        #: Frames deleted by overlap removal since the counter was last read (for warnings).
        self.overlap_removed = 0
        self._reset_last_appended()

    def _reset_last_appended(self) -> None:
        self.last_ts: int | None = None
        self.last_dur: int | None = None
        self.last_key = False
        self.last_dts: int | None = None
        self.hi_in_seq: int | None = None
        self.hi_end_in_seq: int | None = None

    # -- coded frame groups ------------------------------------------------------------------------------

    def find_range_for(self, ts: int | None) -> Range | None:
        for r in self.ranges:
            if r.belongs_to_range(ts):
                return r
        return None

    def _adjacent_to_append_sequence(self, ts: int) -> bool:
        h = self.hi_in_seq
        return h is not None and h < ts <= h + 2 * self.max_interbuffer_distance

    def on_start_of_coded_frame_group(self, start_pts: int) -> None:
        self.cfg_start = start_pts
        self.new_cfg = True
        self.rfna = self.find_range_for(start_pts)
        if self.rfna is None or not self._adjacent_to_append_sequence(start_pts):
            self._reset_last_appended()
            if self.rfna is not None:
                adjusted = self.rfna.highest_buffered_at_or_before(start_pts)
                if adjusted < start_pts:
                    self.cfg_start = adjusted + 1

    # -- append ------------------------------------------------------------------------------------------

    def _update_max_interbuffer_distance(self, frames: Sequence[Frame], sm: Summary) -> bool:
        old = self.max_interbuffer_distance
        best = sm.max_step
        prev = self.last_dts
        if prev is not None:
            best = max(best, frames[0][D] - prev)
        if best > old:
            self.max_interbuffer_distance = best
        return self.max_interbuffer_distance != old

    def append(self, frames: list[Frame], summary: Summary | None = None) -> None:
        assert frames and self.cfg_start is not None
        sm = summary or summarize(frames)
        if self._update_max_interbuffer_distance(frames, sm):
            self._merge_all_adjacent()
        if self.fast_path and self._continues_only_range(frames, sm):
            # nothing to remove, trim or merge: the frames just extend the one range (then what
            # _set_last_appended does, the range's end being set by the append)
            r = self.ranges[0]
            r.append_to_end(frames, sm)
            last = frames[-1]
            self.last_ts, self.last_dur = last[P], last[DUR]
            self.last_key, self.last_dts = bool(last[KEY]), last[D]
            hp = r.hi_pts
            assert hp is not None
            self.hi_in_seq = hp
            self.hi_end_in_seq = hp + (r.hi_dur or 1)
            return
        self._prepare_ranges_for_next_append(frames, sm)
        if self.rfna is not None:
            self.rfna.append_to_end(frames, sm)
            self._set_last_appended(frames[-1])
        else:
            start = min(self.cfg_start, frames[0][P])
            use = frames
            if not self.new_cfg:
                k = next((i for i, f in enumerate(frames) if f[KEY]), None)
                if k is None:
                    self.last_ts, self.last_dur = frames[-1][P], frames[-1][DUR]
                    self.last_key, self.last_dts = bool(frames[-1][KEY]), frames[-1][D]
                    return
                use = frames[k:]
                start = use[0][P]
            self.rfna = self._add_range(Range(self, use, start))
            self._set_last_appended(use[-1])
        self.new_cfg = False
        i = self.ranges.index(self.rfna)
        self._merge_with_next(i)
        if i > 0:
            self._merge_with_next(i - 1)
        self._merge_all_adjacent()

    def _continues_only_range(self, frames: Sequence[Frame], sm: Summary) -> bool:
        """Whether ``frames`` carry on the append sequence of the stream's only range with every step of
        the general append a no-op, so appending them to the end is all that happens.

        Conditions: one range, the range for the next append, no new coded frame group, and every new
        frame after the highest PTS of the append sequence, which is the range's highest frame and at
        least every PTS in it (``hi_is_max``). Then both overlap removals (``(highest, start)`` for the
        jump forward, ``[start, end)`` for the new frames) find no frame at or after their start in the
        range, no keyframe at or after their end to split at, and leave the range for the next append in
        place (it still holds the highest PTS); audio splice trimming finds no frame under the first new
        one as it starts at or after the range's buffered end; with one range nothing merges.
        """
        r = self.rfna
        h = self.hi_in_seq
        if (
            self.new_cfg
            or r is None
            or h is None
            or self.last_ts is None
            or len(self.ranges) != 1
            or self.ranges[0] is not r
            or not r.frames
            or not r.hi_is_max
            or r.hi_pts != h
            or sm.start <= h
        ):
            return False
        first = frames[0]
        return not (self.is_audio and first[KEY] and first[P] < h + (r.hi_dur or 1))

    def _set_last_appended(self, last: Frame) -> None:
        assert self.rfna is not None
        self.last_ts, self.last_dur, self.last_key, self.last_dts = (
            last[P],
            last[DUR],
            bool(last[KEY]),
            last[D],
        )
        self.hi_in_seq = self.rfna.end()
        self.hi_end_in_seq = self.rfna.buffered_end()

    def _add_range(self, r: Range) -> Range:
        s = r.start()
        i = 0
        while i < len(self.ranges) and self.ranges[i].start() <= s:
            i += 1
        self.ranges.insert(i, r)
        return r

    def _delete_range(self, i: int) -> None:
        if self.ranges[i] is self.rfna:
            self.rfna = None
            self._reset_last_appended()
        del self.ranges[i]

    def _merge_with_next(self, i: int) -> None:
        if i + 1 >= len(self.ranges):
            return
        cur, nxt = self.ranges[i], self.ranges[i + 1]
        if not cur.frames or not nxt.frames or not cur.can_append_range_to_end(nxt):
            return
        cur.append_range_to_end(nxt)
        if nxt is self.rfna:
            self.rfna = cur
        self._delete_range(i + 1)

    def _merge_all_adjacent(self) -> None:
        i = 0
        while i < len(self.ranges):
            n = len(self.ranges)
            self._merge_with_next(i)
            if len(self.ranges) == n:
                i += 1

    def _prepare_ranges_for_next_append(self, frames: list[Frame], sm: Summary) -> None:
        if self.is_audio:
            self._trim_splice_overlap(frames)
        start, end = sm.start, sm.end
        h = self.hi_in_seq
        if h is not None and h < start:
            self._remove_internal(h, start, True)
        if h is not None and start < h:
            assert self.hi_end_in_seq is not None
            start = self.hi_end_in_seq
        if self.new_cfg:
            assert self.cfg_start is not None
            start = min(self.cfg_start, start)
        if start >= end:
            r = self.rfna
            if r is None or not r.frames:
                return
            new = r.split(start)
            if new is not None:
                self.ranges.insert(self.ranges.index(r) + 1, new)
            return
        exclude_start = h == frames[0][P] and (not self.is_audio or self.last_dur == 0)
        self._remove_internal(start, end, exclude_start, count=True)

    def _trim_splice_overlap(self, frames: list[Frame]) -> None:
        first = frames[0]
        ts = first[P]
        if not first[KEY]:
            return
        r = self.find_range_for(ts)
        if r is None:
            return
        hits = r.frames_overlapping(ts, ts + 1)
        if not hits:
            return
        if len(hits) != 1:
            self._log(f"Media is badly muxed. Detected {len(hits)} overlapping audio buffers at time {ts}")
            return
        ob = r.frames[hits[0]]
        if ob[P] == ts or ob[EST]:
            return
        overlap = ob[P] + ob[DUR] - ts
        if overlap < 1000:
            self._log(
                f"Skipping audio splice trimming at PTS={ts}us. Found only {overlap}us of overlap, need at "
                "least 1000us. Multiple occurrences may result in loss of A/V sync."
            )
            return
        r.replace(hits[0], (ob[P], ob[D], ob[DUR] - overlap, bool(ob[KEY]), ob[SIZE], bool(ob[EST])))
        self._log(
            f"Audio buffer splice at PTS={ts}us. Trimmed tail of overlapped buffer (PTS={ob[P]}us) "
            f"by {overlap}us."
        )

    # -- removal -----------------------------------------------------------------------------------------

    def _potential_next_append_ts(self) -> int | None:
        if self.hi_in_seq is not None:
            return self.hi_in_seq
        if self.new_cfg:
            return self.cfg_start
        return None

    def _update_last_append_state_for_remove(
        self, start: int | float, end: int | float, exclude: bool
    ) -> None:
        if self.new_cfg or self.rfna is None or self.last_ts is None:
            return
        gop_end = self.hi_in_seq
        assert gop_end is not None
        gop_start = self.rfna.keyframe_before(gop_end)
        if ((not exclude and start == gop_end) or start < gop_end) and (gop_start is None or end > gop_start):
            self.rfna = None
            self._reset_last_appended()

    def _remove_internal(self, start: int, end: int | float, exclude_start: bool, count: bool = False) -> int:
        self._update_last_append_state_for_remove(start, end, exclude_start)
        removed = 0
        i = 0
        while i < len(self.ranges):
            r = self.ranges[i]
            if r.frames and r.start() >= end:
                break
            if r.frames and start <= r.frames[0][P] and start <= r.start():
                k = bisect_left(r.kpts, end)
                if 0 < k < len(r.kpts) and r.buffer_index_at(start, exclude_start) == 0:
                    # the removal covers the head of the range up to a keyframe: same result as split +
                    # truncate + delete of the head, done in place
                    was_rfna = self.rfna is r
                    removed += r.kidx[k] - r.kbase
                    r.drop_head(k, max(end, r.start()))  # type: ignore[arg-type]
                    if was_rfna and not r.belongs_to_range(self._potential_next_append_ts()):
                        self.rfna = None
                        self._reset_last_appended()
                    i += 1
                    continue
            new = r.split(end) if r.frames else None  # type: ignore[arg-type]
            if new is not None:
                self.ranges.insert(i + 1, new)
                if self.rfna is r:
                    pnat = self._potential_next_append_ts()
                    if pnat is not None and new.belongs_to_range(pnat):
                        self.rfna = new
            empty, n = r.truncate_at(start, exclude_start)
            removed += n
            if empty:
                self._delete_range(i)
                continue
            if self.rfna is r:
                pnat = self._potential_next_append_ts()
                if not r.belongs_to_range(pnat):
                    self.rfna = self.find_range_for(pnat)
            i += 1
        if count:
            self.overlap_removed += removed
        return removed

    def remove(self, start: int, end: int | float, duration: int | float) -> int:
        """SourceBufferStream::Remove: the removal end moves to the next keyframe at or after ``end``."""
        remove_end: int | float = duration
        kf = None
        if end != float("inf"):
            r = self.find_range_for(int(end))
            kf = r.next_keyframe(int(end)) if r is not None else None
        if kf is not None:
            remove_end = kf
        elif end < remove_end:
            remove_end = end
        if remove_end <= start:
            return 0
        return self._remove_internal(start, remove_end, False)

    def on_set_duration(self, duration: int) -> None:
        if self.ranges:
            end = self.ranges[-1].buffered_end()
            if duration < end:
                self._remove_internal(duration, end, False)

    # -- reporting ---------------------------------------------------------------------------------------

    def buffered(self) -> list[tuple[int, int]]:
        return [(r.start(), r.buffered_end()) for r in self.ranges if r.frames]

    def highest_pts(self) -> int:
        return self.ranges[-1].end() if self.ranges else 0

    def buffered_duration(self) -> int:
        return self.ranges[-1].buffered_end() if self.ranges else 0

    def memory(self) -> int:
        """SourceBufferStream's buffered size: every buffer counts DecoderBuffer::GetMemoryUsage(), its
        data plus sizeof(DecoderBuffer) (``frame_overhead``)."""
        overhead = self.frame_overhead
        total = 0
        for r in self.ranges:
            total += r.mem + overhead * len(r.frames)
        return total

    def frame_count(self) -> int:
        return sum(len(r.frames) for r in self.ranges)

    def evict(self, new_size: int, size: int | None = None) -> bool:
        """GarbageCollectIfNeeded with the playback position at 0 and no seek pending.

        Chromium first frees GOPs before the playback position (none: it is 0), then GOPs from the back of
        the last range until it reaches the most recently appended GOP. So a buffer filled from 0 forward
        with a paused element cannot free anything and the append fails with QuotaExceededError.
        ``size`` is :meth:`memory` if the caller has it.
        """
        if size is None:
            size = self.memory()
        if new_size > self.memory_limit:
            self._log(
                f"{'AUDIO' if self.is_audio else 'VIDEO'} stream: new append of newDataSize={new_size} bytes "
                f"exceeds memory_limit_={self.memory_limit}, currently buffered ranges_size={size}"
            )
            return False
        if size + new_size <= self.memory_limit:
            return True
        to_free = size + new_size - self.memory_limit
        freed = 0
        while self.ranges and freed < to_free:
            r = self.ranges[-1]
            if len(r.kidx) <= 1 and r is self.ranges[0] and r.start() <= 0:
                break  # the GOP holding the playback position
            last_gop_start = r.frames[r.kidx[-1] - r.kbase][P] if r.kidx else None
            if (
                self.last_ts is not None
                and r is self.rfna
                and last_gop_start is not None
                and (last_gop_start <= self.last_ts)
            ):
                break  # the most recently appended GOP stays
            gone = r.delete_gop_from_back()
            freed += sum(f[SIZE] for f in gone) + self.frame_overhead * len(gone)
            if not r.frames:
                self._delete_range(len(self.ranges) - 1)
        return freed >= to_free


def bisect_keys(keys: list[int], ts: int) -> int:
    """Exposed for tests: index of the first keyframe PTS greater than ``ts``."""
    return bisect_right(keys, ts)
