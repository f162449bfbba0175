"""RFC 6381 codec strings derived from sample entries (msetool.codecs.derive)."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from msetool.bmff import read_boxes
from msetool.bmff.reader import parse_bytes
from msetool.codecs.derive import derive
from msetool.source import FileSource
from tests import media
from tests.unit.bmff import builder as B


def entry(data: bytes) -> str:
    return derive(parse_bytes(data)[0]).codec


def test_avc_from_avcc() -> None:
    assert entry(B.visual_entry("avc1", B.avcc(profile=0x64, compat=0x00, level=0x1F))) == "avc1.64001F"
    assert entry(B.visual_entry("avc3", B.avcc(profile=0x4D, compat=0x40, level=0x0D))) == "avc3.4D400D"


def test_avc_falls_back_to_the_sps_when_avcc_profile_is_zero() -> None:
    d = derive(parse_bytes(B.visual_entry("avc1", B.avcc(profile=0, compat=0, level=0)))[0])
    assert d.codec == "avc1.42C00D"  # from the SPS bytes 42 c0 0d
    assert d.details["sps"] == {"profile_idc": 0x42, "constraint_flags": 0xC0, "level_idc": 0x0D}


def test_hevc_string() -> None:
    body = (bytes([1, 0x01]) + struct.pack(">I", 0x60000000) + bytes.fromhex("900000000000") + bytes([93])
            + bytes.fromhex("f000fcfdf8f8000f") + b"\0\0")
    assert entry(B.visual_entry("hvc1", B.box("hvcC", body))) == "hvc1.1.6.L93.90"
    main10 = (bytes([1, 0x22]) + struct.pack(">I", 0x20000000) + bytes.fromhex("b00000000000") + bytes([150])
              + bytes.fromhex("f000fcfdfafa000f") + b"\0\0")
    assert entry(B.visual_entry("hev1", B.box("hvcC", main10))) == "hev1.2.4.H150.B0"


def test_av1_and_vp9_strings() -> None:
    assert entry(B.visual_entry("av01", B.box("av1C", bytes([0x81, 0x08, 0x0C, 0x00])))) == "av01.0.08M.08"
    assert entry(B.visual_entry("av01", B.box("av1C", bytes([0x81, 0x2D, 0xC0, 0x00])))) == "av01.1.13H.10"
    vpcc = B.full("vpcC", 1, 0, bytes([2, 31, 0xA2, 1, 1, 1, 0, 0]))
    assert entry(B.visual_entry("vp09", vpcc)) == "vp09.02.31.10"


@pytest.mark.parametrize(
    ("asc", "codec"),
    [("1190", "mp4a.40.2"), ("2b920800", "mp4a.40.5"), ("eb098800", "mp4a.40.29"),
     ("131056e59800", "mp4a.40.5")],
)
def test_aac_object_types(asc: str, codec: str) -> None:
    assert entry(B.audio_entry("mp4a", B.esds(bytes.fromhex(asc)))) == codec


def test_mp3_in_mp4_and_simple_audio_codecs() -> None:
    assert entry(B.audio_entry("mp4a", B.esds(b"", oti=0x6B))) == "mp4a.6B"
    assert entry(B.audio_entry("mp4a", B.esds(b"", oti=0x69))) == "mp4a.69"
    dops = B.box("dOps", bytes([0, 2]) + struct.pack(">HIhB", 312, 48000, 0, 0))
    assert entry(B.audio_entry("Opus", dops)) == "opus"
    assert entry(B.audio_entry("ac-3", B.box("dac3", bytes.fromhex("103d40")))) == "ac-3"
    assert entry(B.audio_entry("ec-3", B.box("dec3", bytes.fromhex("0600200f00")))) == "ec-3"


def test_missing_configuration_box_is_a_problem_not_an_exception() -> None:
    d = derive(parse_bytes(B.visual_entry("avc1", b""))[0])
    assert d.codec == "avc1" and d.problem is not None and "avcC" in d.problem


def test_encrypted_entry_uses_the_original_format() -> None:
    sinf = B.box("sinf", B.box("frma", b"avc1") + B.full("schm", 0, 0, b"cenc\0\1\0\0"))
    d = derive(parse_bytes(B.visual_entry("encv", sinf + B.avcc(profile=0x64, compat=0, level=0x28)))[0])
    assert d.codec == "avc1.640028" and d.encrypted and d.entry_type == "encv"


def test_codec_strings_of_ffmpeg_media(avc_aac_fmp4: Path) -> None:
    with FileSource(avc_aac_fmp4) as src:
        moov = read_boxes(src).first("moov")
    assert moov is not None
    codecs = [derive(e).codec for stsd in moov.find_all("trak/mdia/minf/stbl/stsd") for e in stsd.children]
    # tests/media.py encodes H.264 (libx264, -profile main... the avcC states what the encoder wrote) + AAC-LC
    assert codecs[0].startswith("avc1.") and codecs[1] == "mp4a.40.2"


def test_he_aac_from_ffmpeg_is_not_reported_as_lc() -> None:
    # ffmpeg's native AAC encoder only writes LC; HE-AAC is checked with the hand-written vectors above.
    p = media.fmp4_aac()
    with FileSource(p) as src:
        moov = read_boxes(src).first("moov")
    assert moov is not None
    (stsd,) = moov.find_all("trak/mdia/minf/stbl/stsd")
    assert derive(stsd.children[0]).details["audio_object_type"] == 2
