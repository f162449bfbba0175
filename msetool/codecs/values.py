"""The typed values :mod:`msetool.codecs.rfc6381` parses codec strings into (import them from there).

Kept apart so that importing the parser module costs no dataclass creation: these classes are defined
when the first codec string is parsed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from msetool.codecs.rfc6381 import (
    _NAMES,
    AAC_AOT_NAMES,
    AV1_PROFILES,
    AVC_PROFILES,
    HEVC_PROFILES,
    OTI_NAMES,
    CodecError,
    avc_level_name,
)


@dataclass(frozen=True, slots=True)
class Codec:
    """Common part of every parsed codec string."""

    raw: str
    #: Sample entry / codec identifier as written ("avc1", "mp4a", "opus", "vp9").
    fourcc: str
    #: Codec family as compared by Chromium across string and content ("avc", "aac", "vp9", ...).
    family: str
    #: "video", "audio", "text" or "other".
    kind: str
    #: Tolerated oddities worth a warning (legacy forms, capitalisation, ambiguous bare 4CCs).
    notes: tuple[str, ...] = ()
    #: Why Chromium refuses this string although its grammar allows it (None: no known refusal).
    chromium_rejects: str | None = None

    @property
    def description(self) -> str:
        return _NAMES.get(self.family, self.fourcc)


@dataclass(frozen=True, slots=True)
class AvcCodec(Codec):
    """``avc1.PPCCLL`` / ``avc3.PPCCLL``: profile_idc, constraint-flags byte, level_idc (RFC 6381 §3.3)."""

    profile_idc: int | None = None
    constraint_flags: int | None = None
    level_idc: int | None = None

    @property
    def profile_name(self) -> str:
        if self.profile_idc is None:
            return "unknown profile"
        flags = self.constraint_flags or 0
        if self.profile_idc == 66 and flags & 0x40:
            return "Constrained Baseline"
        if self.profile_idc == 100 and flags & 0x0C == 0x0C:
            return "Constrained High"
        return AVC_PROFILES.get(self.profile_idc, f"profile {self.profile_idc}")

    @property
    def level_name(self) -> str:
        return avc_level_name(self.level_idc, self.constraint_flags, self.profile_idc)

    @property
    def description(self) -> str:
        if self.profile_idc is None:
            return "H.264 (profile and level unspecified)"
        return f"H.264 {self.profile_name}@{self.level_name}"


@dataclass(frozen=True, slots=True)
class HevcCodec(Codec):
    """``hvc1``/``hev1`` per ISO/IEC 14496-15 Annex E."""

    general_profile_space: int = 0
    general_profile_idc: int = 0
    #: general_profile_compatibility_flags in bitstream order (bit 31 = flag 0); the string writes them
    #: bit-reversed, this value is already un-reversed.
    general_profile_compatibility_flags: int = 0
    general_tier_flag: int = 0
    general_level_idc: int = 0
    #: The six constraint-indicator bytes (missing trailing bytes are zero).
    constraint_bytes: tuple[int, ...] = (0, 0, 0, 0, 0, 0)

    @property
    def profile_name(self) -> str:
        return HEVC_PROFILES.get(self.general_profile_idc, f"profile {self.general_profile_idc}")

    @property
    def level_name(self) -> str:
        lvl = self.general_level_idc / 30
        return f"{lvl:.1f}".rstrip("0").rstrip(".") if lvl != int(lvl) else f"{int(lvl)}"

    @property
    def description(self) -> str:
        tier = "High" if self.general_tier_flag else "Main"
        return f"H.265 {self.profile_name}@L{self.level_name} ({tier} tier)"


@dataclass(frozen=True, slots=True)
class Av1Codec(Codec):
    """``av01.P.LLT.DD[.M.CCC.cp.tc.mc.F]`` (AV1 Codec ISO Media File Format Binding, codecs parameter)."""

    seq_profile: int = 0
    seq_level_idx: int = 0
    seq_tier: int = 0
    bit_depth: int = 8
    monochrome: int | None = None
    chroma_subsampling: str | None = None
    color_primaries: int | None = None
    transfer_characteristics: int | None = None
    matrix_coefficients: int | None = None
    video_full_range_flag: int | None = None

    @property
    def level_name(self) -> str:
        if self.seq_level_idx == 31:
            return "max"
        return f"{2 + (self.seq_level_idx >> 2)}.{self.seq_level_idx & 3}"

    @property
    def description(self) -> str:
        prof = AV1_PROFILES.get(self.seq_profile, f"profile {self.seq_profile}")
        tier = "High" if self.seq_tier else "Main"
        return f"AV1 {prof}@{self.level_name} ({tier} tier, {self.bit_depth}-bit)"


@dataclass(frozen=True, slots=True)
class VpxCodec(Codec):
    """``vp09.PP.LL.DD[.CC.cp.tc.mc.FF]`` / ``vp08...`` (VP Codec ISO Media File Format Binding), or the
    legacy WebM ids ``vp8``, ``vp9`` (``legacy`` is True; no profile/level then)."""

    legacy: bool = False
    profile: int | None = None
    level: int | None = None
    bit_depth: int | None = None
    chroma_subsampling: int | None = None
    colour_primaries: int | None = None
    transfer_characteristics: int | None = None
    matrix_coefficients: int | None = None
    video_full_range_flag: int | None = None

    @property
    def description(self) -> str:
        name = "VP9" if self.family == "vp9" else "VP8"
        if self.profile is None:
            return name
        lvl = f"{(self.level or 0) // 10}.{(self.level or 0) % 10}"
        return f"{name} profile {self.profile}@{lvl} ({self.bit_depth}-bit)"


@dataclass(frozen=True, slots=True)
class Mp4aCodec(Codec):
    """``mp4a.OO[.A]``: objectTypeIndication (hex) and, for OTI 0x40 (MPEG-4 Audio), the Audio Object Type
    (decimal), RFC 6381 §3.3."""

    object_type_indication: int | None = None
    audio_object_type: int | None = None

    @property
    def description(self) -> str:
        if self.audio_object_type is not None:
            return AAC_AOT_NAMES.get(
                self.audio_object_type, f"MPEG-4 Audio object type {self.audio_object_type}"
            )
        if self.object_type_indication is not None:
            return OTI_NAMES.get(
                self.object_type_indication, f"objectTypeIndication 0x{self.object_type_indication:02X}"
            )
        return "MPEG-4 audio (object type unspecified)"


@dataclass(frozen=True, slots=True)
class CodecList:
    """A parsed ``codecs`` parameter: the values, plus per-element errors when parsed leniently."""

    codecs: list[Codec] = field(default_factory=list)
    errors: list[CodecError] = field(default_factory=list)
