"""H.264 Annex B pieces the TS reader needs: start codes, NAL headers, SPS/PPS/slice-header prefixes.

Only what decides MSE behaviour is parsed: the SPS fields that make the decoder configuration (profile,
coded size, cropping, sample aspect ratio) and the RFC 6381 string ``avc1.PPCCLL``; the PPS's SPS id; the
slice header's PPS id. Field names follow ITU-T H.264 §7.3.
"""

from __future__ import annotations

from dataclasses import dataclass

NAL_SLICE = 1
NAL_IDR = 5
NAL_SEI = 6
NAL_SPS = 7
NAL_PPS = 8
NAL_AUD = 9

#: profile_idc values with chroma_format_idc etc. in the SPS (H.264 7.3.2.1.1).
_HIGH_PROFILES = {100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135}
#: profile_idc values Chromium maps to a VideoCodecProfile (H264Parser::ProfileIDCToVideoCodecProfile).
KNOWN_PROFILES = {66: "baseline", 77: "main", 88: "extended", 100: "high", 110: "high 10",
                  122: "high 4:2:2", 244: "high 4:4:4", 83: "scalable baseline", 86: "scalable high",
                  118: "multiview high", 128: "stereo high"}
#: Table E-1 sample aspect ratios for aspect_ratio_idc 1..16.
_SAR = ((1, 1), (12, 11), (10, 11), (16, 11), (40, 33), (24, 11), (20, 11), (32, 11), (80, 33), (18, 11),
        (15, 11), (64, 33), (160, 99), (4, 3), (3, 2), (2, 1))


class BitstreamError(Exception):
    """The RBSP ended early or holds a value out of range."""


def unescape(nal: bytes) -> bytes:
    """Remove emulation_prevention_three_byte (00 00 03 -> 00 00)."""
    if b"\x00\x00\x03" not in nal:
        return nal
    out = bytearray()
    i = 0
    n = len(nal)
    while i < n:
        j = nal.find(b"\x00\x00\x03", i)
        if j < 0:
            out += nal[i:]
            break
        out += nal[i : j + 2]
        i = j + 3
    return bytes(out)


class _Bits:
    __slots__ = ("data", "pos", "size")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0
        self.size = len(data) * 8

    def u(self, n: int) -> int:
        if self.pos + n > self.size:
            raise BitstreamError("RBSP ended early")
        v = 0
        for _ in range(n):
            byte = self.data[self.pos >> 3]
            v = (v << 1) | ((byte >> (7 - (self.pos & 7))) & 1)
            self.pos += 1
        return v

    def ue(self) -> int:
        zeros = 0
        while self.u(1) == 0:
            zeros += 1
            if zeros > 31:
                raise BitstreamError("Exp-Golomb code too long")
        return (1 << zeros) - 1 + (self.u(zeros) if zeros else 0)

    def se(self) -> int:
        k = self.ue()
        return (k + 1) // 2 if k & 1 else -(k // 2)


@dataclass(frozen=True, slots=True)
class Sps:
    profile_idc: int
    constraint_flags: int
    level_idc: int
    seq_parameter_set_id: int
    coded_width: int
    coded_height: int
    #: visible rectangle (x, y, width, height) after frame cropping
    visible: tuple[int, int, int, int]
    sar: tuple[int, int]

    @property
    def codec(self) -> str:
        return f"avc1.{self.profile_idc:02X}{self.constraint_flags:02X}{self.level_idc:02X}"

    @property
    def natural_size(self) -> tuple[int, int]:
        w = self.visible[2] * self.sar[0] // self.sar[1]
        return w, self.visible[3]

    @property
    def config_key(self) -> tuple[object, ...]:
        """What VideoDecoderConfig::Matches compares (profile, sizes); the level is not part of it."""
        return (KNOWN_PROFILES.get(self.profile_idc), self.coded_width, self.coded_height, self.visible,
                self.natural_size)


def _skip_scaling_list(b: _Bits, size: int) -> None:
    last = nxt = 8
    for _ in range(size):
        if nxt != 0:
            nxt = (last + b.se() + 256) % 256
        last = nxt if nxt != 0 else last


def parse_sps(nal: bytes) -> Sps:
    """``nal`` includes the one-byte NAL header."""
    b = _Bits(unescape(nal[1:]))
    profile_idc = b.u(8)
    constraint = b.u(8)
    level_idc = b.u(8)
    sps_id = b.ue()
    if sps_id > 31:
        raise BitstreamError(f"seq_parameter_set_id {sps_id} > 31")
    chroma_format_idc = 1
    separate_colour_plane = 0
    if profile_idc in _HIGH_PROFILES:
        chroma_format_idc = b.ue()
        if chroma_format_idc > 3:
            raise BitstreamError(f"chroma_format_idc {chroma_format_idc}")
        if chroma_format_idc == 3:
            separate_colour_plane = b.u(1)
        b.ue()  # bit_depth_luma_minus8
        b.ue()  # bit_depth_chroma_minus8
        b.u(1)  # qpprime_y_zero_transform_bypass_flag
        if b.u(1):  # seq_scaling_matrix_present_flag
            for i in range(8 if chroma_format_idc != 3 else 12):
                if b.u(1):
                    _skip_scaling_list(b, 16 if i < 6 else 64)
    b.ue()  # log2_max_frame_num_minus4
    poc_type = b.ue()
    if poc_type == 0:
        b.ue()
    elif poc_type == 1:
        b.u(1)
        b.se()
        b.se()
        n = b.ue()
        if n > 255:
            raise BitstreamError("num_ref_frames_in_pic_order_cnt_cycle > 255")
        for _ in range(n):
            b.se()
    elif poc_type != 2:
        raise BitstreamError(f"pic_order_cnt_type {poc_type}")
    b.ue()  # max_num_ref_frames
    b.u(1)  # gaps_in_frame_num_value_allowed_flag
    width_mbs = b.ue() + 1
    height_map_units = b.ue() + 1
    frame_mbs_only = b.u(1)
    if not frame_mbs_only:
        b.u(1)
    b.u(1)  # direct_8x8_inference_flag
    crop = (0, 0, 0, 0)
    if b.u(1):
        crop = (b.ue(), b.ue(), b.ue(), b.ue())
    sar = (1, 1)
    if b.pos < b.size and b.u(1) and b.u(1):  # vui_parameters_present_flag, aspect_ratio_info_present
        idc = b.u(8)
        if idc == 255:
            sar = (b.u(16), b.u(16))
        elif 1 <= idc <= 16:
            sar = _SAR[idc - 1]
    if sar[0] == 0 or sar[1] == 0:
        sar = (1, 1)
    width = width_mbs * 16
    height = (2 - frame_mbs_only) * height_map_units * 16
    chroma_array_type = 0 if separate_colour_plane else chroma_format_idc
    crop_x = 1 if chroma_array_type in (0, 3) else 2
    crop_y = (1 if chroma_array_type in (0, 2, 3) else 2) * (2 - frame_mbs_only)
    left, right, top, bottom = crop
    vis_w = width - crop_x * (left + right)
    vis_h = height - crop_y * (top + bottom)
    if vis_w <= 0 or vis_h <= 0:
        raise BitstreamError("frame cropping leaves no picture")
    return Sps(profile_idc, constraint, level_idc, sps_id, width, height,
               (crop_x * left, crop_y * top, vis_w, vis_h), sar)


def parse_pps_ids(nal: bytes) -> tuple[int, int]:
    """(pic_parameter_set_id, seq_parameter_set_id)."""
    b = _Bits(unescape(nal[1:16]))
    pps_id = b.ue()
    sps_id = b.ue()
    if pps_id > 255 or sps_id > 31:
        raise BitstreamError("parameter set id out of range")
    return pps_id, sps_id


def parse_slice_pps_id(nal: bytes) -> tuple[int, int]:
    """(slice_type, pic_parameter_set_id) from the start of a slice header."""
    b = _Bits(unescape(nal[1:16]))
    b.ue()  # first_mb_in_slice
    slice_type = b.ue()
    if slice_type > 9:
        raise BitstreamError(f"slice_type {slice_type}")
    pps_id = b.ue()
    if pps_id > 255:
        raise BitstreamError("pic_parameter_set_id out of range")
    return slice_type, pps_id


def find_start_code(data: bytes | bytearray, start: int, end: int | None = None) -> tuple[int, int]:
    """(offset, size) of the next 00 00 01 start code at or after ``start`` (size 4 with a leading zero);
    (-1, 0) when none."""
    end = len(data) if end is None else end
    i = data.find(b"\x00\x00\x01", start, end)
    if i < 0:
        return -1, 0
    if i > start and data[i - 1] == 0:
        return i - 1, 4
    return i, 3


def split_nalus(au: bytes) -> list[bytes]:
    """NAL units (header byte first) of an Annex B byte string."""
    out: list[bytes] = []
    pos, size = find_start_code(au, 0)
    while pos >= 0:
        begin = pos + size
        nxt, nsize = find_start_code(au, begin)
        end = nxt if nxt >= 0 else len(au)
        nal = au[begin:end]
        # trailing_zero_8bits belong to no NAL unit
        nal = nal.rstrip(b"\x00") if nxt < 0 else nal
        out.append(nal)
        pos, size = nxt, nsize
    return out
