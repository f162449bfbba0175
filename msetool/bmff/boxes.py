"""Box payload decoders, one per fourcc, keyed in :data:`DECODERS`.

Each decoder reads a box payload from a bounds-checked :class:`~msetool.binary.Reader` and stores fields
under their ISO/IEC 14496-12 (or codec binding) names in ``box.fields``. Short or impossible payloads
raise :class:`~msetool.errors.ParseError` with the offset; the walker turns that into an issue.
Decoders of container boxes with a header (``stsd``, sample entries, ``meta``) stop where the children
begin; :data:`CHILDREN` lists every type whose remaining payload is a sequence of boxes.

The per-fragment boxes (``tfhd``, ``tfdt``, ``trun``) are written for speed: ``trun`` sample tables are
unpacked with one ``struct.unpack_from`` into columns, not one object per sample
(docs/decisions/0001-pymp4.md has the measurements).
"""

from __future__ import annotations

import contextlib
import struct
from collections.abc import Callable
from typing import Any

from msetool.binary import Reader
from msetool.bmff.tree import Box
from msetool.errors import ParseError

Decoder = Callable[[Reader, Box], None]
DECODERS: dict[str, Decoder] = {}
#: A decoder that reads ``data[pos:end]`` (the payload) straight into ``fields`` without a Reader, for the
#: boxes every fragment repeats. It returns False, having written nothing, whenever the bytes are not
#: plainly enough for every field; the walker then runs the Reader decoder, which raises the exact error.
FastDecoder = Callable[[Any, int, int, dict[str, Any]], bool]
FAST_DECODERS: dict[str, FastDecoder] = {}

VISUAL_ENTRIES = frozenset({
    "avc1", "avc2", "avc3", "avc4", "hvc1", "hev1", "dvh1", "dvhe", "dva1", "dvav", "av01", "vp08",
    "vp09", "encv", "mp4v", "s263", "vvc1", "vvi1", "jpeg", "mjpg",
})
AUDIO_ENTRIES = frozenset({
    "mp4a", "enca", "Opus", "fLaC", "ac-3", "ec-3", "ac-4", "mha1", "mha2", "mhm1", "mhm2", ".mp3",
    "alac", "ipcm", "fpcm", "lpcm", "sowt", "twos", "dtsc", "dtse", "dtsh", "dtsl", "dtsx", "iamf",
    "samr", "sawb",
})
SAMPLE_ENTRIES = VISUAL_ENTRIES | AUDIO_ENTRIES

#: Types whose payload (after the decoder's header, if any) is a list of child boxes.
CHILDREN = frozenset({
    "moov", "trak", "mdia", "minf", "stbl", "stsd", "dinf", "dref", "edts", "mvex", "moof", "traf",
    "mfra", "sinf", "schi", "meta", "udta", "rinf", "tref", "strk", "strd", "sv3d", "proj",
}) | SAMPLE_ENTRIES


_U32 = struct.Struct(">I")
_U64 = struct.Struct(">Q")


def decoder(*types: str) -> Callable[[Decoder], Decoder]:
    def reg(fn: Decoder) -> Decoder:
        for t in types:
            DECODERS[t] = fn
        return fn
    return reg


def full_box(r: Reader, box: Box) -> tuple[int, int]:
    """FullBox header: version (8 bits) and flags (24 bits)."""
    v = r.u32()
    version, flags = v >> 24, v & 0xFFFFFF
    box.fields["version"] = version
    box.fields["flags"] = flags
    return version, flags


# --- file / segment type
@decoder("ftyp", "styp")
def _ftyp(r: Reader, box: Box) -> None:
    f = box.fields
    f["major_brand"] = r.fourcc()
    f["minor_version"] = r.u32()
    brands = []
    while r.remaining >= 4:
        brands.append(r.fourcc())
    f["compatible_brands"] = brands


# --- movie header / track structure
def _times_and_timescale(r: Reader, f: dict[str, Any], version: int) -> None:
    """The version-dependent head shared by mvhd and mdhd (64-bit times and duration in version 1)."""
    wide = r.u64 if version == 1 else r.u32
    f["creation_time"], f["modification_time"] = wide(), wide()
    f["timescale"], f["duration"] = r.u32(), wide()


@decoder("mvhd")
def _mvhd(r: Reader, box: Box) -> None:
    version, _ = full_box(r, box)
    f = box.fields
    _times_and_timescale(r, f, version)
    f["rate"] = r.fixed16_16()
    f["volume"] = r.fixed8_8()
    r.skip(2 + 8 + 36 + 24)
    f["next_track_ID"] = r.u32()


@decoder("tkhd")
def _tkhd(r: Reader, box: Box) -> None:
    version, flags = full_box(r, box)
    f = box.fields
    if version == 1:
        f["creation_time"], f["modification_time"] = r.u64(), r.u64()
        f["track_ID"] = r.u32()
        r.skip(4)
        f["duration"] = r.u64()
    else:
        f["creation_time"], f["modification_time"] = r.u32(), r.u32()
        f["track_ID"] = r.u32()
        r.skip(4)
        f["duration"] = r.u32()
    r.skip(8)
    f["layer"], f["alternate_group"] = r.s16(), r.s16()
    f["volume"] = r.fixed8_8()
    r.skip(2 + 36)
    f["width"], f["height"] = r.ufixed16_16(), r.ufixed16_16()
    f["track_enabled"] = bool(flags & 1)


def _language(code: int) -> str:
    chars = [((code >> s) & 0x1F) + 0x60 for s in (10, 5, 0)]
    if not all(0x61 <= c <= 0x7A for c in chars):
        return "und"
    return "".join(chr(c) for c in chars)


@decoder("mdhd")
def _mdhd(r: Reader, box: Box) -> None:
    version, _ = full_box(r, box)
    f = box.fields
    _times_and_timescale(r, f, version)
    code = r.u16() & 0x7FFF
    f["language_code"] = code
    f["language"] = _language(code)


@decoder("hdlr")
def _hdlr(r: Reader, box: Box) -> None:
    full_box(r, box)
    r.skip(4)
    box.fields["handler_type"] = r.fourcc()
    r.skip(12)
    box.fields["name"] = r.cstring() if r.remaining else ""


@decoder("dref")
def _dref(r: Reader, box: Box) -> None:
    full_box(r, box)
    box.fields["entry_count"] = r.u32()


@decoder("url ", "urn ")
def _url(r: Reader, box: Box) -> None:
    _, flags = full_box(r, box)
    box.fields["self_contained"] = bool(flags & 1)
    if r.remaining:
        box.fields["location"] = r.cstring()


@decoder("meta")
def _meta(r: Reader, box: Box) -> None:
    # ISO meta is a FullBox; QuickTime's is a plain container (its first child's size follows directly).
    if r.remaining >= 8 and r.data[r.pos + 4 : r.pos + 8] == b"hdlr":
        return
    full_box(r, box)


# --- sample tables
@decoder("stsd")
def _stsd(r: Reader, box: Box) -> None:
    full_box(r, box)
    box.fields["entry_count"] = r.u32()


@decoder("stts", "stsc", "stco", "co64", "stss", "ctts", "stps")
def _table_count(r: Reader, box: Box) -> None:
    full_box(r, box)
    box.fields["entry_count"] = r.u32()


@decoder("stsz")
def _stsz(r: Reader, box: Box) -> None:
    full_box(r, box)
    box.fields["sample_size"] = r.u32()
    box.fields["sample_count"] = r.u32()


@decoder("stz2")
def _stz2(r: Reader, box: Box) -> None:
    full_box(r, box)
    r.skip(3)
    box.fields["field_size"] = r.u8()
    box.fields["sample_count"] = r.u32()


def _sample_entry(r: Reader, box: Box) -> None:
    r.skip(6)
    box.fields["data_reference_index"] = r.u16()


@decoder(*VISUAL_ENTRIES)
def _visual(r: Reader, box: Box) -> None:
    _sample_entry(r, box)
    f = box.fields
    r.skip(16)
    f["width"], f["height"] = r.u16(), r.u16()
    f["horizresolution"], f["vertresolution"] = r.ufixed16_16(), r.ufixed16_16()
    r.skip(4)
    f["frame_count"] = r.u16()
    n = min(r.u8(), 31)
    name = r.read(31)
    f["compressorname"] = name[:n].decode("latin-1")
    f["depth"] = r.u16()
    r.skip(2)


@decoder(*AUDIO_ENTRIES)
def _audio(r: Reader, box: Box) -> None:
    _sample_entry(r, box)
    f = box.fields
    qt_version = r.u16()
    r.skip(6)
    f["channelcount"] = r.u16()
    f["samplesize"] = r.u16()
    r.skip(4)
    rate = r.u32()
    f["samplerate"] = rate >> 16
    f["entry_version"] = qt_version
    # QuickTime sound description v1/v2 extend the entry before the child boxes.
    if qt_version == 1:
        r.skip(16)
    elif qt_version == 2:
        r.skip(36)


# --- codec configuration
def _nal_list(r: Reader, count: int, what: str) -> list[bytes]:
    out = []
    for _ in range(count):
        n = r.u16()
        if n > r.remaining:
            raise r.fail(f"{what} of {n} bytes, {r.remaining} left")
        out.append(r.read(n))
    return out


@decoder("avcC")
def _avcc(r: Reader, box: Box) -> None:
    f = box.fields
    f["configurationVersion"] = r.u8()
    f["AVCProfileIndication"] = r.u8()
    f["profile_compatibility"] = r.u8()
    f["AVCLevelIndication"] = r.u8()
    f["lengthSizeMinusOne"] = r.u8() & 3
    nsps = r.u8() & 0x1F
    f["sequenceParameterSets"] = _nal_list(r, nsps, "SPS")
    npps = r.u8()
    f["pictureParameterSets"] = _nal_list(r, npps, "PPS")
    if f["AVCProfileIndication"] in (100, 110, 122, 144) and r.remaining >= 4:
        f["chroma_format"] = r.u8() & 3
        f["bit_depth_luma_minus8"] = r.u8() & 7
        f["bit_depth_chroma_minus8"] = r.u8() & 7
        n = r.u8()
        # many muxers write a truncated extension; Chromium ignores it too
        with contextlib.suppress(ParseError):
            f["sequenceParameterSetExt"] = _nal_list(r, n, "SPS extension")


@decoder("hvcC")
def _hvcc(r: Reader, box: Box) -> None:
    f = box.fields
    f["configurationVersion"] = r.u8()
    b = r.u8()
    f["general_profile_space"] = b >> 6
    f["general_tier_flag"] = (b >> 5) & 1
    f["general_profile_idc"] = b & 0x1F
    f["general_profile_compatibility_flags"] = r.u32()
    f["general_constraint_indicator_flags"] = r.uint(6)
    f["general_level_idc"] = r.u8()
    f["min_spatial_segmentation_idc"] = r.u16() & 0xFFF
    f["parallelismType"] = r.u8() & 3
    f["chromaFormat"] = r.u8() & 3
    f["bitDepthLumaMinus8"] = r.u8() & 7
    f["bitDepthChromaMinus8"] = r.u8() & 7
    f["avgFrameRate"] = r.u16()
    b = r.u8()
    f["constantFrameRate"] = b >> 6
    f["numTemporalLayers"] = (b >> 3) & 7
    f["temporalIdNested"] = (b >> 2) & 1
    f["lengthSizeMinusOne"] = b & 3
    arrays = []
    for _ in range(r.u8()):
        t = r.u8() & 0x3F
        arrays.append({"NAL_unit_type": t, "nalus": _nal_list(r, r.u16(), "NAL unit")})
    f["arrays"] = arrays


@decoder("av1C")
def _av1c(r: Reader, box: Box) -> None:
    f = box.fields
    b = r.u8()
    f["marker"] = b >> 7
    f["version"] = b & 0x7F
    b = r.u8()
    f["seq_profile"] = b >> 5
    f["seq_level_idx_0"] = b & 0x1F
    b = r.u8()
    f["seq_tier_0"] = b >> 7
    f["high_bitdepth"] = (b >> 6) & 1
    f["twelve_bit"] = (b >> 5) & 1
    f["monochrome"] = (b >> 4) & 1
    f["chroma_subsampling_x"] = (b >> 3) & 1
    f["chroma_subsampling_y"] = (b >> 2) & 1
    f["chroma_sample_position"] = b & 3
    b = r.u8()
    f["initial_presentation_delay_present"] = (b >> 4) & 1
    f["initial_presentation_delay_minus_one"] = b & 0xF
    f["configOBUs"] = r.rest()


@decoder("vpcC")
def _vpcc(r: Reader, box: Box) -> None:
    version, _ = full_box(r, box)
    f = box.fields
    f["profile"] = r.u8()
    f["level"] = r.u8()
    b = r.u8()
    f["bitDepth"] = b >> 4
    if version >= 1:
        f["chromaSubsampling"] = (b >> 1) & 7
        f["videoFullRangeFlag"] = b & 1
        f["colourPrimaries"] = r.u8()
        f["transferCharacteristics"] = r.u8()
        f["matrixCoefficients"] = r.u8()
    else:
        f["colorSpace"] = b & 0xF
        b = r.u8()
        f["chromaSubsampling"] = b >> 4
        f["transferFunction"] = (b >> 1) & 7
        f["videoFullRangeFlag"] = b & 1
    if r.remaining >= 2:
        f["codecIntializationDataSize"] = r.u16()


@decoder("colr")
def _colr(r: Reader, box: Box) -> None:
    f = box.fields
    f["colour_type"] = r.fourcc()
    if f["colour_type"] in ("nclx", "nclc"):
        f["colour_primaries"] = r.u16()
        f["transfer_characteristics"] = r.u16()
        f["matrix_coefficients"] = r.u16()
        if f["colour_type"] == "nclx":
            f["full_range_flag"] = r.u8() >> 7


@decoder("pasp")
def _pasp(r: Reader, box: Box) -> None:
    box.fields["hSpacing"], box.fields["vSpacing"] = r.u32(), r.u32()


@decoder("btrt")
def _btrt(r: Reader, box: Box) -> None:
    f = box.fields
    f["bufferSizeDB"], f["maxBitrate"], f["avgBitrate"] = r.u32(), r.u32(), r.u32()


def _descr_header(r: Reader) -> tuple[int, int]:
    tag = r.u8()
    size = 0
    for _ in range(4):
        b = r.u8()
        size = (size << 7) | (b & 0x7F)
        if not b & 0x80:
            break
    return tag, size


@decoder("esds")
def _esds(r: Reader, box: Box) -> None:
    """ES_Descriptor (ISO/IEC 14496-1 §7.2.6.5) down to DecoderSpecificInfo (the AudioSpecificConfig)."""
    full_box(r, box)
    f = box.fields
    tag, size = _descr_header(r)
    if tag != 0x03:
        raise r.fail(f"esds starts with descriptor tag 0x{tag:02x}, expected ES_DescrTag 0x03")
    es = r.sub(min(size, r.remaining))
    f["ES_ID"] = es.u16()
    b = es.u8()
    if b & 0x80:
        es.skip(2)
    if b & 0x40:
        es.skip(es.u8())
    if b & 0x20:
        es.skip(2)
    while es.remaining >= 2:
        tag, size = _descr_header(es)
        body = es.sub(min(size, es.remaining))
        if tag == 0x04:
            f["objectTypeIndication"] = body.u8()
            b = body.u8()
            f["streamType"] = b >> 2
            f["bufferSizeDB"] = body.u24()
            f["maxBitrate"] = body.u32()
            f["avgBitrate"] = body.u32()
            while body.remaining >= 2:
                t2, s2 = _descr_header(body)
                inner = body.sub(min(s2, body.remaining))
                if t2 == 0x05:
                    dsi = inner.rest()
                    f["decSpecificInfo"] = dsi
                    if f["objectTypeIndication"] == 0x40:
                        from msetool.bmff.audio import parse_audio_specific_config

                        try:
                            f["AudioSpecificConfig"] = parse_audio_specific_config(dsi, base=inner.base)
                        except ParseError as e:
                            f["AudioSpecificConfig_error"] = e.reason
        elif tag == 0x06:
            pass


@decoder("dOps")
def _dops(r: Reader, box: Box) -> None:
    f = box.fields
    f["Version"] = r.u8()
    f["OutputChannelCount"] = r.u8()
    f["PreSkip"] = r.u16()
    f["InputSampleRate"] = r.u32()
    f["OutputGain"] = r.s16()
    f["ChannelMappingFamily"] = r.u8()
    if f["ChannelMappingFamily"] != 0:
        f["StreamCount"] = r.u8()
        f["CoupledCount"] = r.u8()
        f["ChannelMapping"] = list(r.read(f["OutputChannelCount"]))


@decoder("dfLa")
def _dfla(r: Reader, box: Box) -> None:
    full_box(r, box)
    f = box.fields
    blocks = []
    while r.remaining >= 4:
        b = r.u8()
        last, btype = b >> 7, b & 0x7F
        length = r.u24()
        body = r.sub(min(length, r.remaining))
        blocks.append(btype)
        if btype == 0:
            f["min_blocksize"] = body.u16()
            f["max_blocksize"] = body.u16()
            f["min_framesize"] = body.u24()
            f["max_framesize"] = body.u24()
            v = body.u64()
            f["sample_rate"] = v >> 44
            f["channels"] = ((v >> 41) & 7) + 1
            f["bits_per_sample"] = ((v >> 36) & 0x1F) + 1
            f["total_samples"] = v & 0xFFFFFFFFF
        if last:
            break
    f["metadata_block_types"] = blocks
    if "sample_rate" not in f:
        raise r.fail("dfLa has no STREAMINFO metadata block")


@decoder("dac3")
def _dac3(r: Reader, box: Box) -> None:
    v = r.u24()
    f = box.fields
    f["fscod"] = v >> 22
    f["bsid"] = (v >> 17) & 0x1F
    f["bsmod"] = (v >> 14) & 7
    f["acmod"] = (v >> 11) & 7
    f["lfeon"] = (v >> 10) & 1
    f["bit_rate_code"] = (v >> 5) & 0x1F


@decoder("dec3")
def _dec3(r: Reader, box: Box) -> None:
    f = box.fields
    v = r.u16()
    f["data_rate"] = v >> 3
    f["num_ind_sub"] = (v & 7) + 1
    subs = []
    for _ in range(f["num_ind_sub"]):
        a, b, c = r.u8(), r.u8(), r.u8()
        sub = {"fscod": a >> 6, "bsid": (a >> 1) & 0x1F, "asvc": b >> 7, "bsmod": (b >> 4) & 7,
               "acmod": (b >> 1) & 7, "lfeon": b & 1, "num_dep_sub": (c >> 1) & 0xF}
        if sub["num_dep_sub"]:
            sub["chan_loc"] = ((c & 1) << 8) | r.u8()
        subs.append(sub)
    f["substreams"] = subs
    if r.remaining >= 2:
        b = r.u8()
        f["flag_ec3_extension_type_a"] = b & 1
        if b & 1:
            f["complexity_index_type_a"] = r.u8()


# --- edit lists, fragments setup
@decoder("elst")
def _elst(r: Reader, box: Box) -> None:
    version, _ = full_box(r, box)
    n = r.u32()
    entry = 20 if version == 1 else 12
    if n * entry > r.remaining:
        raise r.fail(f"entry_count {n} needs {n * entry} bytes, {r.remaining} left")
    entries = []
    for _ in range(n):
        if version == 1:
            d, t = r.u64(), r.s64()
        else:
            d, t = r.u32(), r.s32()
        entries.append({"segment_duration": d, "media_time": t, "media_rate_integer": r.s16(),
                        "media_rate_fraction": r.s16()})
    box.fields["entry_count"] = n
    box.fields["entries"] = entries


@decoder("mehd")
def _mehd(r: Reader, box: Box) -> None:
    version, _ = full_box(r, box)
    box.fields["fragment_duration"] = r.u64() if version == 1 else r.u32()


@decoder("trex")
def _trex(r: Reader, box: Box) -> None:
    full_box(r, box)
    f = box.fields
    f["track_ID"] = r.u32()
    f["default_sample_description_index"] = r.u32()
    f["default_sample_duration"] = r.u32()
    f["default_sample_size"] = r.u32()
    f["default_sample_flags"] = r.u32()


# --- protection
def _uuid(b: bytes) -> str:
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


@decoder("pssh")
def _pssh(r: Reader, box: Box) -> None:
    version, _ = full_box(r, box)
    f = box.fields
    f["SystemID"] = _uuid(r.read(16))
    if version > 0:
        n = r.u32()
        if n * 16 > r.remaining:
            raise r.fail(f"KID_count {n} needs {n * 16} bytes, {r.remaining} left")
        f["KIDs"] = [_uuid(r.read(16)) for _ in range(n)]
    size = r.u32()
    if size > r.remaining:
        raise r.fail(f"DataSize {size}, {r.remaining} bytes left")
    f["DataSize"] = size
    r.skip(size)


@decoder("frma")
def _frma(r: Reader, box: Box) -> None:
    box.fields["data_format"] = r.fourcc()


@decoder("schm")
def _schm(r: Reader, box: Box) -> None:
    _, flags = full_box(r, box)
    box.fields["scheme_type"] = r.fourcc()
    box.fields["scheme_version"] = r.u32()
    if flags & 1 and r.remaining:
        box.fields["scheme_uri"] = r.cstring()


@decoder("tenc")
def _tenc(r: Reader, box: Box) -> None:
    version, _ = full_box(r, box)
    f = box.fields
    r.skip(1)
    b = r.u8()
    if version > 0:
        f["default_crypt_byte_block"] = b >> 4
        f["default_skip_byte_block"] = b & 0xF
    f["default_isProtected"] = r.u8()
    f["default_Per_Sample_IV_Size"] = r.u8()
    f["default_KID"] = _uuid(r.read(16))
    if f["default_isProtected"] == 1 and f["default_Per_Sample_IV_Size"] == 0:
        n = r.u8()
        f["default_constant_IV_size"] = n
        f["default_constant_IV"] = r.read(n)


# --- segment index and events
@decoder("sidx")
def _sidx(r: Reader, box: Box) -> None:
    version, _ = full_box(r, box)
    f = box.fields
    f["reference_ID"] = r.u32()
    f["timescale"] = r.u32()
    if version == 0:
        f["earliest_presentation_time"], f["first_offset"] = r.u32(), r.u32()
    else:
        f["earliest_presentation_time"], f["first_offset"] = r.u64(), r.u64()
    r.skip(2)
    n = r.u16()
    if n * 12 > r.remaining:
        raise r.fail(f"reference_count {n} needs {n * 12} bytes, {r.remaining} left")
    refs = []
    for a, d, c in struct.iter_unpack(">III", r.read(n * 12)):
        refs.append({"reference_type": a >> 31, "referenced_size": a & 0x7FFFFFFF, "subsegment_duration": d,
                     "starts_with_SAP": c >> 31, "SAP_type": (c >> 28) & 7, "SAP_delta_time": c & 0xFFFFFFF})
    f["reference_count"] = n
    f["references"] = refs


@decoder("emsg")
def _emsg(r: Reader, box: Box) -> None:
    version, _ = full_box(r, box)
    f = box.fields
    if version == 0:
        f["scheme_id_uri"] = r.cstring()
        f["value"] = r.cstring()
        f["timescale"] = r.u32()
        f["presentation_time_delta"] = r.u32()
        f["event_duration"] = r.u32()
        f["id"] = r.u32()
    else:
        f["timescale"] = r.u32()
        f["presentation_time"] = r.u64()
        f["event_duration"] = r.u32()
        f["id"] = r.u32()
        f["scheme_id_uri"] = r.cstring()
        f["value"] = r.cstring()
    f["message_data_size"] = r.remaining


@decoder("prft")
def _prft(r: Reader, box: Box) -> None:
    version, _ = full_box(r, box)
    f = box.fields
    f["reference_track_ID"] = r.u32()
    f["ntp_timestamp"] = r.u64()
    f["media_time"] = r.u64() if version == 1 else r.u32()


# --- movie fragments (hot path) ---
@decoder("mfhd")
def _mfhd(r: Reader, box: Box) -> None:
    full_box(r, box)
    box.fields["sequence_number"] = r.u32()


_U32x2 = struct.Struct(">II")
_U32x3 = struct.Struct(">III")
_U32_U64 = struct.Struct(">IQ")


def _fast_mfhd(data: Any, pos: int, end: int, f: dict[str, Any]) -> bool:
    if end - pos < 8:
        return False
    v, f_seq = _U32x2.unpack_from(data, pos)
    f["version"] = v >> 24
    f["flags"] = v & 0xFFFFFF
    f["sequence_number"] = f_seq
    return True


FAST_DECODERS["mfhd"] = _fast_mfhd


TFHD_BASE_DATA_OFFSET = 0x000001
TFHD_SAMPLE_DESCRIPTION_INDEX = 0x000002
TFHD_DEFAULT_SAMPLE_DURATION = 0x000008
TFHD_DEFAULT_SAMPLE_SIZE = 0x000010
TFHD_DEFAULT_SAMPLE_FLAGS = 0x000020
TFHD_DURATION_IS_EMPTY = 0x010000
TFHD_DEFAULT_BASE_IS_MOOF = 0x020000


@decoder("tfhd")
def _tfhd(r: Reader, box: Box) -> None:
    _, flags = full_box(r, box)
    f = box.fields
    f["track_ID"] = r.u32()
    if flags & TFHD_BASE_DATA_OFFSET:
        f["base_data_offset"] = r.u64()
    if flags & TFHD_SAMPLE_DESCRIPTION_INDEX:
        f["sample_description_index"] = r.u32()
    if flags & TFHD_DEFAULT_SAMPLE_DURATION:
        f["default_sample_duration"] = r.u32()
    if flags & TFHD_DEFAULT_SAMPLE_SIZE:
        f["default_sample_size"] = r.u32()
    if flags & TFHD_DEFAULT_SAMPLE_FLAGS:
        f["default_sample_flags"] = r.u32()
    f["duration_is_empty"] = bool(flags & TFHD_DURATION_IS_EMPTY)
    f["default_base_is_moof"] = bool(flags & TFHD_DEFAULT_BASE_IS_MOOF)


#: bytes of the optional tfhd fields after track_ID, by flags & 0x3B (base_data_offset is 8 bytes)
_TFHD_OPTIONAL = tuple(
    8 * (m & TFHD_BASE_DATA_OFFSET) + 4 * bin(m & 0x3A).count("1") for m in range(0x3C)
)


def _fast_tfhd(data: Any, pos: int, end: int, f: dict[str, Any]) -> bool:
    if end - pos < 8:
        return False
    v, track_id = _U32x2.unpack_from(data, pos)
    flags = v & 0xFFFFFF
    p = pos + 8
    if p + _TFHD_OPTIONAL[flags & 0x3B] > end:
        return False
    f["version"] = v >> 24
    f["flags"] = flags
    f["track_ID"] = track_id
    if flags & 0x3B:
        if flags & TFHD_BASE_DATA_OFFSET:
            f["base_data_offset"] = _U64.unpack_from(data, p)[0]
            p += 8
        if flags & TFHD_SAMPLE_DESCRIPTION_INDEX:
            f["sample_description_index"] = _U32.unpack_from(data, p)[0]
            p += 4
        if flags & TFHD_DEFAULT_SAMPLE_DURATION:
            f["default_sample_duration"] = _U32.unpack_from(data, p)[0]
            p += 4
        if flags & TFHD_DEFAULT_SAMPLE_SIZE:
            f["default_sample_size"] = _U32.unpack_from(data, p)[0]
            p += 4
        if flags & TFHD_DEFAULT_SAMPLE_FLAGS:
            f["default_sample_flags"] = _U32.unpack_from(data, p)[0]
    f["duration_is_empty"] = bool(flags & TFHD_DURATION_IS_EMPTY)
    f["default_base_is_moof"] = bool(flags & TFHD_DEFAULT_BASE_IS_MOOF)
    return True


FAST_DECODERS["tfhd"] = _fast_tfhd


@decoder("tfdt")
def _tfdt(r: Reader, box: Box) -> None:
    version, _ = full_box(r, box)
    box.fields["base_media_decode_time"] = r.u64() if version == 1 else r.u32()


def _fast_tfdt(data: Any, pos: int, end: int, f: dict[str, Any]) -> bool:
    if end - pos < 12:
        if end - pos < 8:
            return False
        v, t = _U32x2.unpack_from(data, pos)
        if v >> 24 == 1:
            return False
    else:
        v = _U32.unpack_from(data, pos)[0]
        if v >> 24 == 1:
            v, t = _U32_U64.unpack_from(data, pos)
        else:
            t = _U32.unpack_from(data, pos + 4)[0]
    f["version"] = v >> 24
    f["flags"] = v & 0xFFFFFF
    f["base_media_decode_time"] = t
    return True


FAST_DECODERS["tfdt"] = _fast_tfdt


TRUN_DATA_OFFSET = 0x001
TRUN_FIRST_SAMPLE_FLAGS = 0x004
TRUN_SAMPLE_DURATION = 0x100
TRUN_SAMPLE_SIZE = 0x200
TRUN_SAMPLE_FLAGS = 0x400
TRUN_SAMPLE_CTO = 0x800
_TRUN_COLUMNS = (
    (TRUN_SAMPLE_DURATION, "sample_duration"),
    (TRUN_SAMPLE_SIZE, "sample_size"),
    (TRUN_SAMPLE_FLAGS, "sample_flags"),
    (TRUN_SAMPLE_CTO, "sample_composition_time_offset"),
)
#: More samples than this in one trun is refused (a corrupt count would otherwise allocate gigabytes).
MAX_TRUN_SAMPLES = 1 << 24
#: Samples a trun may declare without per-sample fields (nothing in the bytes bounds that count, and every
#: sample becomes a row of the sample table): about 70 minutes of 60 fps video in one run. With per-sample
#: fields the count is bounded by the bytes that hold them, as Chromium bounds it (TrackFragmentRun::Parse).
MAX_UNIFORM_TRUN_SAMPLES = 1 << 18


@decoder("trun")
def _trun(r: Reader, box: Box) -> None:
    """Sample columns are lists (``fields["sample_size"][i]``); absent columns are absent keys.

    ``sample_composition_time_offset`` is unsigned in version 0 and signed in version 1, as written.
    """
    version, flags = full_box(r, box)
    f = box.fields
    n = r.u32()
    f["sample_count"] = n
    if flags & TRUN_DATA_OFFSET:
        f["data_offset"] = r.s32()
    if flags & TRUN_FIRST_SAMPLE_FLAGS:
        f["first_sample_flags"] = r.u32()
    cols = [name for bit, name in _TRUN_COLUMNS if flags & bit]
    k = len(cols)
    # The count is checked before anything is built from it: by the bytes that must hold the per-sample
    # fields, or, without fields, by a fixed ceiling.
    if n > MAX_TRUN_SAMPLES:
        raise r.fail(f"sample_count {n} exceeds {MAX_TRUN_SAMPLES}")
    if not k and n > MAX_UNIFORM_TRUN_SAMPLES:
        raise r.fail(f"sample_count {n} without per-sample fields exceeds the implementation limit "
                     f"{MAX_UNIFORM_TRUN_SAMPLES}")
    need = n * k * 4
    if need > r.remaining:
        raise r.fail(f"sample_count {n} needs {need} bytes of sample fields, {r.remaining} left")
    if not k or not n:
        return
    signed_cto = version != 0 and flags & TRUN_SAMPLE_CTO
    values = struct.unpack_from(f">{n * k}I", r.data, r.pos)
    r.pos += need
    for i, name in enumerate(cols):
        col = list(values[i::k]) if k > 1 else list(values)
        if signed_cto and name == "sample_composition_time_offset":
            col = [v - (1 << 32) if v & 0x80000000 else v for v in col]
        f[name] = col


#: column names by the trun's per-sample flags >> 8 (duration, size, flags, composition offset)
_TRUN_NAMES = tuple(tuple(name for bit, name in _TRUN_COLUMNS if (m << 8) & bit) for m in range(16))
_S32 = struct.Struct(">i")
_TABLES: dict[tuple[int, str], struct.Struct] = {}


def _table(count: int, code: str) -> struct.Struct:
    """A Struct for ``count`` big-endian 32-bit values; the common small sizes are kept (bounded)."""
    st = _TABLES.get((count, code))
    if st is None:
        st = struct.Struct(f">{count}{code}")
        if count <= 4096 and len(_TABLES) < 1024:
            _TABLES[(count, code)] = st
    return st


def _fast_trun(data: Any, pos: int, end: int, f: dict[str, Any]) -> bool:
    if end - pos < 8:
        return False
    v, n = _U32x2.unpack_from(data, pos)
    flags = v & 0xFFFFFF
    names = _TRUN_NAMES[(flags >> 8) & 0xF]
    k = len(names)
    p = pos + 8
    head = 4 * (flags & TRUN_DATA_OFFSET) + (flags & TRUN_FIRST_SAMPLE_FLAGS)
    if (n > MAX_TRUN_SAMPLES or (not k and n > MAX_UNIFORM_TRUN_SAMPLES)
            or p + head + n * k * 4 > end):
        return False
    version = v >> 24
    f["version"] = version
    f["flags"] = flags
    f["sample_count"] = n
    if flags & TRUN_DATA_OFFSET:
        f["data_offset"] = _S32.unpack_from(data, p)[0]
        p += 4
    if flags & TRUN_FIRST_SAMPLE_FLAGS:
        f["first_sample_flags"] = _U32.unpack_from(data, p)[0]
        p += 4
    if not k or not n:
        return True
    m = n * k
    values = _table(m, "I").unpack_from(data, p)
    if k == 1:
        f[names[0]] = list(values)
    else:
        for i, name in enumerate(names):
            f[name] = list(values[i::k])
    if version != 0 and flags & TRUN_SAMPLE_CTO:
        signed = _table(m, "i").unpack_from(data, p)
        f["sample_composition_time_offset"] = list(signed if k == 1 else signed[k - 1 :: k])
    return True


FAST_DECODERS["trun"] = _fast_trun


@decoder("sdtp")
def _sdtp(r: Reader, box: Box) -> None:
    full_box(r, box)
    box.fields["entries"] = list(r.rest())


@decoder("sbgp")
def _sbgp(r: Reader, box: Box) -> None:
    version, _ = full_box(r, box)
    f = box.fields
    f["grouping_type"] = r.fourcc()
    if version == 1:
        f["grouping_type_parameter"] = r.u32()
    n = r.u32()
    if n * 8 > r.remaining:
        raise r.fail(f"entry_count {n} needs {n * 8} bytes, {r.remaining} left")
    f["entry_count"] = n
    f["entries"] = [{"sample_count": a, "group_description_index": b}
                    for a, b in struct.iter_unpack(">II", r.read(n * 8))]


@decoder("sgpd")
def _sgpd(r: Reader, box: Box) -> None:
    version, _ = full_box(r, box)
    f = box.fields
    f["grouping_type"] = gt = r.fourcc()
    default_length = 0
    if version == 1:
        f["default_length"] = default_length = r.u32()
    elif version >= 2:
        f["default_sample_description_index"] = r.u32()
    n = r.u32()
    f["entry_count"] = n
    entries: list[Any] = []
    if version != 1 and gt != "seig":
        f["entries"] = entries  # entry sizes unknown without the grouping type's definition
        return
    if gt == "seig" and n * 2 > r.remaining:
        # SampleGroupDescription::Parse: at least two bytes per entry before anything is allocated
        raise r.fail(f"entry_count {n} needs at least {n * 2} bytes, {r.remaining} left")
    seig = gt == "seig"
    for _ in range(n):
        # Chromium ignores groups other than seig: their entries are read while bytes remain, never failing
        # and never letting the count drive the loop past the bytes (every entry consumes some).
        length = default_length
        if version == 1 and default_length == 0:
            if not seig and r.remaining < 4:
                break
            length = r.u32()
        want = length if length else (20 if seig else 0)
        if not seig and want > r.remaining:
            break
        body = r.sub(want)
        if seig:
            e: dict[str, Any] = {}
            body.skip(1)
            b = body.u8()
            e["crypt_byte_block"], e["skip_byte_block"] = b >> 4, b & 0xF
            e["isProtected"] = body.u8()
            e["Per_Sample_IV_Size"] = body.u8()
            e["KID"] = _uuid(body.read(16))
            if e["isProtected"] == 1 and e["Per_Sample_IV_Size"] == 0 and body.remaining:
                e["constant_IV"] = body.read(body.u8())
            entries.append(e)
        else:
            entries.append(body.rest())
    f["entries"] = entries


@decoder("senc")
def _senc(r: Reader, box: Box) -> None:
    """Per-sample IVs need tenc's IV size to be split; keep the count and where the entries start."""
    _, flags = full_box(r, box)
    box.fields["sample_count"] = r.u32()
    box.fields["use_subsample_encryption"] = bool(flags & 2)
    box.fields["entries_offset"] = r.offset
    box.fields["entries_size"] = r.remaining


@decoder("saiz")
def _saiz(r: Reader, box: Box) -> None:
    _, flags = full_box(r, box)
    f = box.fields
    if flags & 1:
        f["aux_info_type"] = r.fourcc()
        f["aux_info_type_parameter"] = r.u32()
    f["default_sample_info_size"] = r.u8()
    n = r.u32()
    f["sample_count"] = n
    if f["default_sample_info_size"] == 0:
        if n > r.remaining:
            raise r.fail(f"sample_count {n} needs {n} bytes, {r.remaining} left")
        f["sample_info_size"] = list(r.read(n))


@decoder("saio")
def _saio(r: Reader, box: Box) -> None:
    version, flags = full_box(r, box)
    f = box.fields
    if flags & 1:
        f["aux_info_type"] = r.fourcc()
        f["aux_info_type_parameter"] = r.u32()
    n = r.u32()
    f["entry_count"] = n
    w = 8 if version == 1 else 4
    if n * w > r.remaining:
        raise r.fail(f"entry_count {n} needs {n * w} bytes, {r.remaining} left")
    f["offsets"] = list(struct.unpack_from(f">{n}{'Q' if w == 8 else 'I'}", r.data, r.pos))
    r.pos += n * w


def sample_flags(v: int) -> dict[str, int]:
    """ISO/IEC 14496-12 §8.8.3.1 sample_flags split into its fields."""
    return {
        "is_leading": (v >> 26) & 3,
        "sample_depends_on": (v >> 24) & 3,
        "sample_is_depended_on": (v >> 22) & 3,
        "sample_has_redundancy": (v >> 20) & 3,
        "sample_padding_value": (v >> 17) & 7,
        "sample_is_non_sync_sample": (v >> 16) & 1,
        "sample_degradation_priority": v & 0xFFFF,
    }
