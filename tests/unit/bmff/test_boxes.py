"""Box decoders: hex vectors per box (written out by hand from the spec syntax) and builder round trips."""

from __future__ import annotations

import struct

import pytest

from msetool.bmff.audio import parse_audio_specific_config
from msetool.bmff.boxes import sample_flags
from msetool.bmff.reader import parse_bytes
from msetool.bmff.tree import Box, BoxIssue
from tests.unit.bmff import builder as B


def one(hexstr: str) -> Box:
    issues: list[BoxIssue] = []
    (b,) = parse_bytes(bytes.fromhex(hexstr.replace(" ", "")), issues=issues)
    assert issues == []
    return b


def test_mfhd() -> None:
    assert one("00000010 6d666864 00000000 0000002a").fields["sequence_number"] == 42


def test_tfhd_all_optional_fields() -> None:
    b = one("00000028 74666864 0002003b 00000003 0000000000001000 00000002 00000400 00000100 01010000")
    f = b.fields
    assert f["track_ID"] == 3 and f["base_data_offset"] == 0x1000 and f["sample_description_index"] == 2
    assert f["default_sample_duration"] == 1024 and f["default_sample_size"] == 256
    assert f["default_sample_flags"] == 0x01010000 and f["default_base_is_moof"] is True


def test_tfdt_v0_and_v1() -> None:
    assert one("00000010 74666474 00000000 00001234").fields["base_media_decode_time"] == 0x1234
    assert one("00000014 74666474 01000000 0000000100000000").fields["base_media_decode_time"] == 1 << 32


def test_trun_v1_columns_and_signed_offsets() -> None:
    # flags: data_offset | duration | size | flags | cto ; 2 samples
    b = one("00000034 7472756e 01000f01 00000002 00000070"
            " 00000200 00000010 02000000 fffffe00"
            " 00000200 00000020 01010000 00000400")
    f = b.fields
    assert f["data_offset"] == 0x70
    assert f["sample_duration"] == [512, 512]
    assert f["sample_size"] == [16, 32]
    assert f["sample_flags"] == [0x02000000, 0x01010000]
    assert f["sample_composition_time_offset"] == [-512, 1024]


def test_trun_v0_offsets_unsigned_and_first_sample_flags() -> None:
    b = one("00000020 7472756e 00000805 00000002 00000008 02000000 80000000 00000001")
    f = b.fields
    assert f["first_sample_flags"] == 0x02000000
    assert f["sample_composition_time_offset"] == [0x80000000, 1]
    assert "sample_size" not in f


def test_trun_sample_count_beyond_payload_is_an_issue() -> None:
    issues: list[BoxIssue] = []
    parse_bytes(bytes.fromhex("00000014 7472756e 00000200 00001000 00000001".replace(" ", "")), issues=issues)
    assert issues[0].kind == "invalid-field" and "sample_count 4096" in issues[0].message


def test_mdhd_language_and_timescale() -> None:
    b = one("00000020 6d646864 00000000 00000000 00000000 00003c00 00000400 15c70000")
    assert b.fields["timescale"] == 15360 and b.fields["duration"] == 1024 and b.fields["language"] == "eng"


def test_elst_v0_and_v1() -> None:
    b = one("0000001c 656c7374 00000000 00000001 00000000 00000200 00010000")
    assert b.fields["entries"] == [{"segment_duration": 0, "media_time": 512, "media_rate_integer": 1,
                                    "media_rate_fraction": 0}]
    b = one("00000024 656c7374 01000000 00000001 0000000000000064 ffffffffffffffff 00010000")
    assert b.fields["entries"][0]["media_time"] == -1


def test_trex() -> None:
    b = one("00000020 74726578 00000000 00000002 00000001 00000400 00000000 02000000")
    assert b.fields == {"version": 0, "flags": 0, "track_ID": 2, "default_sample_description_index": 1,
                        "default_sample_duration": 1024, "default_sample_size": 0,
                        "default_sample_flags": 0x02000000}


def test_sidx_references() -> None:
    b = one("0000002c 73696478 00000000 00000001 00003c00 00000000 00000000 0000 0001"
            " 00012345 00007800 90000000")
    (ref,) = b.fields["references"]
    assert ref == {"reference_type": 0, "referenced_size": 0x12345, "subsegment_duration": 0x7800,
                   "starts_with_SAP": 1, "SAP_type": 1, "SAP_delta_time": 0}


def test_emsg_v1() -> None:
    payload = struct.pack(">IQII", 1000, 5000, 100, 7) + b"urn:x\0v\0" + b"data"
    b = parse_bytes(B.full("emsg", 1, 0, payload))[0]
    assert b.fields["scheme_id_uri"] == "urn:x" and b.fields["presentation_time"] == 5000
    assert b.fields["message_data_size"] == 4


def test_pssh_v1_with_kids() -> None:
    payload = bytes(range(16)) + struct.pack(">I", 1) + b"\x11" * 16 + struct.pack(">I", 3) + b"abc"
    b = parse_bytes(B.full("pssh", 1, 0, payload))[0]
    assert b.fields["SystemID"] == "00010203-0405-0607-0809-0a0b0c0d0e0f"
    assert b.fields["KIDs"] == ["11111111-1111-1111-1111-111111111111"] and b.fields["DataSize"] == 3


def test_tenc_with_constant_iv() -> None:
    payload = b"\0" + bytes([0x19]) + b"\x01\x00" + b"\x22" * 16 + b"\x10" + b"\x33" * 16
    b = parse_bytes(B.full("tenc", 1, 0, payload))[0]
    f = b.fields
    assert (f["default_crypt_byte_block"], f["default_skip_byte_block"]) == (1, 9)
    assert f["default_isProtected"] == 1 and f["default_constant_IV"] == b"\x33" * 16


def test_avcc_round_trip() -> None:
    b = parse_bytes(B.avcc(profile=0x64, compat=0, level=0x1F))[0]
    f = b.fields
    assert (f["AVCProfileIndication"], f["AVCLevelIndication"], f["lengthSizeMinusOne"]) == (0x64, 0x1F, 3)
    assert f["sequenceParameterSets"] == [B.SPS] and f["pictureParameterSets"] == [B.PPS]


def test_hvcc_fields() -> None:
    body = (bytes([1, 0x01]) + struct.pack(">I", 0x60000000) + bytes.fromhex("900000000000") + bytes([93])
            + bytes.fromhex("f000 fc fd f8 f8 0000 0f") + b"\0")
    f = parse_bytes(B.box("hvcC", body))[0].fields
    assert f["general_profile_idc"] == 1 and f["general_level_idc"] == 93
    assert f["general_constraint_indicator_flags"] == 0x900000000000 and f["lengthSizeMinusOne"] == 3


def test_av1c_and_vpcc() -> None:
    f = parse_bytes(B.box("av1C", bytes([0x81, 0x08, 0x0C, 0x00])))[0].fields
    assert (f["marker"], f["version"], f["seq_profile"], f["seq_level_idx_0"]) == (1, 1, 0, 8)
    g = parse_bytes(B.full("vpcC", 1, 0, bytes([0, 31, 0x82, 1, 1, 1, 0, 0])))[0].fields
    assert (g["profile"], g["level"], g["bitDepth"], g["chromaSubsampling"]) == (0, 31, 8, 1)


def test_dops_dfla_dac3_dec3() -> None:
    d = parse_bytes(B.box("dOps", bytes([0, 2]) + struct.pack(">HIhB", 312, 48000, 0, 0)))[0].fields
    assert (d["OutputChannelCount"], d["PreSkip"], d["InputSampleRate"]) == (2, 312, 48000)
    si = struct.pack(">HH", 4096, 4096) + b"\0\0\0\0\0\0" + (
        (44100 << 44) | (1 << 41) | (15 << 36) | 1000).to_bytes(8, "big") + b"\0" * 16
    f = parse_bytes(B.full("dfLa", 0, 0, bytes([0x80]) + len(si).to_bytes(3, "big") + si))[0].fields
    assert (f["sample_rate"], f["channels"], f["bits_per_sample"]) == (44100, 2, 16)
    a = parse_bytes(B.box("dac3", bytes.fromhex("10 3d 40")))[0].fields
    assert (a["fscod"], a["bsid"], a["acmod"], a["lfeon"]) == (0, 8, 7, 1)
    e = parse_bytes(B.box("dec3", bytes.fromhex("0600 200f00")))[0].fields
    assert e["num_ind_sub"] == 1 and e["substreams"][0]["acmod"] == 7


@pytest.mark.parametrize(
    ("asc", "aot", "codec_aot", "rate", "channels"),
    [
        ("1190", 2, 2, 48000, 2),  # AAC-LC 48 kHz stereo
        ("2b92 0800", 2, 5, 22050, 2),  # explicit SBR (AOT 5), core 22.05 kHz, ext 44.1 kHz
        ("eb09 8800", 2, 29, 24000, 1),  # explicit PS (AOT 29)
        ("1310 56e5 9800", 2, 5, 24000, 2),  # backward-compatible SBR (sync extension 0x2b7)
    ],
)
def test_audio_specific_config(asc: str, aot: int, codec_aot: int, rate: int, channels: int) -> None:
    c = parse_audio_specific_config(bytes.fromhex(asc.replace(" ", "")))
    assert (c.audioObjectType, c.codec_object_type, c.samplingFrequency, c.channelConfiguration) == (
        aot, codec_aot, rate, channels)


def test_esds_descriptor_chain() -> None:
    f = parse_bytes(B.esds())[0].fields
    assert f["objectTypeIndication"] == 0x40 and f["streamType"] == 5
    assert f["AudioSpecificConfig"].codec_object_type == 2


def test_sample_entries_with_children() -> None:
    v = parse_bytes(B.visual_entry("avc3"))[0]
    assert (v.fields["width"], v.fields["height"]) == (320, 180) and v.children[0].type == "avcC"
    a = parse_bytes(B.audio_entry(channels=6, rate=44100))[0]
    assert (a.fields["channelcount"], a.fields["samplerate"]) == (6, 44100) and a.children[0].type == "esds"


def test_sample_flags_fields() -> None:
    assert sample_flags(0x01010000)["sample_is_non_sync_sample"] == 1
    assert sample_flags(0x01010000)["sample_depends_on"] == 1
    assert sample_flags(0x02000000)["sample_depends_on"] == 2
