"""MPEG-2 TS byte stream format rules (w3c/mse-byte-stream-format-mp2t) and Chromium's TS behaviour.

Two sources of findings share these rule ids:

* the segment parser (:mod:`msetool.ts.stream`, the one ``simulate`` runs) stops where Chromium's append
  fails and emits ParseFailed with a TS-* id (bad PSI, bad PES header, invalid H.264/ADTS, two programs,
  a video PES without PTS, frames out of DTS order in one append): those become error findings;
* :func:`check_stream` walks the packets of the whole run (constant memory) for what the parser does not
  stop at: spec violations Chromium tolerates (lost sync, transport errors, missing PAT/PMT, continuity
  counter jumps), interop risks and facts that explain buffered ranges. With the ``chromium`` profile these
  are warnings (the browser appends), with the ``spec`` profile the MUST-level ones are errors.

Rule ids and levels follow design/mse-rules.md §A.3; TS-*-0N ids beyond that table are Chromium-specific.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from msetool.mime import MimeType
from msetool.rules.catalog import APPEND_FAILS, ensure_rule, finding
from msetool.rules.findings import Finding, Severity
from msetool.source import ByteSource
from msetool.ts.packets import (
    AUDIO_TYPES,
    PACKET_SIZE,
    PID_PAT,
    STREAM_TYPES,
    VIDEO_TYPES,
    PsiError,
    crc32_fast,
    parse_packet,
    parse_pat,
    parse_pmt,
    plain_run,
)

SPEC = "mse-byte-stream-format-mp2t"
CHR = "chromium media/formats/mp2t"
_FAILS = APPEND_FAILS


_r = ensure_rule


_r("TS-GEN-02", "warning", "Incomplete TS packets / lost sync",
   "The spec makes this an append error; Chromium resynchronises instead: it skips to the next 0x47 that is "
   "followed by three more at 188-byte steps, so every bad sync byte also loses up to three packets before "
   "it, and the PES packets they belonged to are dropped or corrupted.", f"{SPEC} §mpeg2ts-general")
_r("TS-GEN-04", "error", "More than one program",
   "A PAT listing more than one program fails the append in Chromium (the spec requires one program).",
   f"{SPEC} §mpeg2ts-general; {CHR}/ts_section_pat.cc")
_r("TS-GEN-05", "warning", "transport_error_indicator is set",
   "The spec makes this an append error; Chromium ignores the flag and parses the damaged packet.",
   f"{SPEC} §mpeg2ts-general")
_r("TS-INIT-01", "warning", "Media packets before a PAT and PMT",
   "The spec requires an initialization segment (PAT + PMT) first; Chromium silently ignores every packet "
   "until it has seen a PAT and then the PMT, so that media is never buffered (after abort() too: abort "
   "forgets all PIDs).", f"{SPEC} §mpeg2ts-init-segments; {CHR}/mp2t_stream_parser.cc")
_r("TS-PSI-01", "error", "Malformed PSI section",
   "A PAT/PMT section with a bad section_length, table_id or section numbering. " + _FAILS,
   f"ISO/IEC 13818-1 §2.4.4; {CHR}/ts_section_psi.cc, ts_section_pmt.cc")
_r("TS-PSI-02", "warning", "PSI section CRC_32 mismatch",
   "Chromium only logs a bad CRC_32 and parses the section anyway, so corrupted PAT/PMT contents are "
   "trusted (other players drop the section).", f"ISO/IEC 13818-1 Annex A; {CHR}/ts_section_psi.cc")
_r("TS-PES-01", "error", "Malformed PES header",
   "Missing packet_start_code_prefix, wrong '10' marker, PES_header_data_length beyond the packet, or a "
   "PTS/DTS field with a wrong prefix or marker bit. " + _FAILS,
   f"ISO/IEC 13818-1 §2.4.3.6; {CHR}/ts_section_pes.cc")
_r("TS-PES-02", "error", "PES packet with an empty payload",
   "Chromium's elementary stream parsers refuse a PES packet that carries no data. " + _FAILS,
   f"{CHR}/es_parser.cc")
_r("TS-MEDIA-02", "error", "PES packet without a PTS",
   "The spec makes any PES without a PTS an append error. Chromium fails on a video access unit without "
   "a timestamp after the first frame, drops leading ones, and times audio frames from the previous PTS.",
   f"{SPEC} §mpeg2ts-media-segments; {CHR}/es_adapter_video.cc")
_r("TS-MEDIA-03", "info", "No PCR before the first media payload",
   "The spec requires a PCR before the first media payload of a segment; browsers do not use the PCR.",
   f"{SPEC} §mpeg2ts-media-segments")
_r("TS-MEDIA-05", "error", "Frames go backwards in decode time within one append",
   "Chromium sends held-back frames of the previous append together with the new ones; if a track's "
   "decode timestamps decrease inside that batch (segments appended out of order, timestamps reset) the "
   "append fails with 'Parsed buffers not in DTS sequence'.", f"{CHR}/mp2t_stream_parser.cc; "
   "chromium media/filters/frame_processor.cc")
_r("TS-CC-01", "warning", "continuity_counter discontinuity",
   "A packet is missing or repeated; Chromium does not check continuity counters, so the PES packet it "
   "belonged to is silently dropped (bounded PES) or spliced with the next one (video).",
   "ISO/IEC 13818-1 §2.4.3.3")
_r("TS-H264-01", "error", "Invalid H.264 elementary stream",
   "An SPS/PPS/slice header Chromium cannot parse, a NAL unit with forbidden_zero_bit set or an unsupported "
   "profile_idc. " + _FAILS, f"{CHR}/es_parser_h264.cc")
_r("TS-H264-02", "warning", "H.264 stream without access unit delimiters",
   "Chromium splits H.264 access units only at access unit delimiter NAL units (type 9); without them no "
   "video frame is ever produced and the initialization segment never completes: nothing is buffered.",
   f"{CHR}/es_parser_h264.cc")
_r("TS-RAP-02", "warning", "Video does not start with an IDR access unit",
   "Frames before the first IDR are replaced by copies of it with interpolated timestamps (Chromium), or "
   "cannot be decoded; start each segment with an IDR.", f"{SPEC} §mpeg2ts-random-access-points")
_r("TS-ADTS-01", "error", "Invalid ADTS header in an AAC stream",
   "An ADTS frame whose header Chromium refuses (reserved sampling_frequency_index, a CRC that does not "
   "fit the frame). " + _FAILS, f"{CHR}/es_parser_adts.cc")
_r("TS-CODEC-01", "warning", "Elementary stream ignored",
   "Chromium only demultiplexes H.264, AAC (ADTS) and MPEG audio streams whose codec is listed in the "
   "SourceBuffer's type; other streams (and all but the lowest-PID audio and video stream) are ignored.",
   f"{CHR}/mp2t_stream_parser.cc RegisterPes")
_r("TS-HOLD-01", "info", "The end of each append is held back",
   "Chromium buffers a TS append only up to what it can complete: the last PES of each stream and, for "
   "H.264, about six more frames wait for the next append (or abort()), so buffered ranges end earlier "
   "than the segment.", f"{CHR}/ts_section_pes.cc, es_adapter_video.cc")

_MUST_RULES = {"TS-GEN-02", "TS-GEN-05", "TS-INIT-01"}


@dataclass(slots=True)
class _PidState:
    cc: int = -1
    last_payload: bytes = b""
    #: the fast loop's lazy last_payload: 184 bytes at last_at of the chunk last_buf (-1: last_payload)
    last_buf: bytes = b""
    last_at: int = -1
    pes_count: int = 0
    aud_seen: bool = False
    first_checked: bool = False


@dataclass(slots=True)
class _Walk:
    pat: bool = False
    pmt_pid: int = -1
    pmt: bool = False
    streams: dict[int, int] = field(default_factory=dict)
    pids: dict[int, _PidState] = field(default_factory=dict)
    pcr_seen: bool = False
    pcr_reported: bool = False
    pre_init_reported: bool = False
    video_pid: int = -1
    audio_pid: int = -1
    psi: dict[int, bytearray] = field(default_factory=dict)


def _allowed(mime: MimeType | None) -> set[int] | None:
    if mime is None or not mime.codecs:
        return None
    out: set[int] = set()
    for c in mime.codecs:
        lc = c.lower()
        if lc.startswith(("avc1", "avc3")):
            out.add(0x1B)
        elif lc.startswith("mp4a.40") or lc in ("mp4a.67", "aac"):
            out.add(0x0F)
        elif lc in ("mp3", "mp4a.69", "mp4a.6b"):
            out |= {0x03, 0x04}
    return out


def check_stream(ctx: Any) -> Iterable[Finding]:
    """The engine's checker contract (msetool.rules.engine.CheckContext): findings, run-relative offsets."""
    source: ByteSource = ctx.source
    mime: MimeType | None = getattr(ctx, "mime", None)
    profile = getattr(getattr(ctx, "options", None), "profile", "chromium")
    out: list[Finding] = []
    for f in _walk(source, mime):
        if profile == "spec" and f.rule in _MUST_RULES:
            out.append(finding(f.rule, f.message, offset=f.offset, box=f.box, severity=Severity.ERROR))
        else:
            out.append(f)
    return out


def _walk(source: ByteSource, mime: MimeType | None) -> Iterator[Finding]:
    allowed = _allowed(mime)
    w = _Walk()
    size = source.size
    chunk = _CHUNK
    pos = 0
    buf = b""
    buf_start = 0
    lost: list[tuple[int, int]] = []
    while True:
        if pos - buf_start + PACKET_SIZE * 4 > len(buf) and buf_start + len(buf) < size:
            keep = buf[pos - buf_start :]
            buf_start = pos
            buf = keep + source.read_at(buf_start + len(keep), chunk)
        i = pos - buf_start
        if FAST:  # stop where the general path would refill, or two packets before the end
            j = _fast_packets(w, buf, i, len(buf) - PACKET_SIZE * 4 + 1 if buf_start + len(buf) < size
                              else len(buf) - 2 * PACKET_SIZE + 1)
            if j != i:
                pos = buf_start + j
                continue
        if len(buf) - i < PACKET_SIZE:
            break
        if buf[i] != 0x47 or (len(buf) - i >= 2 * PACKET_SIZE and buf[i + PACKET_SIZE] != 0x47):
            j = i + 1
            while True:
                j = buf.find(b"\x47", j)
                if j < 0 or len(buf) - j < PACKET_SIZE:
                    break
                if len(buf) - j < 2 * PACKET_SIZE or buf[j + PACKET_SIZE] == 0x47:
                    break
                j += 1
            nxt = len(buf) if j < 0 or len(buf) - j < PACKET_SIZE else j
            lost.append((pos, nxt - i))
            pos = buf_start + nxt
            continue
        pkt = parse_packet(buf, i)
        if isinstance(pkt, str):
            lost.append((pos, 1))
            pos += 1
            continue
        yield from _packet(w, pkt, buf[i + pkt.payload_start : i + PACKET_SIZE], pos, allowed)
        pos += PACKET_SIZE
    for n, (off, skipped) in enumerate(lost):
        if n >= 20:
            break
        yield finding("TS-GEN-02", f"{skipped} byte{'s' if skipped != 1 else ''} at offset {off} are not a "
                      "TS packet: sync is lost there (Chromium drops up to 3 packets before a bad sync byte "
                      "as well)", offset=off)
    tail = size - pos
    if 0 < tail < PACKET_SIZE:
        yield finding("TS-GEN-02", f"the stream ends with {tail} bytes, not a whole 188-byte packet; "
                      "Chromium keeps them waiting for the next append", offset=pos)
    if not w.pat and size >= PACKET_SIZE:
        yield finding("TS-INIT-01", "no PAT (PID 0) in the stream: Chromium ignores every packet and buffers "
                      "nothing", offset=0)
    elif w.pat and not w.pmt:
        yield finding("TS-INIT-01", f"the PAT points at PMT PID {w.pmt_pid}, but no PMT was found: "
                      "nothing is buffered", offset=0)
    vst = w.pids.get(w.video_pid)
    if vst is not None and vst.pes_count > 0 and not vst.aud_seen:
        yield finding("TS-H264-02", f"H.264 stream on PID {w.video_pid} has no access unit delimiter NAL "
                      f"units in {vst.pes_count} PES packets: Chromium produces no video frame", offset=0)
    if w.video_pid >= 0 or w.audio_pid >= 0:
        yield finding("TS-HOLD-01", "Chromium holds the last PES of each stream (and ~6 H.264 frames) back "
                      "until the next append: buffered ranges end before the end of the data", offset=None)


#: Bytes the walk reads at a time.
_CHUNK = 188 * 4096
#: Handle runs of plain media packets in one tight loop (False: every packet through _packet, the reference
#: the equivalence tests compare with).
FAST = True


def _fast_packets(w: _Walk, buf: bytes, i: int, stop: int) -> int:
    """Packets that can give no finding, from ``i`` while ``i < stop``: in sync (0x47 here and a packet
    later), no transport_error_indicator or payload_unit_start_indicator, payload only, on the selected
    audio/video PID after a PCR was seen (or reported), the next continuity_counter, and, for video, once an
    access unit delimiter was seen. Only the continuity state changes. Returns the first other packet."""
    if not (w.pcr_seen or w.pcr_reported):
        return i
    pids = w.pids
    fast: dict[int, _PidState] = {}
    for pid in (w.video_pid, w.audio_pid):
        st = pids.get(pid)
        if pid >= 0 and st is not None and st.cc >= 0 and (pid != w.video_pid or st.aud_seen):
            fast[pid] = st
    if not fast:
        return i
    while i < stop:
        b1 = buf[i + 1]
        if b1 & 0xC0:
            break
        nxt = fast.get(((b1 & 0x1F) << 8) | buf[i + 2])
        if nxt is None:
            break
        st = nxt
        n = (stop - i + PACKET_SIZE - 1) // PACKET_SIZE
        # in sync: 0x47 at each packet and at the one after it
        n = min(n, _leading(buf[i : i + (n + 1) * PACKET_SIZE : PACKET_SIZE], 0x47) - 1)
        if n <= 0:
            break
        n = plain_run(buf, i, n, next_cc=(st.cc + 1) & 0xF)
        if n <= 0:
            break
        i += (n - 1) * PACKET_SIZE
        st.cc = buf[i + 3] & 0xF
        st.last_buf = buf
        st.last_at = i + 4
        i += PACKET_SIZE
    return i


def _leading(data: bytes, value: int) -> int:
    return len(data) - len(data.lstrip(bytes((value,))))


def _last_payload(st: _PidState) -> bytes:
    if st.last_at >= 0:
        return st.last_buf[st.last_at : st.last_at + PACKET_SIZE - 4]
    return st.last_payload


def _packet(w: _Walk, pkt: Any, payload: bytes, off: int, allowed: set[int] | None) -> Iterator[Finding]:
    pid = pkt.pid
    if pkt.transport_error_indicator:
        yield finding("TS-GEN-05", f"packet on PID {pid} has transport_error_indicator set", offset=off)
    st = w.pids.setdefault(pid, _PidState())
    has_payload = bool(pkt.adaptation_field_control & 1)
    if has_payload and pid != 0x1FFF:
        exp = (st.cc + 1) % 16
        dup = pkt.continuity_counter == st.cc and payload == _last_payload(st)
        if st.cc >= 0 and pkt.continuity_counter != exp and not pkt.discontinuity_indicator and not dup:
            yield finding("TS-CC-01", f"PID {pid}: continuity_counter {pkt.continuity_counter}, expected "
                          f"{exp} (packets lost or reordered)", offset=off)
        st.cc = pkt.continuity_counter
        st.last_payload = payload
        st.last_at = -1
        st.last_buf = b""
    if pkt.has_pcr:
        w.pcr_seen = True
    if pid in (PID_PAT, w.pmt_pid):
        yield from _psi(w, pid, pkt.payload_unit_start_indicator, payload, off, allowed)
        return
    if pid in (w.video_pid, w.audio_pid):
        if not w.pcr_seen and not w.pcr_reported and payload:
            w.pcr_reported = True
            yield finding("TS-MEDIA-03", f"media payload on PID {pid} before any PCR", offset=off)
        if pkt.payload_unit_start_indicator:
            yield from _pes_start(w, pid, st, payload, off)
        elif pid == w.video_pid and not st.aud_seen and b"\x00\x00\x01\x09" in payload:
            st.aud_seen = True
    elif not w.pmt and pid not in (0x11, 0x1FFF, 1) and has_payload and payload and not w.pre_init_reported:
        w.pre_init_reported = True
        yield finding("TS-INIT-01", f"packet on PID {pid} before the PAT/PMT that declare it: Chromium "
                      "ignores it", offset=off)


def _pes_start(w: _Walk, pid: int, st: _PidState, payload: bytes, off: int) -> Iterator[Finding]:
    st.pes_count += 1
    if len(payload) < 9 or payload[:3] != b"\x00\x00\x01":
        return
    flags = payload[7] >> 6
    es = payload[9 + payload[8] :]
    if flags not in (2, 3) and pid == w.audio_pid:
        yield finding("TS-MEDIA-02", f"audio PES on PID {pid} has no PTS (the spec makes this an append "
                      "error; Chromium times its frames from the previous PTS)", offset=off,
                      severity=Severity.WARNING)
    if pid == w.video_pid:
        if b"\x00\x00\x01\x09" in es:
            st.aud_seen = True
        if not st.first_checked:
            st.first_checked = True
            nal_types = {es[k + 3] & 0x1F for k in range(len(es) - 3) if es[k : k + 3] == b"\x00\x00\x01"}
            if 5 not in nal_types and (1 in nal_types):
                yield finding("TS-RAP-02", f"the first video access unit on PID {pid} is not an IDR picture",
                              offset=off)


def _psi(w: _Walk, pid: int, pusi: bool, payload: bytes, off: int,  # noqa: PLR0917
         allowed: set[int] | None) -> Iterator[Finding]:
    if pusi:
        if not payload:
            return
        ptr = payload[0]
        w.psi[pid] = bytearray(payload[1 + ptr :])
    elif pid in w.psi:
        w.psi[pid] += payload
    else:
        return
    sec = w.psi[pid]
    if len(sec) < 3:
        return
    total = (((sec[1] << 8) | sec[2]) & 0xFFF) + 3
    if len(sec) < total:
        return
    data = bytes(sec[:total])
    del w.psi[pid]
    if crc32_fast(data) != 0:
        yield finding("TS-PSI-02", f"{'PAT' if pid == PID_PAT else 'PMT'} section CRC_32 mismatch",
                      offset=off)
    try:
        if pid == PID_PAT:
            pat = parse_pat(data)
            w.pat = True
            progs = [p for p in pat.programs if p[0] != 0]
            if progs:
                w.pmt_pid = progs[0][1]
        else:
            pmt = parse_pmt(data)
            if not w.pmt:
                w.pmt = True
                yield from _streams(w, pmt.streams, off, allowed)
    except PsiError:
        return


def _streams(w: _Walk, streams: tuple[tuple[int, int], ...], off: int,
             allowed: set[int] | None) -> Iterator[Finding]:
    video = [p for p, t in streams if t in VIDEO_TYPES and (allowed is None or t in allowed)]
    audio = [p for p, t in streams if t in AUDIO_TYPES and (allowed is None or t in allowed)]
    w.video_pid = min(video) if video else -1
    w.audio_pid = min(audio) if audio else -1
    for pid, t in streams:
        name = STREAM_TYPES.get(t, f"stream_type 0x{t:02X}")
        if t not in VIDEO_TYPES | AUDIO_TYPES:
            if t not in (0x06, 0x15, 0x86):  # private data, ID3 timed metadata, SCTE-35: silently skipped
                yield finding("TS-CODEC-01", f"PID {pid} ({name}) is not a stream type Chromium plays; it is "
                              "ignored", offset=off)
        elif allowed is not None and t not in allowed:
            yield finding("TS-CODEC-01", f"PID {pid} ({name}) is not in the SourceBuffer's codecs; Chromium "
                          "ignores it", offset=off)
        elif pid not in (w.video_pid, w.audio_pid):
            yield finding("TS-CODEC-01", f"PID {pid} ({name}) is not the lowest-PID stream of its kind; "
                          "Chromium ignores it", offset=off)
