"""RFC 6381 codec strings: typed values, families, descriptions and grammar errors."""

from __future__ import annotations

import pytest

from msetool.codecs.rfc6381 import (
    Av1Codec,
    AvcCodec,
    CodecError,
    HevcCodec,
    Mp4aCodec,
    VpxCodec,
    codec_family,
    describe,
    parse_codec,
    parse_codecs,
    parse_codecs_lenient,
)
from msetool.errors import MseToolError


@pytest.mark.parametrize(
    ("text", "family", "description"),
    [
        ("avc1.64001F", "avc", "H.264 High@3.1"),
        ("avc1.42E01E", "avc", "H.264 Constrained Baseline@3.0"),
        ("avc3.4d400d", "avc", "H.264 Main@1.3"),
        ("hvc1.1.6.L93.B0", "hevc", "H.265 Main@L3.1 (Main tier)"),
        ("hev1.2.4.H120.90", "hevc", "H.265 Main 10@L4 (High tier)"),
        ("av01.0.04M.08", "av1", "AV1 Main@3.0 (Main tier, 8-bit)"),
        ("av01.1.13H.10.0.111.01.01.01.0", "av1", "AV1 High@5.1 (High tier, 10-bit)"),
        ("vp09.02.10.10.01.09.16.09.01", "vp9", "VP9 profile 2@1.0 (10-bit)"),
        ("vp9", "vp9", "VP9"),
        ("vp8", "vp8", "VP8"),
        ("mp4a.40.2", "aac", "AAC-LC"),
        ("mp4a.40.5", "aac", "HE-AAC (SBR)"),
        ("mp4a.40.29", "aac", "HE-AACv2 (SBR+PS)"),
        ("mp4a.67", "aac", "MPEG-2 AAC-LC"),
        ("mp4a.6B", "mp3", "MP3 (MPEG-1 audio)"),
        ("mp4a.69", "mp3", "MP3 (MPEG-2 audio)"),
        ("mp4a.40.34", "mp3", "MP3 (MPEG-1/2 Layer III)"),
        ("mp4a.A5", "ac3", "AC-3"),
        ("mp4a.A6", "eac3", "E-AC-3"),
        ("opus", "opus", "Opus"),
        ("flac", "flac", "FLAC"),
        ("ac-3", "ac3", "AC-3"),
        ("ec-3", "eac3", "E-AC-3"),
        ("vorbis", "vorbis", "Vorbis"),
        ("mp3", "mp3", "MP3"),
    ],
)
def test_parse_family_description(text: str, family: str, description: str) -> None:
    c = parse_codec(text)
    assert c.family == family
    assert codec_family(text) == family
    assert c.description == description
    assert describe(text) == description


def test_typed_fields() -> None:
    avc = parse_codec("avc1.64001F")
    assert isinstance(avc, AvcCodec) and (avc.profile_idc, avc.constraint_flags, avc.level_idc) == (
        100,
        0,
        31,
    )
    hevc = parse_codec("hvc1.A1.80000000.L93.B0")
    # the compatibility flags are written bit-reversed: 0x80000000 reversed is flag bit 0 -> value 1
    assert isinstance(hevc, HevcCodec)
    assert (hevc.general_profile_space, hevc.general_profile_compatibility_flags) == (1, 1)
    assert hevc.constraint_bytes == (0xB0, 0, 0, 0, 0, 0)
    av1 = parse_codec("av01.0.08M.10.0.110.09.16.09.0")
    assert isinstance(av1, Av1Codec) and (av1.seq_level_idx, av1.bit_depth, av1.chroma_subsampling) == (
        8,
        10,
        "110",
    )
    vp9 = parse_codec("vp09.00.41.08")
    assert (
        isinstance(vp9, VpxCodec) and (vp9.profile, vp9.level, vp9.bit_depth) == (0, 41, 8) and not vp9.legacy
    )
    aac = parse_codec("mp4a.40.2")
    assert isinstance(aac, Mp4aCodec) and (aac.object_type_indication, aac.audio_object_type) == (0x40, 2)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "avc1.64001",
        "avc1.64001G",
        "avc1.64001F.1",
        "avc1.FF001F",
        "AVC1.64001F",
        "hvc1.1.6.93",
        "hvc1.1.6",
        "hvc1.40.6.L93",
        "hvc1.1.6.L93.B0.0.0.0.0.0.0",
        "av01.0.4M.08",
        "av01.3.04M.08",
        "av01.0.04X.08",
        "av01.0.04M.09",
        "av01.0.32M.08",
        "vp09.00.15.08",
        "vp09.04.10.08",
        "vp09.00.10",
        "vp09.00.10.09",
        "mp4a.40",
        "mp4a.40.99",
        "mp4a.4",
        "mp4a.40.x",
        "mp4a.ZZ",
        "mp4a.6B.2",
        "avc1..1",
        "avc1.64001F,mp4a.40.2",
        'avc1.64001F"',
        "vp9.2",
    ],
)
def test_malformed_strings_raise(bad: str) -> None:
    with pytest.raises(CodecError):
        parse_codec(bad)


def test_codec_error_is_a_usage_error_with_the_reason() -> None:
    with pytest.raises(MseToolError, match="6 hex digits"):
        parse_codec("avc1.64001")


def test_tolerated_forms_carry_notes() -> None:
    assert parse_codec("Opus").notes
    assert parse_codec("mp4a.40.02").notes
    assert parse_codec("mp4a.a5").notes
    assert parse_codec("vp9").notes and parse_codec("vp09.00.10.08").notes == ()
    assert parse_codec("av01.0.04M.08.0").notes  # the optional tail is all-or-none
    assert parse_codec("avc1").chromium_rejects
    assert parse_codec("mp4a.40.1").chromium_rejects
    assert parse_codec("avc1.42030A").chromium_rejects  # reserved constraint bits set


def test_family_is_lenient_on_a_broken_tail() -> None:
    assert codec_family("avc1.XYZ") == "avc"
    assert codec_family("mp4a.6B.9") == "mp3"
    assert codec_family("hev1.bad") == "hevc"
    assert "malformed" in describe("avc1.XYZ")
    with pytest.raises(CodecError):
        codec_family("")


def test_unknown_identifiers_parse_as_other() -> None:
    c = parse_codec("wxyz.1")
    assert (c.family, c.kind) == ("wxyz", "other")
    assert parse_codec("dvh1.05.06").family == "dolbyvision"


def test_lists() -> None:
    assert [c.family for c in parse_codecs('"avc1.64001F, mp4a.40.2"')] == ["avc", "aac"]
    with pytest.raises(CodecError):
        parse_codecs("avc1.64001F,,mp4a.40.2")
    lenient = parse_codecs_lenient("avc1.64001F,bad.,mp4a.40.2")
    assert [c.raw for c in lenient.codecs] == ["avc1.64001F", "mp4a.40.2"]
    assert len(lenient.errors) == 1
