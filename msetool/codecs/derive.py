"""RFC 6381 codec strings derived from what the sample entries actually carry.

``addSourceBuffer()`` needs a type whose codecs match the content; this module answers "what should the
string be" from the configuration boxes (avcC/hvcC/av1C/vpcC/esds/dOps/dfLa/dac3/dec3), so ``codecs``
can print it and validation can compare it with a declared string. Each binding's own rules:
ISO/IEC 14496-15 Annex E (avc1/hvc1), the AV1 ISOBMFF binding §5 (av01), the VP codec ISOBMFF binding
(vp09), RFC 6381 §3.3 (mp4a.40.N with the AudioSpecificConfig object type, 29 for PS, 5 for SBR).

Encrypted entries (``encv``/``enca``) are derived from their original format (``sinf/frma``).
"""

from __future__ import annotations

from typing import Any

from msetool.binary import BitReader, unescape_rbsp
from msetool.bmff.tree import Box
from msetool.errors import ParseError
from msetool.records import FrozenRecord

VIDEO = frozenset({"avc1", "avc2", "avc3", "avc4", "hvc1", "hev1", "dvh1", "dvhe", "av01", "vp08", "vp09",
                   "mp4v", "s263", "vvc1", "vvi1"})


class DerivedCodec(FrozenRecord):
    """The codec string for one sample entry, and what it was derived from (a frozen record,
    :mod:`msetool.records`; hashing fails, since ``details`` is a dict)."""

    __slots__ = ("codec", "coding_name", "details", "encrypted", "entry_type", "kind", "problem")
    __match_args__ = ("codec", "coding_name", "kind", "entry_type", "encrypted", "problem", "details")
    #: RFC 6381 string ("avc1.64001F", "mp4a.40.2"); the bare fourcc when nothing better is known
    codec: str
    #: the sample entry type after unwrapping encryption ("avc1", "mp4a", "Opus")
    coding_name: str
    kind: str
    #: the sample entry type as stored ("encv" when encrypted)
    entry_type: str
    encrypted: bool
    #: why the string could not be fully derived (missing/broken configuration box); None when complete
    problem: str | None
    #: decoded facts used for comparisons (profile, level, object type, sample rate, ...)
    details: dict[str, Any]

    def __init__(  # noqa: PLR0917 (the dataclass init it replaces took every field positionally)
        self,
        codec: str,
        coding_name: str,
        kind: str,
        entry_type: str = "",
        encrypted: bool = False,
        problem: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        put = object.__setattr__
        put(self, "codec", codec)
        put(self, "coding_name", coding_name)
        put(self, "kind", kind)
        put(self, "entry_type", entry_type)
        put(self, "encrypted", encrypted)
        put(self, "problem", problem)
        put(self, "details", {} if details is None else details)


def original_format(entry: Box) -> str:
    """``frma.data_format`` of an encrypted entry, else the entry type."""
    if entry.type in ("encv", "enca"):
        frma = entry.find("sinf/frma")
        if frma is not None and isinstance(frma.get("data_format"), str):
            return str(frma.get("data_format"))
    return entry.type


def derive(entry: Box) -> DerivedCodec:
    """The codec string of a sample entry box (a child of ``stsd``)."""
    name = original_format(entry)
    kind = "video" if name in VIDEO or entry.type == "encv" else "audio"
    enc = entry.type in ("encv", "enca")
    fn = _DERIVERS.get(name)
    if fn is None:
        return DerivedCodec(name.strip().lower() if name in _PLAIN else name, name, kind, entry.type, enc)
    try:
        codec, details = fn(entry, name)
        return DerivedCodec(codec, name, kind, entry.type, enc, None, details)
    except _Missing as e:
        return DerivedCodec(name, name, kind, entry.type, enc, str(e))
    except ParseError as e:
        return DerivedCodec(name, name, kind, entry.type, enc, e.reason)


def codec_string(entry: Box) -> str:
    return derive(entry).codec


class _Missing(Exception):
    pass


def _need(entry: Box, box_type: str) -> Box:
    b = entry.child(box_type)
    if b is None or not b.decoded:
        raise _Missing(f"{entry.type} has no{' valid' if b is not None else ''} {box_type} box")
    return b


_PLAIN = {"Opus": "opus", "fLaC": "flac"}


# --- H.264
def sps_profile_level(sps: bytes) -> tuple[int, int, int]:
    """profile_idc, constraint_set flags byte, level_idc from an SPS NAL unit (with its NAL header)."""
    if len(sps) < 4:
        raise ParseError(f"SPS of {len(sps)} bytes is too short")
    return sps[1], sps[2], sps[3]


def _avc(entry: Box, name: str) -> tuple[str, dict[str, Any]]:
    c = _need(entry, "avcC")
    profile, compat, level = (c.get("AVCProfileIndication"), c.get("profile_compatibility"),
                              c.get("AVCLevelIndication"))
    details: dict[str, Any] = {"profile_idc": profile, "constraint_flags": compat, "level_idc": level}
    sps_list = c.get("sequenceParameterSets") or []
    if sps_list:
        sp, sc, sl = sps_profile_level(unescape_rbsp(sps_list[0]))
        details["sps"] = {"profile_idc": sp, "constraint_flags": sc, "level_idc": sl}
        if not profile:
            profile, compat, level = sp, sc, sl
    return f"{name}.{profile:02X}{compat:02X}{level:02X}", details


# --- H.265
def _reverse32(v: int) -> int:
    return int(f"{v:032b}"[::-1], 2)


def _hevc(entry: Box, name: str) -> tuple[str, dict[str, Any]]:
    c = _need(entry, "hvcC")
    space = "" if c.get("general_profile_space") == 0 else "ABC"[c.get("general_profile_space") - 1]
    profile = c.get("general_profile_idc")
    compat = _reverse32(c.get("general_profile_compatibility_flags"))
    tier = "H" if c.get("general_tier_flag") else "L"
    level = c.get("general_level_idc")
    cons = c.get("general_constraint_indicator_flags").to_bytes(6, "big")
    parts = [f"{b:X}" for b in cons]
    while parts and parts[-1] == "0":
        parts.pop()
    s = f"{name}.{space}{profile}.{compat:X}.{tier}{level}"
    if parts:
        s += "." + ".".join(parts)
    return s, {"profile_idc": profile, "tier": tier, "level_idc": level}


# --- AV1
def _av1(entry: Box, name: str) -> tuple[str, dict[str, Any]]:
    c = _need(entry, "av1C")
    if c.get("marker") != 1:
        raise ParseError("av1C marker bit is not set")
    profile = c.get("seq_profile")
    level = c.get("seq_level_idx_0")
    tier = "H" if c.get("seq_tier_0") else "M"
    depth = (12 if c.get("twelve_bit") else 10) if c.get("high_bitdepth") else 8
    details = {"seq_profile": profile, "seq_level_idx": level, "tier": tier, "bit_depth": depth,
               "monochrome": c.get("monochrome")}
    obus = c.get("configOBUs") or b""
    seq = _av1_sequence_header(obus)
    if seq is not None:
        details["sequence_header"] = seq
    return f"av01.{profile}.{level:02d}{tier}.{depth:02d}", details


def _av1_sequence_header(obus: bytes) -> dict[str, int] | None:
    """seq_profile and the first operating point's level/tier from a sequence header OBU, if present."""
    pos = 0
    while pos < len(obus):
        try:
            b = BitReader(obus[pos:])
            b.bits(1)
            obu_type = b.bits(4)
            ext = b.bits(1)
            has_size = b.bits(1)
            b.bits(1)
            if ext:
                b.bits(8)
            size = b.leb128() if has_size else len(obus) - pos - (b.bitpos // 8)
            start = pos + b.bitpos // 8
            if obu_type != 1:
                pos = start + size
                continue
            s = BitReader(obus[start : start + size])
            profile = s.bits(3)
            s.bits(1)
            reduced = s.bits(1)
            if reduced:
                return {"seq_profile": profile, "seq_level_idx": s.bits(5), "seq_tier": 0}
            if s.bits(1):  # timing_info_present_flag: operating point levels follow timing info; stop here
                return {"seq_profile": profile}
            s.bits(1)  # initial_display_delay_present_flag (0 when no timing info... read anyway)
            s.bits(5)  # operating_points_cnt_minus_1
            s.bits(12)  # operating_point_idc[0]
            level = s.bits(5)
            tier = s.bits(1) if level > 7 else 0
            return {"seq_profile": profile, "seq_level_idx": level, "seq_tier": tier}
        except ParseError:
            return None
    return None


# --- VP8 / VP9
def _vpx(entry: Box, name: str) -> tuple[str, dict[str, Any]]:
    c = _need(entry, "vpcC")
    profile, level, depth = c.get("profile"), c.get("level"), c.get("bitDepth")
    return f"{name}.{profile:02d}.{level:02d}.{depth:02d}", {"profile": profile, "level": level,
                                                             "bit_depth": depth}


# --- audio
def _mp4a(entry: Box, name: str) -> tuple[str, dict[str, Any]]:
    e = _need(entry, "esds")
    oti = e.get("objectTypeIndication")
    if oti is None:
        raise _Missing("esds has no DecoderConfigDescriptor")
    details: dict[str, Any] = {"objectTypeIndication": oti}
    if oti == 0x40:
        asc = e.get("AudioSpecificConfig")
        if asc is None:
            raise _Missing(e.get("AudioSpecificConfig_error") or "esds has no AudioSpecificConfig")
        details.update(asc.to_json())
        details["audio_object_type"] = asc.codec_object_type
        return f"mp4a.40.{asc.codec_object_type}", details
    return f"mp4a.{oti:02X}", details


def _opus(entry: Box, name: str) -> tuple[str, dict[str, Any]]:
    d = _need(entry, "dOps")
    return "opus", {"channels": d.get("OutputChannelCount"), "pre_skip": d.get("PreSkip"),
                    "input_sample_rate": d.get("InputSampleRate")}


def _flac(entry: Box, name: str) -> tuple[str, dict[str, Any]]:
    d = _need(entry, "dfLa")
    return "flac", {"sample_rate": d.get("sample_rate"), "channels": d.get("channels"),
                    "bits_per_sample": d.get("bits_per_sample")}


def _ac3(entry: Box, name: str) -> tuple[str, dict[str, Any]]:
    cfg = entry.child("dac3" if name == "ac-3" else "dec3")
    details: dict[str, Any] = dict(cfg.fields) if cfg is not None else {}
    return name, details


_DERIVERS = {
    "avc1": _avc, "avc2": _avc, "avc3": _avc, "avc4": _avc,
    "hvc1": _hevc, "hev1": _hevc,
    "av01": _av1, "vp08": _vpx, "vp09": _vpx,
    "mp4a": _mp4a, "Opus": _opus, "fLaC": _flac, "ac-3": _ac3, "ec-3": _ac3,
}
