"""Frames Chromium's decoders refuse although the byte stream carries them: the byte-level predicates.

The append succeeds and the media element fails later (PIPELINE_ERROR_DECODE) when the paused element
prerolls such a frame. Each predicate reads only the syntax a decoder checks before any entropy-coded data
(FFmpeg's H.264 and AAC decoders, libvpx, dav1d, libopus), so it is predictable from the bytes. The MP4
reader marks frames with them (``CodedFrame.decode_error``) and validate's BMFF-MEDIA-33 reports them; they
live here, with the codecs, so that readers and rules share them without a reader importing a rules module.
"""

from __future__ import annotations

import contextlib


class _Bits:
    """MSB-first reader of an RBSP (emulation prevention bytes already removed); reads past the end
    raise IndexError.

    The RBSP (at most ~64 bytes here) is held as one integer, so an Exp-Golomb code is a bit_length, a
    shift and a mask instead of a Python call per bit: the paused element's preroll checks decode three
    per slice header for every fragment's first frames (~2,400 in a 20-minute output)."""

    def __init__(self, data: bytes) -> None:
        self.pos = 0
        self._bits = 8 * len(data)
        self._value = int.from_bytes(data, "big")

    def ue(self) -> int:
        """ue(v) (H.264 9.1): ValueError for a code of more than 32 leading zero bits, IndexError when the
        data ends first (as reading it bit by bit would: whichever comes first)."""
        left = self._bits - self.pos
        if left <= 0:
            raise IndexError("read past the end")
        rest = self._value & ((1 << left) - 1)
        zeros = left - rest.bit_length()  # (all of them when nothing but zeros is left)
        if zeros > 31 and left > 31:
            raise ValueError("Exp-Golomb code longer than 32 bits")
        size = 2 * zeros + 1
        if size > left:
            raise IndexError("read past the end")
        self.pos += size
        return (rest >> (left - size)) - 1


#: how many RBSP bytes of a NAL unit the predicates read (its first fields)
_RBSP_LIMIT = 64
#: the bytes of a NAL unit :func:`_rbsp` can read with that limit: the header byte, and up to
#: ``limit + limit // 2`` payload bytes when emulation prevention bytes are dropped
_NAL_HEAD = 1 + _RBSP_LIMIT + _RBSP_LIMIT // 2


def _rbsp(nal: bytes, limit: int = _RBSP_LIMIT) -> bytes:
    """The first ``limit`` payload bytes of a NAL unit with emulation_prevention_three_bytes removed."""
    if nal.find(b"\x00\x00\x03", 1, 1 + limit) < 0:
        # no emulation prevention byte among the bytes _rbsp_loop would copy (almost every slice
        # header): the same bytes, without a Python loop over each of them
        return bytes(nal[1 : 1 + limit])
    return _rbsp_loop(nal, limit)


def _rbsp_loop(nal: bytes, limit: int) -> bytes:
    """:func:`_rbsp` byte by byte, for any NAL unit (its short cut is held equal to this in the tests)."""
    out = bytearray()
    zeros = 0
    for b in nal[1 : 1 + limit + limit // 2]:
        if zeros >= 2 and b == 3:
            zeros = 0
            continue
        out.append(b)
        zeros = zeros + 1 if b == 0 else 0
        if len(out) >= limit:
            break
    return bytes(out)


def pps_id(nal: bytes) -> int:
    """pic_parameter_set_id of a PPS NAL unit (its first field)."""
    return _Bits(_rbsp(nal)).ue()


def pps_ids(nal: bytes) -> tuple[int, int]:
    """(pic_parameter_set_id, seq_parameter_set_id) of a PPS NAL unit."""
    r = _Bits(_rbsp(nal))
    return r.ue(), r.ue()


def sps_id(nal: bytes) -> int:
    """seq_parameter_set_id of an SPS NAL unit (after profile_idc, the constraint flags and level_idc)."""
    r = _Bits(_rbsp(nal))
    r.pos = 24
    return r.ue()


def undecodable_avc_frame(
    sample: bytes, length: int, known_pps: frozenset[int], mbs: int, known_sps: frozenset[int] | None
) -> str | None:
    """Why FFmpeg's H.264 decoder (Chromium's) finds no frame in ``sample``, or None when it may decode.

    The decoder skips a slice whose header is impossible and fails the packet ("no frame!") when no slice
    of it is left; only the first fields are read (first_mb_in_slice, slice_type, pic_parameter_set_id),
    whose limits do not depend on the rest of the SPS. A sample with no slice at all is left alone.
    ``length`` is the avcC NAL length size, ``known_pps``/``known_sps`` the parameter set ids the avcC
    holds (``known_sps`` None: unknown, any PPS counts as usable), ``mbs`` the macroblocks of a picture
    (0: unknown)."""
    n = length
    pps = set(known_pps)
    sps = None if known_sps is None else set(known_sps)
    pos = 0
    slices = 0
    reasons: list[str] = []
    while pos + n <= len(sample):
        size = int.from_bytes(sample[pos : pos + n], "big")
        body = pos + n
        pos = body + size
        if not size or pos > len(sample):
            return None  # framing problems are the parser's business (BMFF-MEDIA-21 and friends)
        # the unit's first bytes: all that _rbsp reads (a slice is often tens of KB, copied for nothing)
        nal = sample[body : body + min(size, _NAL_HEAD)]
        t = nal[0] & 0x1F
        if t == 7 and sps is not None:
            with contextlib.suppress(Exception):
                sps.add(sps_id(nal))
            continue
        if t == 8:
            with contextlib.suppress(Exception):
                p, s_id = pps_ids(nal)
                if sps is None or s_id in sps:
                    pps.add(p)
            continue
        if t not in (1, 5):
            continue
        slices += 1
        try:
            r = _Bits(_rbsp(nal))
            first_mb, slice_type, pps_id = r.ue(), r.ue(), r.ue()
        except (IndexError, ValueError):
            reasons.append("a slice header that ends early")
            continue
        if slice_type > 9:
            reasons.append(f"slice_type {slice_type}")
        elif t == 5 and slice_type % 5 not in (2, 4):
            reasons.append(f"a non-intra slice (slice_type {slice_type}) in an IDR NAL unit")
        elif pps_id not in pps and (pps or sps is not None):
            reasons.append(f"pic_parameter_set_id {pps_id}, which does not exist (or names no SPS)")
        elif mbs and first_mb >= 2 * mbs:
            reasons.append(f"first_mb_in_slice {first_mb} past the {mbs} macroblocks of the picture")
        else:
            return None
    if not slices or len(reasons) < slices:
        return None
    return ", ".join(dict.fromkeys(reasons))


class _RawBits:
    """MSB-first reader over plain bytes (AAC has no emulation prevention); past the end: IndexError.

    The syntax the predicates read sits in a frame's first bytes: those are held as one integer, so a
    field is a shift and a mask; reads beyond them (long fill elements) take the bytes they span."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0
        head = data[:_HEAD_BYTES]
        self._head = int.from_bytes(head, "big")
        self._head_bits = 8 * len(head)

    def read(self, n: int) -> int:
        if n <= 0:
            return 0
        pos = self.pos
        end = pos + n
        if end <= self._head_bits:
            self.pos = end
            return (self._head >> (self._head_bits - end)) & ((1 << n) - 1)
        last = (end - 1) >> 3
        if last >= len(self.data):
            raise IndexError("read past the end")
        v = int.from_bytes(self.data[pos >> 3 : last + 1], "big") >> (-end & 7)
        self.pos = end
        return v & ((1 << n) - 1)


_HEAD_BYTES = 8


_AAC_ELEMENTS = ("SCE", "CPE", "CCE", "LFE", "DSE", "PCE", "FIL", "END")
#: the most scalefactor bands of a long window at any sampling rate (32 kHz: 51)
_MAX_SWB_LONG = 51


def _aac_ics_info(r: _RawBits, object_type: int) -> str | None:
    """ics_info from the reader's position (:func:`_ics_info_at` on its next bits); IndexError when the
    fields it judges run past the end, as reading them one by one would."""
    start, left = r.pos, 8 * len(r.data) - r.pos
    n = min(32, left)
    why, end = _ics_info_at(r.read(n) << (32 - n), 0, object_type)
    if end > left:
        raise IndexError("read past the end")
    r.pos = start + end
    return why


def undecodable_aac_frame(frame: bytes, object_type: int, channel_config: int) -> str | None:
    """Why FFmpeg's AAC decoder (Chromium's) rejects this raw_data_block, or None when it may decode it.

    Reads the syntax up to the first channel element's ics_info: fill and data stream elements are
    skipped; a coupling or LFE element where channelConfiguration 1 or 2 allocates none, a reserved
    ics_info bit, more scalefactor bands than any long window has, prediction in AAC-LC, or ms_mask_present
    3 fail the packet. Only those checks whose outcome does not depend on the Huffman-coded data."""
    if object_type not in (2, 5, 29) or channel_config not in (1, 2):
        return None
    if len(frame) >= 4:
        # nearly every frame opens with its channel element, an SCE or a CPE: what is judged of it lies in
        # the first 31 bits, read from one integer (this runs on every fragment's first 200 ms of audio)
        h = int.from_bytes(frame[:4], "big")
        kind = h >> 29
        if kind == 0:  # id_syn_ele, element_instance_tag, global_gain, then ics_info
            return _ics_info_at(h, 15, object_type)[0]
        if kind == 1:
            if not h >> 24 & 1:  # no common_window: global_gain, then the first channel's ics_info
                return _ics_info_at(h, 16, object_type)[0]
            why, end = _ics_info_at(h, 8, object_type)
            if why is None and (h >> (30 - end)) & 3 == 3:
                why = "ms_mask_present 3 (reserved)"
            return why
    return _aac_elements(frame, object_type, channel_config)


def _ics_info_at(h: int, pos: int, object_type: int) -> tuple[str | None, int]:
    """ics_info at bit ``pos`` of the 32-bit big-endian ``h``: (its verdict, the bit after the fields it
    reads). A reserved bit, more scalefactor bands than a long window has, and
    prediction in AAC-LC fail the packet."""

    def field(at: int, n: int) -> int:
        return (h >> (32 - at - n)) & ((1 << n) - 1)

    if field(pos, 1):
        return "ics_info reserved bit set", pos + 1
    if field(pos + 1, 2) == 2:  # EIGHT_SHORT_SEQUENCE: window_shape, max_sfb, scale_factor_grouping
        return None, pos + 15
    max_sfb = field(pos + 4, 6)
    if max_sfb > _MAX_SWB_LONG:
        return f"max_sfb {max_sfb} exceeds the scalefactor bands of a long window", pos + 10
    if field(pos + 10, 1) and object_type in (2, 5, 29):
        return "prediction data in an AAC-LC frame", pos + 11
    return None, pos + 11


def _aac_elements(frame: bytes, object_type: int, channel_config: int) -> str | None:
    """:func:`undecodable_aac_frame` read element by element (any frame; its short cut for a first SCE or
    CPE is held equal to this in the tests)."""
    r = _RawBits(frame)
    try:
        for _ in range(16):
            kind = r.read(3)
            if kind == 6:  # FIL
                count = r.read(4)
                if count == 15:
                    count += r.read(8) - 1
                r.read(8 * count)
                continue
            if kind == 4:  # DSE
                r.read(4)
                align = r.read(1)
                count = r.read(8)
                if count == 255:
                    count += r.read(8)
                if align and r.pos % 8:
                    r.read(8 - r.pos % 8)
                r.read(8 * count)
                continue
            if kind in (2, 3):
                name = _AAC_ELEMENTS[kind]
                return f"a {name} element, which channelConfiguration {channel_config} does not allocate"
            if kind in (5, 7):
                return None  # PCE / END: not judged
            r.read(4)  # element_instance_tag
            if kind == 1 and r.read(1):  # CPE with common_window
                why = _aac_ics_info(r, object_type)
                if why is None and r.read(2) == 3:
                    why = "ms_mask_present 3 (reserved)"
                return why
            r.read(8)  # global_gain
            return _aac_ics_info(r, object_type)
    except IndexError:
        return None
    return None


def undecodable_vp9_frame(frame: bytes) -> str | None:
    """Why libvpx (Chromium's VP9 decoder) rejects this first frame, or None: the uncompressed header's
    frame_marker must be 2, profile 3's reserved bit 0, and a key frame must carry the sync code
    0x49 0x83 0x42 (VP9 bitstream spec §6.2, §7.2). A superframe starts with its first frame."""
    r = _RawBits(frame)
    try:
        if r.read(2) != 2:
            return "frame_marker is not 2"
        profile = r.read(1) | (r.read(1) << 1)
        if profile == 3 and r.read(1):
            return "reserved_zero bit set in profile 3"
        if r.read(1):  # show_existing_frame
            return None
        if r.read(1) == 0:  # key frame
            r.read(2)  # show_frame, error_resilient_mode
            sync = r.read(24)
            if sync != 0x498342:
                return f"key frame sync code {sync:06x}, not 498342"
    except IndexError:
        return "the frame ends inside its uncompressed header"
    return None


def undecodable_av1_frame(frame: bytes) -> str | None:
    """Why dav1d (Chromium's AV1 decoder) rejects this temporal unit, or None: every OBU header needs
    obu_forbidden_bit 0, and an obu_size must not run past the sample (AV1 spec §5.3)."""
    pos = 0
    for _ in range(64):
        if pos >= len(frame):
            return None
        head = frame[pos]
        if head & 0x80:
            return f"obu_forbidden_bit set in the OBU header at byte {pos}"
        ext, has_size = head >> 2 & 1, head >> 1 & 1
        pos += 1 + ext
        if not has_size:
            return None  # the OBU runs to the end of the sample
        size, shift = 0, 0
        for _ in range(8):
            if pos >= len(frame):
                return "the sample ends inside an obu_size"
            b = frame[pos]
            pos += 1
            size |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        if size > len(frame) - pos:
            return f"obu_size {size} runs past the end of the sample"
        pos += size
    return None


def _opus_size(data: bytes, pos: int) -> tuple[int, int]:
    """(frame length, bytes used) of an RFC 6716 §3.2.1 length field at ``pos``; (-1, 0) when cut short."""
    if pos >= len(data):
        return -1, 0
    if data[pos] < 252:
        return data[pos], 1
    if pos + 1 >= len(data):
        return -1, 0
    return 4 * data[pos + 1] + data[pos], 2


def undecodable_opus_frame(packet: bytes) -> str | None:
    """Why libopus (Chromium's OpusAudioDecoder) rejects this packet (OPUS_INVALID_PACKET), or None: the
    framing rules of RFC 6716 §3.4 (an odd code 1 payload, a code 2 length past the packet, a code 3 frame
    count of 0 or over 120 ms, CBR frames that do not divide the payload, VBR lengths past it, a frame over
    1275 bytes). An empty packet is packet loss concealment, not an error."""
    if not packet:
        return None
    toc = packet[0]
    if toc & 0x80:
        samples = (48000 << (toc >> 3 & 3)) // 400
    elif toc & 0x60 == 0x60:
        samples = 960 if toc & 0x08 else 480
    else:
        n = toc >> 3 & 3
        samples = 2880 if n == 3 else (48000 << n) // 100
    code = toc & 3
    rest = len(packet) - 1
    if code == 0:
        last = rest
    elif code == 1:
        if rest & 1:
            return f"code 1 packet with an odd payload of {rest} bytes"
        last = rest // 2
    elif code == 2:
        size, used = _opus_size(packet, 1)
        rest -= used
        if size < 0 or size > rest:
            return "code 2 packet whose first frame length runs past the packet"
        last = rest - size
    else:
        if rest < 1:
            return "code 3 packet without its frame count byte"
        ch = packet[1]
        count = ch & 0x3F
        if count == 0 or samples * count > 5760:
            return f"code 3 packet with {count} frames of {samples / 48:g} ms (1 to 120 ms allowed)"
        pos, rest = 2, rest - 1
        if ch & 0x40:
            while True:
                if rest <= 0:
                    return "code 3 packet whose padding runs past the packet"
                p = packet[pos]
                pos, rest = pos + 1, rest - 1 - (254 if p == 255 else p)
                if p != 255:
                    break
            if rest < 0:
                return "code 3 packet whose padding runs past the packet"
        if ch & 0x80:  # VBR
            last = rest
            for _ in range(count - 1):
                size, used = _opus_size(packet, pos)
                rest -= used
                if size < 0 or size > rest:
                    return "code 3 VBR frame length runs past the packet"
                pos += used
                last -= used + size
            if last < 0:
                return "code 3 VBR frame lengths exceed the packet"
        else:
            last = rest // count
            if last * count != rest:
                return f"code 3 CBR packet: {rest} bytes do not split into {count} equal frames"
    if last > 1275:
        return f"a frame of {last} bytes (at most 1275)"
    return None
