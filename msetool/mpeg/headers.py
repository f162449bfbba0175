"""MPEG audio frame headers: MPEG-1/2/2.5 Layer I/II/III (ISO 11172-3, 13818-3) and ADTS (ISO 14496-3).

These are pure functions over a few header bytes. They accept exactly what Chromium's MPEG audio parsers
accept (media/formats/mpeg/mpeg1_audio_stream_parser.cc, adts_stream_parser.cc) because the MPEG audio byte
stream format leaves header validity to the codec specs and a browser is the judge: a header Chromium
refuses is an append error there, so it is an error here too. Fields keep the spec's names.
"""

from __future__ import annotations

from dataclasses import dataclass

#: ISO 14496-3 Table 1.18 sampling_frequency_index (index 13..15 reserved/escape: invalid in ADTS).
ADTS_FREQUENCIES = (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350)
#: channel_configuration -> channel count; 0 means "defined in a program_config_element": Chromium 156
#: accepts it as a configuration of its own (checked in the browser), so it is a configuration change.
ADTS_CHANNELS = (0, 1, 2, 3, 4, 5, 6, 8)
SAMPLES_PER_AAC_FRAME = 1024
ADTS_HEADER_MIN_SIZE = 7
MP3_HEADER_SIZE = 4
#: Chromium's MP3 codec delay in samples (decoder delay of LAME-style encoders), for messages only.
MP3_CODEC_DELAY = 529

# version field: 0 = MPEG-2.5, 1 = reserved, 2 = MPEG-2, 3 = MPEG-1; layer field: 1 = III, 2 = II, 3 = I.
_VERSION_LAYER_COLUMN = (
    (5, 4, 4, 3),
    (5, 5, 5, 5),
    (5, 4, 4, 3),
    (5, 2, 1, 0),
)
_BITRATES_KBPS = (
    (0, 0, 0, 0, 0, 0),
    (32, 32, 32, 32, 8, 0),
    (64, 48, 40, 48, 16, 0),
    (96, 56, 48, 56, 24, 0),
    (128, 64, 56, 64, 32, 0),
    (160, 80, 64, 80, 40, 0),
    (192, 96, 80, 96, 48, 0),
    (224, 112, 96, 112, 56, 0),
    (256, 128, 112, 128, 64, 0),
    (288, 160, 128, 144, 80, 0),
    (320, 192, 160, 160, 96, 0),
    (352, 224, 192, 176, 112, 0),
    (384, 256, 224, 192, 128, 0),
    (416, 320, 256, 224, 144, 0),
    (448, 384, 320, 256, 160, 0),
    (0, 0, 0, 0, 0, 0),
)
_SAMPLE_RATES = (
    (11025, 0, 22050, 44100),
    (12000, 0, 24000, 48000),
    (8000, 0, 16000, 32000),
    (0, 0, 0, 0),
)
#: Bytes after the 4-byte header where a Xing/Info tag sits: [MPEG-2/2.5?][mono?] (side info size).
_XING_OFFSET = ((32, 17), (17, 9))
_VBRI_OFFSET = 32

VERSION_NAMES = {0: "MPEG-2.5", 2: "MPEG-2", 3: "MPEG-1"}
LAYER_NAMES = {1: "Layer III", 2: "Layer II", 3: "Layer I"}


@dataclass(frozen=True, slots=True)
class FrameHeader:
    """One audio frame header as the parser needs it (sizes in bytes, rates in Hz)."""

    frame_size: int
    sample_rate: int
    sample_count: int
    channels: int
    header_size: int
    #: "mp3" (any MPEG audio layer: Chromium's codec name) or "aac"
    codec: str
    #: RFC 6381 string a container would use ("mp4a.40.2", "mp4a.6B", "mp4a.69")
    codec_string: str
    #: A Xing/Info frame: metadata, not audio (Chromium skips it after reading its config)
    metadata_frame: bool = False
    #: A VBRI (Fraunhofer) frame: metadata, but Chromium does not recognise it and plays it as audio
    vbri_frame: bool = False
    version: int = 3
    layer: int = 1
    #: ADTS profile_ObjectType (AOT - 1) or None
    profile: int | None = None
    #: What made the header invalid (only set by :func:`explain_mp3` / :func:`explain_adts`)
    error: str = ""


def explain_mp3(data: bytes | bytearray | memoryview, pos: int = 0) -> FrameHeader | str:
    """Parse an MPEG audio frame header at ``data[pos:]``; a string says why it is not one."""
    if len(data) - pos < MP3_HEADER_SIZE:
        return "truncated header"
    b1, b2, b3 = data[pos + 1], data[pos + 2], data[pos + 3]
    if data[pos] != 0xFF or (b1 & 0xE0) != 0xE0:
        return "no frame sync (11 bits set)"
    version = (b1 >> 3) & 3
    layer = (b1 >> 1) & 3
    bitrate_index = b2 >> 4
    sample_rate_index = (b2 >> 2) & 3
    padding = (b2 >> 1) & 1
    channel_mode = b3 >> 6
    if version == 1:
        return "reserved version ID (01)"
    if layer == 0:
        return "reserved layer (00)"
    if bitrate_index == 0:
        return "free-format bitrate (index 0) is not supported"
    if bitrate_index == 15:
        return "bad bitrate index (1111)"
    if sample_rate_index == 3:
        return "reserved sampling_frequency (11)"
    bitrate = _BITRATES_KBPS[bitrate_index][_VERSION_LAYER_COLUMN[version][layer]]
    sample_rate = _SAMPLE_RATES[sample_rate_index][version]
    if layer == 3:
        samples = 384
        frame_size = 4 * (12 * bitrate * 1000 // sample_rate) + (4 if padding else 0)
    else:
        samples = 1152 if (layer == 2 or version == 3) else 576
        frame_size = (samples // 8) * bitrate * 1000 // sample_rate + padding
    mono = channel_mode == 3
    metadata = vbri = False
    if layer == 1:
        xing = pos + MP3_HEADER_SIZE + _XING_OFFSET[version != 3][mono]
        if len(data) >= xing + 4 and bytes(data[xing : xing + 4]) in (b"Xing", b"Info"):
            metadata = True
        vb = pos + MP3_HEADER_SIZE + _VBRI_OFFSET
        if len(data) >= vb + 4 and bytes(data[vb : vb + 4]) == b"VBRI":
            vbri = True
    return FrameHeader(
        frame_size=frame_size,
        sample_rate=sample_rate,
        sample_count=samples,
        channels=1 if mono else 2,
        header_size=MP3_HEADER_SIZE,
        codec="mp3",
        codec_string="mp4a.6B" if version == 3 else "mp4a.69",
        metadata_frame=metadata,
        vbri_frame=vbri,
        version=version,
        layer=layer,
    )


def explain_adts(data: bytes | bytearray | memoryview, pos: int = 0) -> FrameHeader | str:
    """Parse an ADTS header (adts_fixed_header + adts_variable_header [+ crc]) at ``data[pos:]``."""
    if len(data) - pos < ADTS_HEADER_MIN_SIZE:
        return "truncated header"
    h = bytes(data[pos : pos + 9])
    if h[0] != 0xFF or (h[1] & 0xF0) != 0xF0:
        return "no syncword (0xFFF)"
    layer = (h[1] >> 1) & 3
    protection_absent = h[1] & 1
    profile = h[2] >> 6
    sfi = (h[2] >> 2) & 0xF
    channel_configuration = ((h[2] & 1) << 2) | (h[3] >> 6)
    frame_length = ((h[3] & 3) << 11) | (h[4] << 3) | (h[5] >> 5)
    number_of_raw_data_blocks_in_frame = h[6] & 3
    header_size = 7 if protection_absent else 9
    if not protection_absent and len(data) - pos < 9:
        return "truncated header (CRC)"
    if layer != 0:
        return f"layer is {layer}, must be 0"
    if frame_length < header_size:
        return f"frame_length {frame_length} is shorter than the header ({header_size} bytes)"
    if sfi >= len(ADTS_FREQUENCIES):
        return f"reserved sampling_frequency_index {sfi}"
    return FrameHeader(
        frame_size=frame_length,
        sample_rate=ADTS_FREQUENCIES[sfi],
        sample_count=(number_of_raw_data_blocks_in_frame + 1) * SAMPLES_PER_AAC_FRAME,
        channels=ADTS_CHANNELS[channel_configuration],
        header_size=header_size,
        codec="aac",
        codec_string=f"mp4a.40.{profile + 1}",
        profile=profile,
    )


def parse_mp3(data: bytes | bytearray | memoryview, pos: int = 0) -> FrameHeader | None:
    r = explain_mp3(data, pos)
    return r if isinstance(r, FrameHeader) else None


def parse_adts(data: bytes | bytearray | memoryview, pos: int = 0) -> FrameHeader | None:
    r = explain_adts(data, pos)
    return r if isinstance(r, FrameHeader) else None


def id3v2_size(data: bytes | bytearray | memoryview, pos: int = 0) -> int | str | None:
    """Total size of an ID3v2 tag at ``pos`` (header + syncsafe size [+ footer]).

    None: not enough bytes to tell; a string: the tag is malformed (Chromium fails the append).
    """
    if len(data) - pos < 10:
        return None
    size = 0
    for b in data[pos + 6 : pos + 10]:
        if b & 0x80:
            return "ID3 syncsafe integer byte MSb is not 0!"
        size = (size << 7) | b
    total = 10 + size + (10 if data[pos + 5] & 0x10 else 0)
    return total


def id3v1_size(data: bytes | bytearray | memoryview, pos: int = 0) -> int:
    """ID3v1 is 128 bytes ("TAG"), the extended "TAG+" block 227."""
    return 227 if bytes(data[pos : pos + 4]) == b"TAG+" else 128


def icecast_end(data: bytes | bytearray | memoryview, pos: int, limit: int = 4096) -> int | str | None:
    """Offset just past an Icecast "ICY " header's blank line; None: need more; str: too large."""
    window = bytes(data[pos : pos + limit])
    was_lf = False
    last = 0
    for i in range(4, len(window)):
        c = window[i]
        if c == 0x0A:
            if was_lf:
                return pos + i + 1
            was_lf = True
        elif c != 0x0D or last != 0x0A:
            was_lf = False
        last = c
    if len(window) >= limit:
        return "Icecast header is too large."
    return None
