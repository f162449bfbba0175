"""Elementary stream parsers behind the TS demultiplexer: H.264 (Annex B) and AAC ADTS / MPEG audio.

They turn reassembled PES payloads into coded frames the way Chromium's media/formats/mp2t/ES parsers do,
because their buffering decides what a browser has buffered after each append:

* H.264 (es_parser_h264.cc): access units are delimited by access unit delimiter NAL units (type 9) only;
  an access unit is complete when the next AUD arrives, and one access unit is taken per PES payload
  pushed. A frame is a keyframe when its last slice is an IDR slice. Its PTS/DTS is that of the PES in
  which it starts (DTS = PTS when absent).
* The video adapter (es_adapter_video.cc) drops frames before the first keyframe (replacing them by copies
  of it with interpolated timestamps), holds five frames back so that each frame's duration can be the
  distance to the next presentation time, and falls back to the previous duration (40 ms at first).
* ADTS (es_parser_adts.cc): a frame is accepted at a sync word when the next sync word follows it (or the
  buffer ends); frames take the PES PTS and then advance by 1024 samples. Frames before any PTS are skipped.

Failures raise :class:`EsError`; the TS parser turns them into an append error.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

from msetool.mpeg.headers import (
    ADTS_HEADER_MIN_SIZE,
    SAMPLES_PER_AAC_FRAME,
    FrameHeader,
    explain_adts,
    parse_mp3,
)
from msetool.mpeg.timing import US, AudioClock, trunc_div
from msetool.ts import h264
from msetool.ts.h264 import BitstreamError, Sps

DEFAULT_VIDEO_DURATION = Fraction(40, 1000)
HISTORY = 5


class EsError(Exception):
    def __init__(self, message: str, rule: str) -> None:
        super().__init__(message)
        self.message = message
        self.rule = rule


@dataclass(slots=True)
class EsFrame:
    pts: Fraction | None
    dts: Fraction | None
    duration: Fraction | None
    keyframe: bool
    size: int
    offset: int


class EsQueue:
    """An append-only byte queue addressed by absolute ES position (OffsetByteQueue)."""

    __slots__ = ("buf", "head")

    def __init__(self) -> None:
        self.buf = bytearray()
        self.head = 0

    @property
    def tail(self) -> int:
        return self.head + len(self.buf)

    def push(self, data: bytes) -> None:
        self.buf += data

    def view(self, pos: int, end: int | None = None) -> bytes:
        a = max(0, pos - self.head)
        b = len(self.buf) if end is None else max(a, end - self.head)
        return bytes(self.buf[a:b])

    def trim(self, pos: int) -> None:
        n = pos - self.head
        if n > 0:
            del self.buf[:n]
            self.head = pos


class _TimedEs:
    """Timing descriptors and PES offsets linked to ES positions (EsParser)."""

    def __init__(self) -> None:
        self.q = EsQueue()
        self.timing: deque[tuple[int, Fraction, Fraction | None]] = deque()
        self.offsets: deque[tuple[int, int]] = deque()

    def push(self, data: bytes, pts: Fraction | None, dts: Fraction | None, offset: int) -> None:
        if not data:
            raise EsError("PES packet with an empty payload", "TS-PES-02")
        if pts is not None:
            self.timing.append((self.q.tail, pts, dts))
        self.offsets.append((self.q.tail, offset))
        self.q.push(data)

    def timing_at(self, pos: int) -> tuple[Fraction | None, Fraction | None]:
        pts: Fraction | None = None
        dts: Fraction | None = None
        while self.timing and self.timing[0][0] <= pos:
            _, pts, dts = self.timing.popleft()
        return pts, dts

    def offset_at(self, pos: int) -> int:
        while len(self.offsets) > 1 and self.offsets[1][0] <= pos:
            self.offsets.popleft()
        return self.offsets[0][1] if self.offsets else 0

    def reset_queue(self) -> None:
        self.q = EsQueue()
        self.timing.clear()
        self.offsets.clear()


class VideoAdapter:
    """EsAdapterVideo: keyframe gating, duration estimation, config signalling in frame order."""

    def __init__(self, chromium: bool, on_config: Callable[[Sps], None],
                 on_frame: Callable[[EsFrame], None]) -> None:
        self.chromium = chromium
        self.on_config = on_config
        self.on_frame = on_frame
        self.reset()

    def reset(self) -> None:
        self.has_config = False
        self.has_frame = False
        self.last_duration = DEFAULT_VIDEO_DURATION
        self.configs: deque[tuple[int, Sps]] = deque()
        self.index = 0
        self.pending: deque[EsFrame] = deque()
        self.emitted_pts: deque[Fraction] = deque()
        self.has_initial = False
        self.min_pts = Fraction(0)
        self.min_dts = Fraction(0)
        self.discarded = 0

    def config_changed(self, sps: Sps) -> None:
        self.configs.append((self.index + len(self.pending), sps))
        self.has_config = True
        self.process(False)

    def new_frame(self, f: EsFrame) -> None:
        if f.pts is None:
            if self.has_frame:
                raise EsError("Missing timestamp in the middle of the stream (a video PES without PTS)",
                              "TS-MEDIA-02")
            if not self.has_initial:
                return  # leading frames without timestamps are dropped
            self.discarded += 1
            return
        if not self.has_initial:
            self.min_pts = f.pts
            self.min_dts = f.dts if f.dts is not None else f.pts
            self.has_initial = True
        self.min_pts = min(self.min_pts, f.pts)
        if not self.has_config or (not self.has_frame and not f.keyframe):
            self.discarded += 1
            return
        self.has_frame = True
        if self.discarded:
            self._replace_discarded(f)
        self.pending.append(f)
        self.process(False)

    def _div(self, span: Fraction, n: int) -> Fraction:
        if self.chromium:
            return Fraction(trunc_div(int(span * US), n), US)
        return span / n

    def _replace_discarded(self, key: EsFrame) -> None:
        assert key.pts is not None
        pts, dts = self.min_pts, self.min_dts
        pd = self._div(key.pts - pts, self.discarded)
        dd = self._div((key.dts if key.dts is not None else key.pts) - dts, self.discarded)
        for _ in range(self.discarded):
            self.pending.append(EsFrame(pts, dts, pd, True, key.size, key.offset))
            pts += pd
            dts += dd
        self.discarded = 0

    def process(self, flush: bool) -> None:
        if not self.has_config:
            return
        while self.pending and (flush or len(self.pending) > HISTORY):
            if self.configs and self.configs[0][0] == self.index:
                self.on_config(self.configs.popleft()[1])
            f = self.pending.popleft()
            self.index += 1
            assert f.pts is not None
            if f.duration is None:
                nxt = self._next_pts(f.pts)
                f.duration = self.last_duration if nxt is None else nxt - f.pts
            self.emitted_pts.append(f.pts)
            if len(self.emitted_pts) > HISTORY:
                self.emitted_pts.popleft()
            self.last_duration = f.duration
            self.on_frame(f)

    def _next_pts(self, cur: Fraction) -> Fraction | None:
        best: Fraction | None = None
        for f in self.pending:
            if f.pts is not None and f.pts >= cur and (best is None or f.pts < best):
                best = f.pts
        for p in self.emitted_pts:
            if p >= cur and (best is None or p < best):
                best = p
        return best


class H264Es(_TimedEs):
    """EsParserH264."""

    def __init__(self, chromium: bool, on_config: Callable[[Sps], None],
                 on_frame: Callable[[EsFrame], None]) -> None:
        super().__init__()
        self.adapter = VideoAdapter(chromium, on_config, on_frame)
        self._reset_parser()

    def _reset_parser(self) -> None:
        self.cur = 0
        self.next = 0
        self.sps: dict[int, Sps] = {}
        self.pps: dict[int, int] = {}
        self.last_config: tuple[object, ...] | None = None
        self.aud_seen = False

    def reset(self) -> None:
        self.reset_queue()
        self._reset_parser()
        self.adapter.reset()

    def parse(self, data: bytes, pts: Fraction | None, dts: Fraction | None, offset: int) -> None:
        self.push(data, pts, dts, offset)
        self._parse_queue()

    def flush(self) -> None:
        found, self.cur = self._find_aud(self.cur)
        if not found:
            return
        self.q.push(b"\x00\x00\x01\x09")
        self._parse_queue()
        self.adapter.process(True)

    def _find_aud(self, pos: int) -> tuple[bool, int]:
        q = self.q
        buf, head = q.buf, q.head
        if pos >= head:  # search the queue in place (the loop below copies the rest of it per start code)
            a = k = pos - head
            n = len(buf)
            while True:
                i = buf.find(b"\x00\x00\x01", k)
                if i < 0:
                    return False, pos + max(0, n - a - 2)
                off, size = (i - 1, 4) if i > k and buf[i - 1] == 0 else (i, 3)
                if off + size >= n:
                    return False, pos + off - a
                if buf[off + size] == h264.NAL_AUD:
                    self.aud_seen = True
                    return True, pos + off - a
                k = off + size
        while True:
            data = self.q.view(pos)
            off, size = h264.find_start_code(data, 0)
            if off < 0:
                return False, pos + max(0, len(data) - 2)
            if off + size >= len(data):
                return False, pos + off
            if data[off + size] == h264.NAL_AUD:
                self.aud_seen = True
                return True, pos + off
            pos += off + size

    def _parse_queue(self) -> None:
        found, self.cur = self._find_aud(self.cur)
        self.q.trim(self.cur)
        self.next = max(self.next, self.cur)
        if not found:
            return
        self.next = max(self.next, self.cur + 4)
        found, self.next = self._find_aud(self.next)
        if not found:
            return
        au = self.q.view(self.cur, self.next)
        key = False
        has_slice = False
        pps_id = -1
        valid = self.last_config is not None
        for nal in h264.split_nalus(au):
            if not nal:
                continue
            if nal[0] & 0x80:
                raise EsError("H.264 NAL unit with forbidden_zero_bit set", "TS-H264-01")
            t = nal[0] & 0x1F
            if t == h264.NAL_SPS:
                try:
                    sps = h264.parse_sps(nal)
                except BitstreamError as e:
                    raise EsError(f"invalid H.264 SPS: {e}", "TS-H264-01") from None
                self.sps[sps.seq_parameter_set_id] = sps
            elif t == h264.NAL_PPS:
                try:
                    pid, sid = h264.parse_pps_ids(nal)
                    if sid not in self.sps:
                        raise BitstreamError(f"PPS refers to SPS {sid}, which has not been seen")
                    self.pps[pid] = sid
                except BitstreamError as e:
                    if valid:
                        raise EsError(f"invalid H.264 PPS: {e}", "TS-H264-01") from None
            elif t in (h264.NAL_SLICE, h264.NAL_IDR):
                has_slice = True
                key = t == h264.NAL_IDR
                try:
                    _, sid = h264.parse_slice_pps_id(nal)
                    if sid not in self.pps:
                        raise BitstreamError(f"slice refers to PPS {sid}, which has not been seen")
                    pps_id = sid
                except BitstreamError as e:
                    if valid:
                        raise EsError(f"invalid H.264 slice header: {e}", "TS-H264-01") from None
        if has_slice:
            self._emit(self.cur, len(au), key, pps_id)
        self.cur = self.next
        self.q.trim(self.cur)

    def _emit(self, pos: int, size: int, key: bool, pps_id: int) -> None:
        pts, dts = self.timing_at(pos)
        if dts is None:
            dts = pts
        offset = self.offset_at(pos)
        sps_id = self.pps.get(pps_id)
        if sps_id is None:
            if self.last_config is not None:
                raise EsError("H.264 access unit without a usable PPS", "TS-H264-01")
        else:
            sps = self.sps.get(sps_id)
            if sps is None:
                raise EsError("H.264 PPS refers to a missing SPS", "TS-H264-01")
            if sps.profile_idc not in h264.KNOWN_PROFILES:
                raise EsError(f"unsupported H.264 profile_idc {sps.profile_idc}", "TS-H264-01")
            if sps.config_key != self.last_config:
                self.last_config = sps.config_key
                self.adapter.config_changed(sps)
        self.adapter.new_frame(EsFrame(pts, dts, None, key, size, offset))


@dataclass(frozen=True, slots=True)
class AudioConfig:
    header: FrameHeader
    key: tuple[object, ...]


class AudioEs(_TimedEs):
    """EsParserAdts (``adts=True``) or EsParserMpeg1Audio."""

    def __init__(self, adts: bool, chromium: bool, on_config: Callable[[AudioConfig], None],
                 on_frame: Callable[[EsFrame], None]) -> None:
        super().__init__()
        self.adts = adts
        self.chromium = chromium
        self.on_config = on_config
        self.on_frame = on_frame
        self.clock: AudioClock | None = None
        self.has_base = False
        self.last_key: tuple[object, ...] | None = None

    def reset(self) -> None:
        self.reset_queue()
        self.last_key = None

    def flush(self) -> None:
        return None

    def parse(self, data: bytes, pts: Fraction | None, dts: Fraction | None, offset: int) -> None:
        self.push(data, pts, dts, offset)
        while True:
            found = self._look_for_frame()
            if found is None:
                return
            pos, header, raw = found
            self._update_config(header, raw)
            tpts, _ = self.timing_at(pos)
            clock = self.clock
            assert clock is not None
            if tpts is not None:
                clock.set_base(tpts)
                self.has_base = True
            if self.has_base:
                samples = SAMPLES_PER_AAC_FRAME if self.adts else header.sample_count
                t = clock.now()
                d = clock.duration(samples)
                self.on_frame(EsFrame(t, t, d, True, header.frame_size, self.offset_at(pos)))
                clock.add(samples)
            self.q.trim(pos + header.frame_size)

    def _update_config(self, header: FrameHeader, raw: bytes) -> None:
        if self.adts:
            key: tuple[object, ...] = (raw[2] >> 2, ((raw[2] & 1) << 2) | (raw[3] >> 6))
        else:
            key = (header.sample_rate, header.channels)
        if key == self.last_key:
            return
        if self.clock is not None and self.has_base:
            base = self.clock.now()
            self.clock = AudioClock(header.sample_rate, base, self.chromium)
        else:
            self.clock = AudioClock(header.sample_rate, Fraction(0), self.chromium)
            self.has_base = False
        self.last_key = key
        self.on_config(AudioConfig(header, key))

    def _look_for_frame(self) -> tuple[int, FrameHeader, bytes] | None:
        es = self.q.view(self.q.head)
        size = len(es)
        if self.adts:
            max_offset = size - ADTS_HEADER_MIN_SIZE
            if max_offset <= 0:
                return None
            off = 0
            while off < max_offset:
                off = es.find(b"\xff", off, max_offset)
                if off < 0:
                    break
                if (es[off + 1] & 0xF6) != 0xF0:
                    off += 1
                    continue
                frame_size = ((es[off + 3] & 3) << 11) | (es[off + 4] << 3) | (es[off + 5] >> 5)
                if frame_size < ADTS_HEADER_MIN_SIZE:
                    off += 1
                    continue
                remaining = size - off
                if remaining < frame_size:
                    self.q.trim(self.q.head + off)
                    return None
                nxt = off + frame_size
                if remaining >= frame_size + 2 and not (es[nxt] == 0xFF and (es[nxt + 1] & 0xF6) == 0xF0):
                    off += 1
                    continue
                raw = es[off : off + frame_size]
                header = explain_adts(raw)
                if isinstance(header, str):
                    raise EsError(f"invalid ADTS header: {header}", "TS-ADTS-01")
                pos = self.q.head + off
                self.q.trim(pos)
                return pos, header, raw
            self.q.trim(self.q.head + max_offset)
            return None
        # MPEG-1/2 audio: the first valid frame header; wait for the whole frame.
        off = 0
        while off + 4 <= size:
            off = es.find(b"\xff", off)
            if off < 0 or off + 4 > size:
                break
            mp3 = parse_mp3(es, off)
            if mp3 is None:
                off += 1
                continue
            if size - off < mp3.frame_size:
                self.q.trim(self.q.head + off)
                return None
            pos = self.q.head + off
            raw = es[off : off + mp3.frame_size]
            self.q.trim(pos)
            return pos, mp3, raw
        self.q.trim(self.q.head + max(0, size - 3))
        return None
