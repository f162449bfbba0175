"""MPEG-2 TS packets and PSI sections (ISO/IEC 13818-1 §2.4.3, §2.4.4), with Chromium's acceptance rules.

``sync_skip`` and ``parse_packet`` mirror media/formats/mp2t/ts_packet.cc: resynchronisation looks for a
0x47 byte followed by three more at 188-byte steps (as many as the inspected bytes hold), and a packet
whose adaptation field is malformed is skipped one byte at a time. The PSI helpers mirror
ts_section_psi.cc / ts_section_pat.cc / ts_section_pmt.cc (CRC_32 checked, one program only).
"""

from __future__ import annotations

from dataclasses import dataclass

PACKET_SIZE = 188
SYNC = 0x47
PID_PAT = 0
PID_CAT = 1

#: stream_type values (Table 2-34) Chromium builds elementary stream parsers for.
STREAM_TYPES = {0x1B: "H.264", 0x0F: "AAC (ADTS)", 0x03: "MPEG-1 audio", 0x04: "MPEG-2 audio",
                0xDB: "H.264 (SAMPLE-AES)", 0xCF: "AAC (SAMPLE-AES)"}
VIDEO_TYPES = {0x1B}
AUDIO_TYPES = {0x0F, 0x03, 0x04}


_SYNCS = b"\x47" * 4


def sync_skip(buf: bytes | bytearray, start: int, end: int) -> int:
    """Bytes to skip from ``start`` until a position with 0x47 at up to four consecutive packet starts
    inside ``[start, end)`` (TsPacket::Sync)."""
    probe = buf[start : min(end, start + 3 * PACKET_SIZE + 1) : PACKET_SIZE]
    if probe == _SYNCS[: len(probe)]:
        return 0
    k = start
    while k < end:
        ok = True
        for i in range(4):
            idx = k + i * PACKET_SIZE
            if idx >= end:
                break
            if buf[idx] != SYNC:
                ok = False
                break
        if ok:
            break
        nxt = buf.find(b"\x47", k + 1, end)
        k = end if nxt < 0 else nxt
    return k - start


#: translate() table: 1 for a fourth header byte whose adaptation_field_control is '01' (payload only).
_PAYLOAD_ONLY = bytes(1 if b & 0x30 == 0x10 else 0 for b in range(256))
#: continuity_counter sequences: _CC_CYCLE[hi][c:c + n] are n fourth header bytes with the high nibble ``hi``
#: and counters c, c + 1, ... (mod 16).
_CC_CYCLE: dict[int, bytes] = {}


def _leading(data: bytes | bytearray, value: int) -> int:
    return len(data) - len(data.lstrip(bytes((value,))))


def _common_prefix(a: bytes | bytearray, b: bytes | bytearray) -> int:
    if a == b:
        return len(a)
    lo, hi = 0, min(len(a), len(b))  # a[:lo] == b[:lo]; the first difference is before hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if a[lo:mid] == b[lo:mid]:
            lo = mid
        else:
            hi = mid
    return lo if a[lo:lo + 1] != b[lo:lo + 1] else hi


def plain_run(buf: bytes | bytearray, pos: int, n: int, *, next_cc: int = -1) -> int:
    """How many of the ``n`` packets from ``pos`` repeat the first one's PID and flag bits (same second and
    third header bytes) and carry payload only; with ``next_cc`` >= 0 also how many carry continuity
    counters next_cc, next_cc + 1, ... Strided slices: one C-speed pass per header byte, not a Python
    step per packet (validate's fast loops)."""
    end = pos + n * PACKET_SIZE
    k = _leading(buf[pos + 1 : end : PACKET_SIZE], buf[pos + 1])
    if k:
        k = _leading(buf[pos + 2 : pos + k * PACKET_SIZE : PACKET_SIZE], buf[pos + 2])
    if not k:
        return 0
    b3 = buf[pos + 3 : pos + 3 + (k - 1) * PACKET_SIZE + 1 : PACKET_SIZE]
    if next_cc < 0:
        return _leading(b3.translate(_PAYLOAD_ONLY), 1)
    hi = buf[pos + 3] & 0xF0
    if hi & 0x30 != 0x10:
        return 0
    cyc = _CC_CYCLE.get(hi)
    if cyc is None or len(cyc) < k + 16:
        cyc = _CC_CYCLE[hi] = bytes(hi | (j & 15) for j in range(max(k + 16, 8192)))
    return _common_prefix(b3, cyc[next_cc : next_cc + k])


@dataclass(slots=True)
class Packet:
    pid: int
    payload_unit_start_indicator: bool
    transport_error_indicator: bool
    transport_scrambling_control: int
    adaptation_field_control: int
    continuity_counter: int
    has_pcr: bool
    discontinuity_indicator: bool
    random_access_indicator: bool
    payload_start: int  # offset of the payload inside the packet
    pcr: int | None = None


def parse_packet(pkt: bytes | bytearray, base: int = 0) -> Packet | str:
    """Header + adaptation field of the 188-byte packet at ``pkt[base:]``; a string says why Chromium
    rejects it (the parser then skips one byte and resynchronises)."""
    b1, b2, b3 = pkt[base + 1], pkt[base + 2], pkt[base + 3]
    tei = bool(b1 & 0x80)
    pusi = bool(b1 & 0x40)
    pid = ((b1 & 0x1F) << 8) | b2
    tsc = b3 >> 6
    afc = (b3 >> 4) & 3
    cc = b3 & 0xF
    payload = 4
    disc = rai = has_pcr = False
    pcr: int | None = None
    if afc & 2:
        length = pkt[base + 4]
        payload = 5
        if not (afc & 1) and length != 183:
            return f"adaptation_field_length {length} must be 183 in a packet without payload"
        if (afc & 1) and length > 182:
            return f"adaptation_field_length {length} leaves no room for the payload"
        if length > 0:
            p = base + 5
            end = p + length
            flags = pkt[p]
            disc = bool(flags & 0x80)
            rai = bool(flags & 0x40)
            p += 1
            if flags & 0x10:  # PCR_flag
                has_pcr = True
                raw = int.from_bytes(pkt[p : p + 6], "big")
                pcr = raw >> 15
                p += 6
            if flags & 0x08:  # OPCR_flag
                p += 6
            if flags & 0x04:  # splicing_point_flag
                p += 1
            if flags & 0x02:  # transport_private_data_flag
                if p >= base + PACKET_SIZE:
                    return "adaptation field overruns the packet"
                p += 1 + pkt[p]
            if flags & 0x01:  # adaptation_field_extension_flag
                if p >= base + PACKET_SIZE:
                    return "adaptation field overruns the packet"
                p += 1 + pkt[p]
            if p > end or p > base + PACKET_SIZE:
                return "adaptation field flags need more bytes than adaptation_field_length"
        payload = 5 + length
    return Packet(pid, pusi, tei, tsc, afc, cc, has_pcr, disc, rai, payload, pcr)


def crc32_mpeg(data: bytes | bytearray) -> int:
    """CRC_32 of ISO 13818-1 Annex A (polynomial 0x04C11DB7, no reflection, initial 0xFFFFFFFF)."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) & 0xFFFFFFFF if crc & 0x80000000 else (crc << 1) & 0xFFFFFFFF
    return crc


_CRC_TABLE: list[int] = []


def crc32_fast(data: bytes | bytearray) -> int:
    if not _CRC_TABLE:
        for i in range(256):
            c = i << 24
            for _ in range(8):
                c = ((c << 1) ^ 0x04C11DB7) & 0xFFFFFFFF if c & 0x80000000 else (c << 1) & 0xFFFFFFFF
            _CRC_TABLE.append(c)
    crc = 0xFFFFFFFF
    for byte in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ _CRC_TABLE[((crc >> 24) ^ byte) & 0xFF]
    return crc


class PsiError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Pat:
    version_number: int
    current_next_indicator: bool
    programs: tuple[tuple[int, int], ...]  # (program_number, PID)


@dataclass(frozen=True, slots=True)
class Pmt:
    program_number: int
    version_number: int
    pcr_pid: int
    streams: tuple[tuple[int, int], ...]  # (elementary_PID, stream_type), sorted by PID


def parse_pat(sec: bytes) -> Pat:
    if len(sec) < 12:
        raise PsiError("PAT section too short")
    table_id = sec[0]
    ssi = sec[1] >> 7
    zero = (sec[1] >> 6) & 1
    length = ((sec[1] & 0xF) << 8) | sec[2]
    if length < 5 or length > 1021:
        raise PsiError(f"PAT section_length {length}")
    version = (sec[5] >> 1) & 0x1F
    cni = bool(sec[5] & 1)
    if table_id != 0 or not ssi or zero:
        raise PsiError(f"not a PAT section (table_id {table_id}, section_syntax_indicator {ssi})")
    body = length - 5
    if body % 4:
        raise PsiError("PAT program loop is not a multiple of 4 bytes")
    progs = []
    for k in range((body - 4) // 4):
        p = 8 + 4 * k
        progs.append(((sec[p] << 8) | sec[p + 1], ((sec[p + 2] & 0x1F) << 8) | sec[p + 3]))
    return Pat(version, cni, tuple(progs))


def parse_pmt(sec: bytes) -> Pmt:
    if len(sec) < 16:
        raise PsiError("PMT section too short")
    table_id = sec[0]
    ssi = sec[1] >> 7
    zero = (sec[1] >> 6) & 1
    length = ((sec[1] & 0xF) << 8) | sec[2]
    program_number = (sec[3] << 8) | sec[4]
    version = (sec[5] >> 1) & 0x1F
    section_number, last_section_number = sec[6], sec[7]
    if table_id != 2 or not ssi or zero or length > 1021 or section_number or last_section_number:
        raise PsiError(f"not a valid PMT section (table_id {table_id}, section_length {length}, "
                       f"section_number {section_number}/{last_section_number})")
    pcr_pid = ((sec[8] & 0x1F) << 8) | sec[9]
    info_len = ((sec[10] & 0xF) << 8) | sec[11]
    if info_len >= 1024:
        raise PsiError(f"program_info_length {info_len}")
    p = 12 + info_len
    end = 3 + length - 4
    streams: dict[int, int] = {}
    while p < end:
        if p + 5 > len(sec):
            raise PsiError("PMT elementary stream loop overruns the section")
        st = sec[p]
        pid = ((sec[p + 1] & 0x1F) << 8) | sec[p + 2]
        es_len = ((sec[p + 3] & 0xF) << 8) | sec[p + 4]
        p += 5 + es_len
        if p > end:
            raise PsiError("ES_info_length overruns the section")
        streams.setdefault(pid, st)
    return Pmt(program_number, version, pcr_pid, tuple(sorted(streams.items())))


def decode_timestamp(b: bytes, expect_prefix: int) -> int | None:
    """A 33-bit PTS/DTS from its 5-byte field, or None when the prefix or a marker bit is wrong."""
    v = int.from_bytes(b[:5], "big")
    if (v >> 36) & 0xF != expect_prefix or not (v & 1) or not (v & 0x10000) or not (v & 0x100000000):
        return None
    return (((v >> 33) & 7) << 30) | (((v >> 17) & 0x7FFF) << 15) | ((v >> 1) & 0x7FFF)
