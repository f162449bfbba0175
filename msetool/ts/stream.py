"""MPEG-2 TS byte stream parser (``video/mp2t``): the sans-IO segment parser the simulator and validate use.

It follows Chromium's Mp2tStreamParser (media/formats/mp2t/mp2t_stream_parser.cc) because the byte stream
format spec (w3c mse-byte-stream-format-mp2t) leaves most of this to the implementation and a browser's
buffered ranges depend on every detail:

* Packets: 188 bytes; lost sync is recovered by skipping to a 0x47 followed by three more at packet
  distance (within the bytes inspected so far), and a packet with a malformed adaptation field is skipped
  one byte at a time. Continuity counters and transport_error_indicator are not acted upon (Chromium
  never compares continuity counters), so lost packets silently corrupt or drop PES packets.
* PSI: the PAT registers the first program's PMT (a PAT listing two programs is an append error); the PMT
  registers H.264 (0x1B), ADTS AAC (0x0F) and MPEG audio (0x03/0x04) streams, restricted to the codecs of
  the SourceBuffer's type when it has a codecs parameter; the lowest audio and lowest video PID win. A
  PSI section with a bad CRC_32 or malformed fields is an append error.
* PES: a packet is emitted when its PES_packet_length is reached, or, for unbounded (length 0) video PES,
  when the next payload_unit_start_indicator arrives. A bounded PES cut short by a new start is dropped.
  A malformed PES header is an append error, and so is a PES with an empty payload.
* Timestamps: 33-bit PTS/DTS unrolled across wraps (closest of the three candidates to the previous
  value), kept in 90 kHz; the Chromium profile truncates them to microseconds.
* Initialization segment: Chromium reports one only when every selected PID has produced a decoder
  configuration (video: when its first frame leaves the five-frame duration buffer), i.e. PAT + PMT +
  enough elementary stream to configure the decoders. A configuration change later is a new init segment.
* Media segments: buffers are sent after every Parse() call (at most 128 KiB of each append per call), one
  batch per configuration; once started, the media segment never ends until abort() (reset), so
  ``in_media_segment`` stays true and timestampOffset/mode setters throw, as in Chromium.
* A batch whose frames go backwards in decode time for one track fails the append with Chromium's
  "Parsed buffers not in DTS sequence" (typical when segments are appended out of order, because frames
  held back from the previous append are sent with the new ones).
* reset() (abort) flushes: pending PES and access units are parsed, held-back frames are emitted with
  their estimated durations (:meth:`TsStreamParser.take_reset_events` returns them; the frame processor
  must still see them), then every PID is forgotten: the next append needs a PAT and PMT again.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from fractions import Fraction

from msetool.mime import MimeType
from msetool.model import CodedFrame, InitSegment, TrackInfo
from msetool.mpeg.timing import coded_frame, ticks90k
from msetool.stream import (
    FramesParsed,
    InitSegmentParsed,
    MediaSegmentStarted,
    ParseFailed,
    ParserEvent,
    ParseWarning,
    Profile,
)
from msetool.ts.es import AudioConfig, AudioEs, EsError, EsFrame, H264Es
from msetool.ts.h264 import Sps
from msetool.ts.packets import (
    AUDIO_TYPES,
    PACKET_SIZE,
    PID_PAT,
    VIDEO_TYPES,
    PsiError,
    crc32_fast,
    decode_timestamp,
    parse_packet,
    parse_pat,
    parse_pmt,
    plain_run,
    sync_skip,
)

MAX_BYTES_PER_PARSE = 128 * 1024
AUDIO_TRACK_ID = 1
VIDEO_TRACK_ID = 2


class _Fatal(Exception):
    def __init__(self, message: str, offset: int, rule: str, path: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset
        self.rule = rule
        self.path = path


class Unroller:
    """TimestampUnroller: 33-bit timestamps made continuous."""

    def __init__(self) -> None:
        self.prev: int | None = None

    def unroll(self, ts: int) -> int:
        if self.prev is None:
            self.prev = ts
            return ts
        high = self.prev & ~((1 << 33) - 1)
        t1 = high | ts
        cands = (t1, t1 - (1 << 33), t1 + (1 << 33))
        d1, d0, d2 = (abs(c - self.prev) for c in cands)
        best, m = (t1, d1) if d1 < d0 else (cands[1], d0)
        if d2 < m:
            best = cands[2]
        self.prev = best
        return best


class _PsiSection:
    """TsSectionPsi: reassembles one section from packet payloads."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.wait = True
        self.buf = bytearray()
        self.discard = 0
        self.version = -1
        self.crc_error = False

    def push(self, pusi: bool, payload: bytes, offset: int) -> bytes | None:
        """Returns a complete, CRC-checked section or None; raises _Fatal on a malformed one."""
        if self.wait and not pusi:
            return None
        if pusi:
            self.buf = bytearray()
            self.wait = False
            if not payload:
                raise _Fatal("PSI packet with payload_unit_start_indicator but no payload", offset,
                             "TS-PSI-01")
            self.discard = payload[0]
            payload = payload[1:]
        if self.discard:
            n = min(self.discard, len(payload))
            payload = payload[n:]
            self.discard -= n
        if not payload:
            return None
        self.buf += payload
        if len(self.buf) < 3:
            return None
        length = ((self.buf[1] << 8) | self.buf[2]) & 0xFFF
        if length >= 1021:
            raise _Fatal(f"PSI section_length {length} is too large", offset, "TS-PSI-01")
        total = length + 3
        if len(self.buf) < total:
            return None
        sec = bytes(self.buf[:total])
        self.crc_error = crc32_fast(sec) != 0  # Chromium 156 only logs it and parses the section anyway
        return sec

    def done(self) -> None:
        self.wait = True
        self.buf = bytearray()
        self.discard = 0


class _PesSection:
    """TsSectionPes: PES reassembly and header parsing, feeding an elementary stream parser."""

    def __init__(self, es: H264Es | AudioEs, unroller: Unroller, chromium: bool) -> None:
        self.es = es
        self.unroller = unroller
        self.chromium = chromium
        self.wait = True
        self.buf = bytearray()
        self.start = 0  # stream offset of the packet that started the current PES

    def reset(self) -> None:
        self.wait = True
        self.buf = bytearray()
        self.es.reset()

    def push(self, pusi: bool, payload: bytes, offset: int) -> None:
        if self.wait and not pusi:
            return
        if pusi:
            if self.buf:
                self._emit(True)
            self.buf = bytearray()
            self.wait = False
            self.start = offset
        if payload:
            self.buf += payload
        self._emit(False)

    def flush(self) -> None:
        self._emit(True)
        self.es.flush()

    def _emit(self, unknown_size_ok: bool) -> None:
        raw = self.buf
        if len(raw) < 6:
            return
        length = (raw[4] << 8) | raw[5]
        if (length == 0 and not unknown_size_ok) or (length != 0 and len(raw) < length + 6):
            return
        data = bytes(raw)
        self.buf = bytearray()
        self.wait = True
        self._parse(data)

    def _parse(self, raw: bytes) -> None:
        off = self.start
        if len(raw) < 9 or raw[0:3] != b"\x00\x00\x01":
            raise _Fatal("PES packet does not start with packet_start_code_prefix 0x000001", off, "TS-PES-01")
        stream_id = raw[3]
        length = (raw[4] << 8) | raw[5]
        if length == 0:
            length = len(raw) - 6
        if not ((stream_id & 0xE0) == 0xC0 or (stream_id & 0xF0) == 0xE0 or stream_id == 0xBD):
            return  # other stream_ids are ignored
        if raw[6] >> 6 != 2:
            raise _Fatal("PES header does not start with '10'", off, "TS-PES-01")
        flags = raw[7] >> 6
        hdr_len = raw[8]
        es_size = length - 3 - hdr_len
        es_off = 9 + hdr_len
        if es_size < 0 or es_off + es_size > len(raw):
            raise _Fatal(f"PES_header_data_length {hdr_len} does not fit PES_packet_length {length}", off,
                         "TS-PES-01")
        pts: int | None = None
        dts: int | None = None
        if flags == 2:
            if hdr_len < 5 or (pts := decode_timestamp(raw[9:14], 2)) is None:
                raise _Fatal("PES PTS field has a wrong prefix or marker bit", off, "TS-PES-01")
        elif flags == 3:
            if hdr_len < 10:
                raise _Fatal("PES PTS/DTS fields do not fit the header", off, "TS-PES-01")
            pts = decode_timestamp(raw[9:14], 3)
            dts = decode_timestamp(raw[14:19], 1)
            if pts is None or dts is None:
                raise _Fatal("PES PTS/DTS field has a wrong prefix or marker bit", off, "TS-PES-01")
        fp = ticks90k(self.unroller.unroll(pts), self.chromium) if pts is not None else None
        fd = ticks90k(self.unroller.unroll(dts), self.chromium) if dts is not None else None
        try:
            self.es.parse(raw[es_off : es_off + es_size], fp, fd, off)
        except EsError as e:
            raise _Fatal(e.message, off, e.rule) from None


@dataclass(slots=True)
class _Pid:
    kind: str  # "pat", "pmt", "audio", "video"
    psi: _PsiSection | None = None
    pes: _PesSection | None = None
    enabled: bool = True
    stream_type: int = 0


@dataclass(slots=True)
class _Queue:
    """BufferQueueWithConfig."""

    config_sent: bool
    audio: AudioConfig | None
    video: Sps | None
    audio_frames: list[CodedFrame] = field(default_factory=list)
    video_frames: list[CodedFrame] = field(default_factory=list)


def _allowed_stream_types(mime: MimeType | None) -> set[int] | None:
    if mime is None or not mime.codecs:
        return None
    out: set[int] = set()
    for c in mime.codecs:
        lc = c.lower()
        if lc.startswith(("avc1", "avc3")):
            out |= {0x1B, 0xDB}
        elif lc.startswith("mp4a.40") or lc in {"mp4a.67", "aac"}:
            out |= {0x0F, 0xCF}
        elif lc in ("mp3", "mp4a.69", "mp4a.6b"):
            out |= {0x03, 0x04}
    return out


#: The payloads of consecutive payload-only packets (one C loop instead of a Python step per packet).
_PAYLOADS = re.compile(rb".{4}(.{%d})" % (PACKET_SIZE - 4), re.DOTALL)


def _synced_to(buf: bytearray, pos: int, limit: int) -> int:
    """Where the run of packets from ``pos`` that all pass TsPacket::Sync ends: ``sync_skip`` inspects
    0x47 at up to four packet starts below ``limit``, so with the first ``m`` packet starts of
    ``buf[pos:limit]`` in sync every packet before the last three passes (all of them when all are)."""
    probe = bytes(buf[pos:limit:PACKET_SIZE])
    m = len(probe) - len(probe.lstrip(b"\x47"))
    if m < len(probe):
        m = max(0, m - 3)
    m = min(m, (limit - pos) // PACKET_SIZE)
    return pos + m * PACKET_SIZE


class TsStreamParser:
    """ByteStreamParser for MPEG-2 transport streams (H.264, AAC ADTS and MPEG audio)."""

    generate_timestamps = False
    #: Handle runs of plain packets in one tight loop (False: every packet on the general path, the
    #: reference the equivalence tests compare with).
    fast = True

    def __init__(self, mime: MimeType | None = None, profile: Profile = "chromium") -> None:
        import msetool.rules.ts  # noqa: F401  (registers the TS-* ids this parser's failures carry)

        self.chromium = profile == "chromium"
        self.allowed = _allowed_stream_types(mime)
        self.sbr = bool(mime) and any(c.lower() in ("mp4a.40.5", "mp4a.40.29") for c in (mime.codecs if mime
                                                                                            else ()))
        self._buf = bytearray()
        self._base = 0
        self._failed = False
        self._flushable = True
        self._initialized = False
        self._segment_started = False
        self._reset_events: list[ParserEvent] = []
        self._init_region: tuple[int, int] | None = None
        self._new_state()

    def _new_state(self) -> None:
        self.pids: dict[int, _Pid] = {}
        self.chain: list[_Queue] = []
        self.audio_pid = -1
        self.video_pid = -1
        self.unroller = Unroller()
        self._events: list[ParserEvent] = []

    # -- protocol ------------------------------------------------------------------------------------
    @property
    def in_media_segment(self) -> bool:
        return self._segment_started

    def feed(self, data: bytes) -> list[ParserEvent]:
        if self._failed or not data:
            return []
        self._events = []
        self._buf += data
        uninspected = len(data)
        try:
            while uninspected > 0:
                step = min(MAX_BYTES_PER_PARSE, uninspected)
                uninspected -= step
                self._parse(len(self._buf) - uninspected)
        except _Fatal as f:
            self._failed = True
            # A batch the frame processor refused stays queued and is refused again when the append
            # error's reset flushes; any other failure leaves the other streams' pending data to flush.
            self._flushable = f.rule != "TS-MEDIA-05"
            self._events.append(ParseFailed(f.message, f.offset, f.path, f.rule))
        events, self._events = self._events, []
        return events

    def reset(self) -> None:
        """Reset parser state (abort, and the append error algorithm): Chromium's Mp2tStreamParser::Flush.

        After a parse failure Chromium has already reset the failing PID; the append error algorithm's
        reset then flushes every other stream, so frames parsed before the failure are still buffered."""
        self._events = []
        if self._flushable:
            try:
                for pid in list(self.pids.values()):
                    if pid.pes is not None:
                        if pid.enabled:
                            pid.pes.flush()
                        pid.pes.reset()
                for i, q in enumerate(self.chain):
                    if not q.config_sent:
                        del self.chain[i:]
                        break
                self._emit_remaining()
            except _Fatal:
                pass  # Chromium ignores what flushing produces beyond the frames it can emit
        self._reset_events = self._events
        self._events = []
        self._buf.clear()
        self._segment_started = False
        self._new_state()

    def take_reset_events(self) -> list[ParserEvent]:
        """Frames Chromium's parser emits while an abort() resets it (held-back access units and audio);
        the simulator runs coded frame processing on them before the reset completes."""
        events, self._reset_events = self._reset_events, []
        return events

    def flush(self) -> list[ParserEvent]:
        """End of stream: Chromium emits nothing more (held-back frames stay unbuffered)."""
        return []

    # -- packets -------------------------------------------------------------------------------------
    def _parse(self, limit: int) -> None:
        buf = self._buf
        pos = 0
        fast = self.fast
        synced = -1  # the packets from pos up to here pass TsPacket::Sync (see _synced_to); -1: unknown
        while limit - pos >= PACKET_SIZE:
            if fast:
                if pos >= synced:
                    synced = _synced_to(buf, pos, limit)
                if pos < synced:
                    pos = self._fast_packets(buf, pos, synced)
                    if pos >= synced:
                        continue
            skip = sync_skip(buf, pos, limit)
            if skip:
                pos += skip
                synced = -1
                continue
            b3 = buf[pos + 3]
            if b3 & 0x30 == 0x10:  # payload only: the common case, no adaptation field to check
                pid = ((buf[pos + 1] & 0x1F) << 8) | buf[pos + 2]
                start = 4
                pusi = bool(buf[pos + 1] & 0x40)
            else:
                pkt = parse_packet(buf, pos)
                if isinstance(pkt, str):
                    pos += 1
                    synced = -1
                    continue
                pid, start, pusi = pkt.pid, pkt.payload_start, pkt.payload_unit_start_indicator
            if pid in self.pids or pid == PID_PAT:
                self._packet(pid, pusi, bytes(buf[pos + start : pos + PACKET_SIZE]), self._base + pos)
            pos += PACKET_SIZE
        del self._buf[:pos]
        self._base += pos
        self._finish_init()
        self._emit_remaining()

    def _fast_packets(self, buf: bytearray, pos: int, stop: int) -> int:
        """The common packets in one tight loop, from ``pos`` (in sync up to ``stop``): payload-only
        packets of a PID nobody listens to, and payload-only continuations of a PES whose
        PES_packet_length they do not complete (their payload is appended, nothing else can happen).
        Returns where a packet needing the general path starts (or ``stop``)."""
        pids = self.pids
        while pos < stop:
            b1 = buf[pos + 1]
            if buf[pos + 3] & 0x30 != 0x10:
                break
            pid = ((b1 & 0x1F) << 8) | buf[pos + 2]
            st = pids.get(pid)
            if st is None:
                if pid == PID_PAT:
                    break
                pos += PACKET_SIZE
                continue
            pes = st.pes
            if b1 & 0x40 or pes is None or not st.enabled or pes.wait:
                break
            pb = pes.buf
            if len(pb) < 6:
                break
            n = (stop - pos) // PACKET_SIZE
            length = (pb[4] << 8) | pb[5]
            if length:  # packets that leave the PES short of PES_packet_length + 6 bytes
                n = min(n, (length + 6 - len(pb) - 1) // (PACKET_SIZE - 4))
            if n <= 0:
                break
            if n > 1:
                n = plain_run(buf, pos, n)
            end = pos + n * PACKET_SIZE
            pb += b"".join(_PAYLOADS.findall(buf, pos, end))
            pos = end
        return pos

    def _packet(self, pid: int, pusi: bool, payload: bytes, offset: int) -> None:
        st = self.pids.get(pid)
        if st is None and pid == PID_PAT:
            st = _Pid("pat", psi=_PsiSection())
            self.pids[PID_PAT] = st
        if st is None or not st.enabled:
            return
        try:
            if st.psi is not None:
                sec = st.psi.push(pusi, payload, offset)
                if sec is not None:
                    if st.psi.crc_error:
                        self._events.append(ParseWarning(
                            f"{'PAT' if st.kind == 'pat' else 'PMT'} section CRC_32 mismatch (Chromium logs "
                            "it and uses the section anyway)", offset, "", "TS-PSI-02"))
                    try:
                        if st.kind == "pat":
                            self._on_pat(sec, st.psi, offset)
                        else:
                            self._on_pmt(sec, offset)
                    except PsiError as e:
                        raise _Fatal(str(e), offset, "TS-PSI-01") from None
                    st.psi.done()
            elif st.pes is not None:
                st.pes.push(pusi, payload, offset)
        except _Fatal:
            if st.psi is not None:
                st.psi.reset()
            if st.pes is not None:
                st.pes.reset()
            raise

    def _on_pat(self, sec: bytes, psi: _PsiSection, offset: int) -> None:
        pat = parse_pat(sec)
        if not pat.current_next_indicator or pat.version_number == psi.version:
            return
        if len(pat.programs) > 1:
            raise _Fatal(f"the PAT lists {len(pat.programs)} programs; MSE allows one", offset, "TS-GEN-04")
        for number, pid in pat.programs:
            if number != 0:
                if not any(p.kind == "pmt" for p in self.pids.values()):
                    self.pids[pid] = _Pid("pmt", psi=_PsiSection())
                    if self._init_region is None:
                        self._init_region = (offset, PACKET_SIZE)
                break
        psi.version = pat.version_number

    def _on_pmt(self, sec: bytes, offset: int) -> None:
        pmt = parse_pmt(sec)
        if self._init_region is not None and self._init_region[1] == PACKET_SIZE:
            start = self._init_region[0]
            self._init_region = (start, offset + PACKET_SIZE - start)
        for pid, stream_type in pmt.streams:
            if pid in self.pids:
                continue
            if self.allowed is not None and stream_type not in self.allowed:
                continue
            if stream_type in VIDEO_TYPES:
                es: H264Es | AudioEs = H264Es(self.chromium, self._on_video_config, self._on_video_frame)
                kind = "video"
            elif stream_type in AUDIO_TYPES:
                es = AudioEs(stream_type == 0x0F, self.chromium, self._on_audio_config, self._on_audio_frame)
                kind = "audio"
            else:
                continue
            pes = _PesSection(es, self.unroller, self.chromium)
            self.pids[pid] = _Pid(kind, pes=pes, stream_type=stream_type)
            self._update_pid_filter()

    def _update_pid_filter(self) -> None:
        audio = [p for p, s in self.pids.items() if s.kind == "audio"]
        video = [p for p, s in self.pids.items() if s.kind == "video"]
        if audio:
            self.audio_pid = min(audio)
        if video:
            self.video_pid = min(video)
        for p, s in self.pids.items():
            if s.kind in ("audio", "video"):
                on = p in (self.audio_pid, self.video_pid)
                if not on and s.enabled and s.pes is not None:
                    s.pes.wait = True
                    s.pes.buf = bytearray()
                    s.pes.es.reset()
                s.enabled = on

    # -- elementary stream callbacks -----------------------------------------------------------------
    def _on_video_config(self, sps: Sps) -> None:
        if self.chain and self.chain[-1].video is None:
            self.chain[-1].video = sps
        else:
            self.chain.append(_Queue(False, self.chain[-1].audio if self.chain else None, sps))
        for q in self.chain:
            if q.video is not None:
                break
            q.video = sps

    def _on_audio_config(self, cfg: AudioConfig) -> None:
        if self.chain and self.chain[-1].audio is None:
            self.chain[-1].audio = cfg
        else:
            self.chain.append(_Queue(False, cfg, self.chain[-1].video if self.chain else None))
        for q in self.chain:
            if q.audio is not None:
                break
            q.audio = cfg

    def _frame(self, track: int, f: EsFrame) -> CodedFrame:
        assert f.pts is not None and f.duration is not None
        dts = f.dts if f.dts is not None else f.pts
        return coded_frame(track, dts, f.pts, f.duration, f.keyframe, size=f.size, offset=f.offset,
                           chromium=self.chromium, timescale=90000)

    def _on_audio_frame(self, f: EsFrame) -> None:
        if self.chain:
            self.chain[-1].audio_frames.append(self._frame(AUDIO_TRACK_ID, f))

    def _on_video_frame(self, f: EsFrame) -> None:
        if self.chain:
            self.chain[-1].video_frames.append(self._frame(VIDEO_TRACK_ID, f))

    # -- emission ------------------------------------------------------------------------------------
    def _tracks(self, q: _Queue) -> tuple[TrackInfo, ...]:
        tracks: list[TrackInfo] = []
        if q.video is not None:
            v = q.video
            tracks.append(TrackInfo(VIDEO_TRACK_ID, "video", v.codec, 90000, coding_name="H.264",
                                    width=v.natural_size[0], height=v.visible[3]))
        if q.audio is not None:
            h = q.audio.header
            rate = min(2 * h.sample_rate, 48000) if (self.sbr and h.codec == "aac") else h.sample_rate
            tracks.append(TrackInfo(AUDIO_TRACK_ID, "audio", h.codec_string, 90000,
                                    coding_name="ADTS" if h.codec == "aac" else "MPEG audio",
                                    sample_rate=rate, channels=h.channels or None))
        return tuple(tracks)

    def _init_event(self, q: _Queue, offset: int) -> InitSegmentParsed:
        region = self._init_region or (offset, 0)
        return InitSegmentParsed(InitSegment("mp2t", self._tracks(q), None, region[0], region[1]), region[0])

    def _finish_init(self) -> None:
        if self._initialized or not self.chain:
            return
        front = self.chain[0]
        if self.audio_pid > 0 and front.audio is None:
            return
        if self.video_pid > 0 and front.video is None:
            return
        self._events.append(self._init_event(front, self._base))
        front.config_sent = True
        self._initialized = True

    def _emit_remaining(self) -> None:
        if not self._initialized or not self.chain:
            return
        last = self.chain[-1]
        if self.audio_pid >= 0 and last.audio is None:
            return
        if self.video_pid >= 0 and last.video is None:
            return
        while self.chain:
            q = self.chain[0]
            if not self._segment_started:
                self._segment_started = True
                first = q.video_frames[:1] or q.audio_frames[:1]
                self._events.append(MediaSegmentStarted(first[0].offset if first else self._base, "PES"))
            if not q.config_sent:
                self._events.append(self._init_event(q, self._base))
                q.config_sent = True
            frames = q.audio_frames + q.video_frames
            if frames:
                for track in (q.audio_frames, q.video_frames):
                    for a, b in itertools.pairwise(track):
                        if b.dts * a.timescale < a.dts * b.timescale:
                            self.chain.clear()
                            raise _Fatal(
                                "Parsed buffers not in DTS sequence (a frame at "
                                f"{float(Fraction(b.dts, b.timescale)):.6f}s follows one at "
                                f"{float(Fraction(a.dts, a.timescale)):.6f}s in the same append)",
                                b.offset, "TS-MEDIA-05")
                self._events.append(FramesParsed(frames))
            self.chain.pop(0)
        self.chain.append(_Queue(True, last.audio, last.video))
