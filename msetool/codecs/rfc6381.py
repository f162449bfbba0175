"""Codec strings (RFC 6381 ``codecs`` parameter elements) parsed into typed values.

A codec string is what a page hands to ``addSourceBuffer()``; browsers decide support from it before a byte
is appended, and Chromium later compares the codec *family* of each track in the initialization segment
with it. So two questions matter: is the string well formed by its own codec's grammar (RFC 6381 §3.3 for
avc1/mp4a, ISO/IEC 14496-15 Annex E for hvc1/hev1, the AV1-ISOBMFF binding for av01, the VP codec ISO
binding for vp09), and what does it claim (family, profile, level, bit depth, object type) so the claim can
be compared with what the sample entries actually carry.

Grammar violations raise :class:`CodecError`. Things a browser tolerates but that are still worth saying
(legacy ``vp9``, ``Opus`` capitalised, partial AV1 optional fields) become ``notes`` on the value; things
the normative grammar allows but Chromium refuses go into ``chromium_rejects``.

Entry points: :func:`parse_codec`, :func:`parse_codecs`, :func:`codec_family`, :func:`describe`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from msetool.errors import UsageError

if TYPE_CHECKING:
    from msetool.codecs.values import Av1Codec, AvcCodec, Codec, CodecList, HevcCodec, Mp4aCodec, VpxCodec


class CodecError(UsageError, ValueError):
    """A codec string that breaks its grammar; ``codec`` is the offending element, ``reason`` why."""

    def __init__(self, codec: str, reason: str) -> None:
        self.codec = codec
        self.reason = reason
        super().__init__(f"codec string {codec!r}: {reason}")


#: The typed values (msetool.codecs.values) are dataclasses, whose creation is most of this module's import
#: time; a validation without a declared type never parses a codec string. They are defined on first use
#: and are then ordinary attributes of this module.
_VALUES = ("Codec", "AvcCodec", "HevcCodec", "Av1Codec", "VpxCodec", "Mp4aCodec", "CodecList")


def _load_values() -> None:
    from msetool.codecs import values

    g = globals()
    for name in _VALUES:
        g[name] = getattr(values, name)


def __getattr__(name: str) -> object:
    if name in _VALUES:
        _load_values()
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --------------------------------------------------------------------------------------------------------
# Tables

AVC_PROFILES = {
    44: "CAVLC 4:4:4 Intra",
    66: "Baseline",
    77: "Main",
    83: "Scalable Baseline",
    86: "Scalable High",
    88: "Extended",
    100: "High",
    110: "High 10",
    118: "Multiview High",
    122: "High 4:2:2",
    128: "Stereo High",
    134: "MFC High",
    135: "MFC Depth High",
    138: "Multiview Depth High",
    139: "Enhanced Multiview Depth High",
    244: "High 4:4:4 Predictive",
}
#: profile_idc values Chromium's ParseAVCCodecId maps to a profile.
AVC_CHROMIUM_PROFILES = {66, 77, 83, 86, 88, 100, 110, 118, 122, 128, 244}
#: level_idc values of ITU-T H.264 Table A-1 (9 is level 1b in the High profiles).
AVC_LEVELS = {9, 10, 11, 12, 13, 20, 21, 22, 30, 31, 32, 40, 41, 42, 50, 51, 52, 60, 61, 62}

HEVC_PROFILES = {
    1: "Main",
    2: "Main 10",
    3: "Main Still Picture",
    4: "Range Extensions",
    5: "High Throughput",
    6: "Multiview Main",
    7: "Scalable Main",
    8: "3D Main",
    9: "Screen Content Coding",
    10: "Scalable Range Extensions",
    11: "High Throughput Screen Content Coding",
}

AV1_PROFILES = {0: "Main", 1: "High", 2: "Professional"}
VP9_LEVELS = {10, 11, 20, 21, 30, 31, 40, 41, 50, 51, 52, 60, 61, 62}

AAC_AOT_NAMES = {
    1: "AAC Main",
    2: "AAC-LC",
    3: "AAC SSR",
    4: "AAC LTP",
    5: "HE-AAC (SBR)",
    6: "AAC Scalable",
    17: "ER AAC-LC",
    19: "ER AAC LTP",
    20: "ER AAC Scalable",
    22: "ER BSAC",
    23: "AAC-LD",
    29: "HE-AACv2 (SBR+PS)",
    32: "MPEG-1/2 Layer I",
    33: "MPEG-1/2 Layer II",
    34: "MP3 (MPEG-1/2 Layer III)",
    39: "AAC-ELD",
    42: "xHE-AAC (USAC)",
}
#: Audio object types that are AAC flavours; 32-34 are MPEG-1/2 audio layers carried as MPEG-4 Audio.
AAC_AOTS = {1, 2, 3, 4, 5, 6, 7, 17, 19, 20, 21, 22, 23, 29, 39, 42}
MPEG_LAYER_AOTS = {32, 33, 34}

#: objectTypeIndication (ISO/IEC 14496-1 / MP4RA) -> (family, name).
OTI_FAMILIES: dict[int, str] = {
    0x40: "aac",
    0x66: "aac",
    0x67: "aac",
    0x68: "aac",
    0x69: "mp3",
    0x6B: "mp3",
    0xA5: "ac3",
    0xA6: "eac3",
    0xA9: "dts",
    0xAA: "dts",
    0xAB: "dts",
    0xAC: "dts",
    0xAD: "opus",
}
OTI_NAMES = {
    0x40: "MPEG-4 Audio",
    0x66: "MPEG-2 AAC Main",
    0x67: "MPEG-2 AAC-LC",
    0x68: "MPEG-2 AAC SSR",
    0x69: "MP3 (MPEG-2 audio)",
    0x6B: "MP3 (MPEG-1 audio)",
    0xA5: "AC-3",
    0xA6: "E-AC-3",
    0xA9: "DTS",
    0xAA: "DTS-HD",
    0xAB: "DTS-HD Master Audio",
    0xAC: "DTS Express",
    0xAD: "Opus",
}

#: Codec strings without parameters: element -> (family, kind, note when the spelling is tolerated only).
SIMPLE: dict[str, tuple[str, str, str]] = {
    "opus": ("opus", "audio", ""),
    "Opus": (
        "opus",
        "audio",
        "write 'opus' (lower case) in the codecs parameter; 'Opus' is the sample entry",
    ),
    "flac": ("flac", "audio", ""),
    "fLaC": ("flac", "audio", "write 'flac' in the codecs parameter; 'fLaC' is the sample entry"),
    "vorbis": ("vorbis", "audio", ""),
    "ac-3": ("ac3", "audio", ""),
    "ec-3": ("eac3", "audio", ""),
    "ac-4": ("ac4", "audio", ""),
    "mp3": ("mp3", "audio", ""),
    ".mp3": ("mp3", "audio", "write 'mp3'"),
    "alac": ("alac", "audio", ""),
    "ipcm": ("pcm", "audio", ""),
    "fpcm": ("pcm", "audio", ""),
    "ulaw": ("pcm", "audio", ""),
    "alaw": ("pcm", "audio", ""),
    "pcm": ("pcm", "audio", ""),
    "dtsc": ("dts", "audio", ""),
    "dtse": ("dts", "audio", ""),
    "dtsh": ("dts", "audio", ""),
    "dtsl": ("dts", "audio", ""),
    "dtsx": ("dts", "audio", ""),
    "iamf": ("iamf", "audio", ""),
    "theora": ("theora", "video", ""),
    "stpp": ("ttml", "text", ""),
    "wvtt": ("webvtt", "text", ""),
    "tx3g": ("tx3g", "text", ""),
}
#: Families whose strings take parameters we do not decode further (4CC -> family, kind).
PREFIXED: dict[str, tuple[str, str]] = {
    "dvh1": ("dolbyvision", "video"),
    "dvhe": ("dolbyvision", "video"),
    "dva1": ("dolbyvision", "video"),
    "dvav": ("dolbyvision", "video"),
    "dav1": ("dolbyvision", "video"),
    "vvc1": ("vvc", "video"),
    "vvi1": ("vvc", "video"),
    "mhm1": ("mpegh", "audio"),
    "mhm2": ("mpegh", "audio"),
    "mha1": ("mpegh", "audio"),
    "mha2": ("mpegh", "audio"),
    "ac-4": ("ac4", "audio"),
    "iamf": ("iamf", "audio"),
    "stpp": ("ttml", "text"),
}

_NAMES = {
    "avc": "H.264",
    "hevc": "H.265",
    "av1": "AV1",
    "vp9": "VP9",
    "vp8": "VP8",
    "aac": "AAC",
    "mp3": "MP3",
    "opus": "Opus",
    "flac": "FLAC",
    "ac3": "AC-3",
    "eac3": "E-AC-3",
    "ac4": "AC-4",
    "vorbis": "Vorbis",
    "dts": "DTS",
    "alac": "ALAC",
    "pcm": "PCM",
    "iamf": "IAMF",
    "theora": "Theora",
    "dolbyvision": "Dolby Vision",
    "vvc": "H.266",
    "mpegh": "MPEG-H 3D Audio",
    "ttml": "TTML",
    "webvtt": "WebVTT",
    "tx3g": "3GPP timed text",
}

_HEX = re.compile(r"[0-9A-Fa-f]+")
_DEC = re.compile(r"[0-9]+")


def avc_level_name(
    level_idc: int | None, constraint_flags: int | None = None, profile_idc: int | None = None
) -> str:
    """H.264 level as people write it ("3.1", "1b")."""
    if level_idc is None:
        return "?"
    if level_idc == 9 or (level_idc == 11 and (constraint_flags or 0) & 0x10 and profile_idc in (66, 77, 88)):
        return "1b"
    return f"{level_idc // 10}.{level_idc % 10}"


# --------------------------------------------------------------------------------------------------------
# Parsers


def _avc(raw: str, fourcc: str, rest: list[str]) -> AvcCodec:
    if not rest:
        return AvcCodec(
            raw=raw,
            fourcc=fourcc,
            family="avc",
            kind="video",
            notes=(f"bare '{fourcc}' names no profile or level (browsers assume Baseline@1.0)",),
            chromium_rejects=f"Chromium's MSE parser factory needs '{fourcc}.PPCCLL', not a bare '{fourcc}'",
        )
    if len(rest) != 1:
        raise CodecError(raw, f"expected {fourcc}.PPCCLL (one element of 6 hex digits after '{fourcc}.')")
    hexpart = rest[0]
    if len(hexpart) != 6 or not _HEX.fullmatch(hexpart):
        raise CodecError(
            raw, f"'{hexpart}' must be exactly 6 hex digits: profile_idc, constraint flags, level_idc"
        )
    prof, flags, level = int(hexpart[0:2], 16), int(hexpart[2:4], 16), int(hexpart[4:6], 16)
    notes: list[str] = []
    rejects: str | None = None
    if prof not in AVC_PROFILES:
        raise CodecError(raw, f"profile_idc {prof} (0x{prof:02X}) is not an H.264 profile")
    if prof not in AVC_CHROMIUM_PROFILES:
        rejects = f"Chromium knows no H.264 profile with profile_idc {prof}"
    if flags & 0x03:
        rejects = (
            "the two reserved low bits of the constraint-flags byte are set; Chromium rejects the string"
        )
    if level not in AVC_LEVELS:
        notes.append(f"level_idc {level} is not an H.264 level (Table A-1)")
    return AvcCodec(
        raw=raw,
        fourcc=fourcc,
        family="avc",
        kind="video",
        notes=tuple(notes),
        chromium_rejects=rejects,
        profile_idc=prof,
        constraint_flags=flags,
        level_idc=level,
    )


def _hevc(raw: str, fourcc: str, rest: list[str]) -> HevcCodec:
    if len(rest) < 3:
        raise CodecError(
            raw,
            f"expected {fourcc}.[A|B|C]<profile_idc>.<compatibility flags hex>.<L|H><level>"
            "[.<constraint byte>]*",
        )
    if len(rest) > 9:
        raise CodecError(raw, f"at most 6 constraint bytes may follow the level ({len(rest) - 3} given)")
    prof = rest[0]
    space = 0
    if prof[:1] in ("A", "B", "C"):
        space = "ABC".index(prof[0]) + 1
        prof = prof[1:]
    if not _DEC.fullmatch(prof):
        raise CodecError(raw, f"general_profile_idc '{rest[0]}' must be decimal, optionally prefixed A/B/C")
    profile_idc = int(prof)
    if profile_idc > 31:
        raise CodecError(raw, f"general_profile_idc {profile_idc} exceeds 31 (a 5-bit field)")
    compat = rest[1]
    if not _HEX.fullmatch(compat) or len(compat) > 8:
        raise CodecError(raw, f"profile compatibility flags '{compat}' must be at most 8 hex digits")
    reversed_flags = int(compat, 16)
    flags = int(f"{reversed_flags:032b}"[::-1], 2)
    tl = rest[2]
    if not tl or tl[0] not in "LH":
        raise CodecError(raw, f"'{tl}' must start with the tier letter L (Main) or H (High) before the level")
    if not _DEC.fullmatch(tl[1:]):
        raise CodecError(raw, f"general_level_idc in '{tl}' must be decimal")
    level = int(tl[1:])
    if level > 255:
        raise CodecError(raw, f"general_level_idc {level} exceeds 255")
    cbytes: list[int] = []
    for b in rest[3:]:
        if not _HEX.fullmatch(b) or len(b) > 2:
            raise CodecError(raw, f"constraint byte '{b}' must be 1-2 hex digits")
        cbytes.append(int(b, 16))
    cbytes += [0] * (6 - len(cbytes))
    notes: list[str] = []
    if profile_idc == 0 and flags == 0:
        notes.append("neither general_profile_idc nor a compatibility flag names a profile")
    return HevcCodec(
        raw=raw,
        fourcc=fourcc,
        family="hevc",
        kind="video",
        notes=tuple(notes),
        general_profile_space=space,
        general_profile_idc=profile_idc,
        general_profile_compatibility_flags=flags,
        general_tier_flag=1 if tl[0] == "H" else 0,
        general_level_idc=level,
        constraint_bytes=tuple(cbytes),
    )


def _digits(raw: str, value: str, width: int, what: str) -> int:
    if len(value) != width or not _DEC.fullmatch(value):
        raise CodecError(
            raw, f"{what} '{value}' must be exactly {width} decimal digit{'s' if width > 1 else ''}"
        )
    return int(value)


def _av1(raw: str, fourcc: str, rest: list[str]) -> Av1Codec:
    if len(rest) < 3:
        raise CodecError(raw, "expected av01.P.LLT.DD (profile, level+tier, bit depth) at least")
    if len(rest) > 9:
        raise CodecError(raw, "too many elements (av01.P.LLT.DD.M.CCC.cp.tc.mc.F has at most 10)")
    profile = _digits(raw, rest[0], 1, "seq_profile")
    if profile > 2:
        raise CodecError(raw, f"seq_profile {profile} is not 0 (Main), 1 (High) or 2 (Professional)")
    lt = rest[1]
    if len(lt) != 3 or lt[2] not in "MH":
        raise CodecError(raw, f"'{lt}' must be a 2-digit seq_level_idx followed by the tier M or H")
    level = _digits(raw, lt[:2], 2, "seq_level_idx")
    if level > 31:
        raise CodecError(raw, f"seq_level_idx {level} exceeds 31")
    depth = _digits(raw, rest[2], 2, "bit depth")
    if depth not in (8, 10, 12):
        raise CodecError(raw, f"bit depth {depth} is not 08, 10 or 12")
    opt = rest[3:]
    notes: list[str] = []
    if opt and len(opt) != 6:
        notes.append(
            "the optional fields .M.CCC.cp.tc.mc.F are all-or-none; Chromium accepts a partial tail, "
            "other parsers may not"
        )
    vals: dict[str, object] = {}
    if len(opt) >= 1:
        mono = _digits(raw, opt[0], 1, "monochrome")
        if mono > 1:
            raise CodecError(raw, f"monochrome {mono} is not 0 or 1")
        if mono and profile == 1:
            raise CodecError(raw, "the High profile (1) has no monochrome mode")
        vals["monochrome"] = mono
    if len(opt) >= 2:
        ccc = opt[1]
        if len(ccc) != 3 or not _DEC.fullmatch(ccc) or ccc[0] > "1" or ccc[1] > "1" or ccc[2] > "3":
            raise CodecError(
                raw, f"chroma subsampling '{ccc}' must be 3 digits: x (0/1), y (0/1), position (0-3)"
            )
        vals["chroma_subsampling"] = ccc
    for i, name in enumerate(("color_primaries", "transfer_characteristics", "matrix_coefficients"), start=2):
        if len(opt) > i:
            vals[name] = _digits(raw, opt[i], 2, name)
    if len(opt) >= 6:
        fr = _digits(raw, opt[5], 1, "video_full_range_flag")
        if fr > 1:
            raise CodecError(raw, f"video_full_range_flag {fr} is not 0 or 1")
        vals["video_full_range_flag"] = fr
    return Av1Codec(
        raw=raw,
        fourcc=fourcc,
        family="av1",
        kind="video",
        notes=tuple(notes),
        seq_profile=profile,
        seq_level_idx=level,
        seq_tier=1 if lt[2] == "H" else 0,
        bit_depth=depth,
        **vals,  # type: ignore[arg-type]
    )


def _vpx(raw: str, fourcc: str, rest: list[str]) -> VpxCodec:
    family = "vp9" if fourcc in ("vp09", "vp9") else "vp8"
    if fourcc in ("vp8", "vp9"):
        if rest and rest != ["0"]:
            raise CodecError(
                raw, f"the legacy id is '{fourcc}' or '{fourcc}.0'; use vp09.PP.LL.DD for parameters"
            )
        notes = (
            f"legacy '{fourcc}' carries no profile/level; prefer vp0{fourcc[-1]}.PP.LL.DD "
            "(WebM byte stream spec)",
        )
        return VpxCodec(raw=raw, fourcc=fourcc, family=family, kind="video", notes=notes, legacy=True)
    if len(rest) < 3:
        raise CodecError(raw, f"expected {fourcc}.PP.LL.DD (profile, level, bit depth) at least")
    if len(rest) > 8:
        raise CodecError(raw, f"too many elements ({fourcc}.PP.LL.DD.CC.cp.tc.mc.FF has at most 9)")
    notes_l: list[str] = []
    names = (
        "profile",
        "level",
        "bit depth",
        "chroma subsampling",
        "colour primaries",
        "transfer characteristics",
        "matrix coefficients",
        "video full range flag",
    )
    vals: list[int] = []
    for name, v in zip(names, rest, strict=False):
        if not _DEC.fullmatch(v):
            raise CodecError(raw, f"{name} '{v}' must be decimal digits")
        if len(v) != 2:
            notes_l.append(f"{name} '{v}' should be written with 2 digits")
        vals.append(int(v))
    profile, level, depth = vals[0], vals[1], vals[2]
    if profile > 3:
        raise CodecError(raw, f"profile {profile} is not 00-03")
    if fourcc == "vp09" and level not in VP9_LEVELS:
        raise CodecError(
            raw, f"level {level} is not a VP9 level ({', '.join(f'{x:02d}' for x in sorted(VP9_LEVELS))})"
        )
    if depth not in (8, 10, 12):
        raise CodecError(raw, f"bit depth {depth} is not 08, 10 or 12")
    if len(vals) > 3 and vals[3] > 3:
        raise CodecError(raw, f"chroma subsampling {vals[3]} is not 00-03")
    if len(vals) > 7 and vals[7] > 1:
        raise CodecError(raw, f"video full range flag {vals[7]} is not 00 or 01")
    if profile in (0, 2) and len(vals) > 3 and vals[3] > 1:
        notes_l.append(
            f"profile {profile} is 4:2:0 only; chroma subsampling {vals[3]:02d} needs profile 1 or 3 "
            "(Chromium silently treats it as 4:2:0)"
        )
    if profile in (0, 1) and depth != 8:
        notes_l.append(f"profile {profile} is 8-bit only; {depth}-bit needs profile 2 or 3")
    opt: list[int | None] = [*vals[3:], *([None] * (8 - len(vals)))]
    return VpxCodec(
        raw=raw,
        fourcc=fourcc,
        family=family,
        kind="video",
        notes=tuple(notes_l),
        profile=profile,
        level=level,
        bit_depth=depth,
        chroma_subsampling=opt[0],
        colour_primaries=opt[1],
        transfer_characteristics=opt[2],
        matrix_coefficients=opt[3],
        video_full_range_flag=opt[4],
    )


def _mp4a(raw: str, rest: list[str]) -> Mp4aCodec:
    if not rest:
        return Mp4aCodec(
            raw=raw,
            fourcc="mp4a",
            family="aac",
            kind="audio",
            notes=("bare 'mp4a' names no object type",),
            chromium_rejects="Chromium's MSE parser factory needs mp4a.40.<object type>, not a bare 'mp4a'",
        )
    if len(rest) > 2:
        raise CodecError(raw, "expected mp4a.OO or mp4a.40.AOT")
    oti_s = rest[0]
    if len(oti_s) != 2 or not _HEX.fullmatch(oti_s):
        raise CodecError(raw, f"objectTypeIndication '{oti_s}' must be 2 hex digits")
    oti = int(oti_s, 16)
    notes: list[str] = []
    rejects: str | None = None
    if oti_s != oti_s.upper():
        notes.append(
            f"write the objectTypeIndication in upper case (mp4a.{oti_s.upper()}); some UAs match it exactly"
        )
    aot: int | None = None
    if oti == 0x40:
        if len(rest) != 2:
            raise CodecError(
                raw, "mp4a.40 needs the Audio Object Type: mp4a.40.<AOT>, e.g. mp4a.40.2 for AAC-LC"
            )
        if not _DEC.fullmatch(rest[1]):
            raise CodecError(raw, f"Audio Object Type '{rest[1]}' must be decimal")
        aot = int(rest[1])
        if rest[1].startswith("0") and len(rest[1]) > 1:
            notes.append(f"leading zero in the object type: write mp4a.40.{aot}")
        if aot == 0 or aot > 45:
            raise CodecError(raw, f"Audio Object Type {aot} does not exist")
        if aot not in (2, 5, 29, 42):
            rejects = (
                f"Chromium's MSE accepts only Audio Object Types 2, 5, 29 and 42 in mp4a.40.x, not {aot}"
            )
        family = "aac" if aot in AAC_AOTS else ("mp3" if aot in MPEG_LAYER_AOTS else f"mpeg4audio-{aot}")
    else:
        if len(rest) != 1:
            raise CodecError(
                raw, f"only mp4a.40 takes an Audio Object Type element; mp4a.{oti_s} stands alone"
            )
        if oti not in OTI_FAMILIES:
            raise CodecError(raw, f"objectTypeIndication 0x{oti:02X} is not an audio object type")
        family = OTI_FAMILIES[oti]
        if oti in (0x66, 0x68):
            rejects = f"Chromium's MSE does not accept mp4a.{oti_s} (only mp4a.40.x and mp4a.67 for AAC)"
    return Mp4aCodec(
        raw=raw,
        fourcc="mp4a",
        family=family,
        kind="audio",
        notes=tuple(notes),
        chromium_rejects=rejects,
        object_type_indication=oti,
        audio_object_type=aot,
    )


def parse_codec(text: str) -> Codec:
    """Parse one element of a ``codecs`` parameter; raises :class:`CodecError` when it is malformed.

    Unknown identifiers are not an error here (a UA decides what it supports): they parse to a plain
    :class:`Codec` whose family is the identifier itself and whose kind is "other".
    """
    if "Codec" not in globals():
        _load_values()
    raw = text.strip()
    if not raw:
        raise CodecError(text, "empty codec string")
    if any(c.isspace() for c in raw) or '"' in raw or "," in raw:
        raise CodecError(raw, "a codec string has no spaces, quotes or commas (list codecs separately)")
    parts = raw.split(".")
    fourcc, rest = parts[0], parts[1:]
    if any(p == "" for p in rest) or not fourcc:
        raise CodecError(raw, "empty element between dots")
    if fourcc in ("avc1", "avc3", "avc2", "avc4"):
        return _avc(raw, fourcc, rest)
    if fourcc in ("hvc1", "hev1", "hvc2", "hev2"):
        return _hevc(raw, fourcc, rest)
    if fourcc == "av01":
        return _av1(raw, fourcc, rest)
    if fourcc in ("vp09", "vp08", "vp9", "vp8"):
        return _vpx(raw, fourcc, rest)
    if fourcc == "mp4a":
        return _mp4a(raw, rest)
    if raw in SIMPLE:
        fam, kind, note = SIMPLE[raw]
        return Codec(raw=raw, fourcc=raw, family=fam, kind=kind, notes=(note,) if note else ())
    if fourcc in PREFIXED:
        fam, kind = PREFIXED[fourcc]
        return Codec(raw=raw, fourcc=fourcc, family=fam, kind=kind)
    lowered = fourcc.lower()
    for known in (
        "avc1",
        "avc3",
        "hvc1",
        "hev1",
        "av01",
        "vp09",
        "mp4a",
        "opus",
        "flac",
        "vorbis",
        "vp8",
        "vp9",
    ):
        if lowered == known:
            raise CodecError(raw, f"'{fourcc}' is case-sensitive: write '{known}'")
    return Codec(
        raw=raw,
        fourcc=fourcc,
        family=fourcc,
        kind="other",
        notes=(f"'{fourcc}' is not a codec identifier msetool knows",),
    )


def split_codecs(value: str) -> list[str]:
    """Split a ``codecs`` parameter value (quotes optional) into elements; empty elements raise."""
    v = value.strip()
    if v.count('"') % 2:
        raise CodecError(value, "unbalanced quotes in the codecs parameter")
    v = v.replace('"', "")
    items = [c.strip() for c in v.split(",")]
    if any(not c for c in items):
        raise CodecError(value, "empty element in the codecs list")
    return items


def parse_codecs(value: str | list[str] | tuple[str, ...]) -> list[Codec]:
    """Parse a whole ``codecs`` parameter (a string ``"a,b"`` or already split elements)."""
    items = split_codecs(value) if isinstance(value, str) else [str(x) for x in value]
    return [parse_codec(c) for c in items]


def codec_family(text: str) -> str:
    """The family ("avc", "hevc", "av1", "vp9", "vp8", "aac", "mp3", "opus", "flac", "ac3", "eac3", "vorbis",
    ...) a codec string names, which is what Chromium compares with the content.

    Lenient on purpose: a malformed parameter tail still names its family (``avc1.XYZ`` is "avc"); only a
    string with no recognisable identifier at all raises :class:`CodecError`.
    """
    try:
        return parse_codec(text).family
    except CodecError:
        raw = text.strip()
        parts = raw.split(".")
        fourcc = parts[0]
        if fourcc in ("avc1", "avc3", "avc2", "avc4"):
            return "avc"
        if fourcc in ("hvc1", "hev1", "hvc2", "hev2"):
            return "hevc"
        if fourcc == "av01":
            return "av1"
        if fourcc in ("vp09", "vp9"):
            return "vp9"
        if fourcc in ("vp08", "vp8"):
            return "vp8"
        if fourcc == "mp4a" and len(parts) > 1:
            try:
                return OTI_FAMILIES.get(int(parts[1], 16), "aac")
            except ValueError:
                return "aac"
        if fourcc == "mp4a":
            return "aac"
        raise


def describe(text: str) -> str:
    """A human description ("H.264 High@3.1", "HE-AAC (SBR)"); the raw string plus the reason if malformed."""
    try:
        return parse_codec(text).description
    except CodecError as e:
        return f"{text.strip()} (malformed: {e.reason})"


def parse_codecs_lenient(value: str | list[str] | tuple[str, ...]) -> CodecList:
    """Parse every element, collecting errors instead of stopping at the first (for validate reports)."""
    if "CodecList" not in globals():
        _load_values()
    out = CodecList()
    try:
        items = split_codecs(value) if isinstance(value, str) else [str(x) for x in value]
    except CodecError as e:
        out.errors.append(e)
        return out
    for c in items:
        try:
            out.codecs.append(parse_codec(c))
        except CodecError as e:
            out.errors.append(e)
    return out


__all__ = [  # the typed values are re-exported from msetool.codecs.values (defined on first use)
    "AAC_AOT_NAMES",
    "AV1_PROFILES",
    "AVC_PROFILES",
    "Av1Codec",
    "AvcCodec",
    "Codec",
    "CodecError",
    "CodecList",
    "HevcCodec",
    "Mp4aCodec",
    "VpxCodec",
    "avc_level_name",
    "codec_family",
    "describe",
    "parse_codec",
    "parse_codecs",
    "parse_codecs_lenient",
    "split_codecs",
]
