"""Which ``addSourceBuffer()`` / ``changeType()`` types a UA supports.

``chromium``: the Debian Chromium 156 build the oracle ran (proprietary codecs on, no platform HEVC,
no AC-3/E-AC-3, no Dolby Vision, no xHE-AAC, MPEG-2 TS parser built in). Derived from
media/filters/stream_parser_factory.cc (the container -> codec pattern table) and media/base/mime_util
(which codec strings parse), checked against the oracle (fmp4_hevc_unsupported: addSourceBuffer of
``hvc1.1.6.L60.90`` throws NotSupportedError).

``spec``: a UA that supports every codec the byte stream format specs name for the container, as long
as the codec string is well formed (the spec leaves the codec list to the UA).

Blink relaxes the codecs requirement for addSourceBuffer()/changeType(): ``video/mp4`` without a
``codecs`` parameter is accepted there (isTypeSupported() would say false); the init segment's codecs are
then not checked against the type.
"""

from __future__ import annotations

from dataclasses import dataclass

from msetool.codecs.rfc6381 import CodecError, parse_codec
from msetool.errors import UsageError
from msetool.mime import parse_mime

#: MIME essence -> codec families a Chromium 156 Linux build accepts in it.
CHROMIUM: dict[str, frozenset[str]] = {
    "video/mp4": frozenset({"avc", "av1", "vp9", "aac", "mp3", "opus", "flac"}),
    "audio/mp4": frozenset({"aac", "mp3", "opus", "flac"}),
    "video/webm": frozenset({"vp8", "vp9", "av1", "vorbis", "opus"}),
    "audio/webm": frozenset({"vorbis", "opus"}),
    "video/mp2t": frozenset({"avc", "aac", "mp3"}),
    "audio/mpeg": frozenset({"mp3"}),
    "audio/aac": frozenset({"aac"}),
}

#: The registry's byte stream formats with the codecs their specs name.
SPEC: dict[str, frozenset[str]] = {
    "video/mp4": frozenset(
        {
            "avc",
            "hevc",
            "av1",
            "vp9",
            "aac",
            "mp3",
            "opus",
            "flac",
            "ac3",
            "eac3",
            "dolbyvision",
            "vvc",
            "alac",
            "ac4",
            "mpegh",
            "iamf",
            "dts",
            "webvtt",
            "ttml",
        }
    ),
    "audio/mp4": frozenset(
        {"aac", "mp3", "opus", "flac", "ac3", "eac3", "alac", "ac4", "mpegh", "iamf", "dts"}
    ),
    "video/webm": frozenset({"vp8", "vp9", "av1", "vorbis", "opus"}),
    "audio/webm": frozenset({"vorbis", "opus"}),
    "video/mp2t": frozenset({"avc", "hevc", "aac", "mp3", "ac3", "eac3"}),
    "audio/mp2t": frozenset({"aac", "mp3", "ac3", "eac3"}),
    "audio/mpeg": frozenset({"mp3"}),
    "audio/aac": frozenset({"aac"}),
}

#: Chromium refuses these AAC object types in MSE (xHE-AAC needs a platform decoder).
_CHROMIUM_AAC_AOTS = {2, 5, 29}


@dataclass(frozen=True, slots=True)
class Support:
    supported: bool
    reason: str = ""
    #: codec families listed in the type, in order (empty: no codecs parameter)
    families: tuple[str, ...] = ()


def check_type(text: str, profile: str = "chromium") -> Support:
    """Is ``text`` a type ``addSourceBuffer()`` accepts? Never raises."""
    try:
        mime = parse_mime(text)
    except UsageError as e:
        return Support(False, str(e))
    table = CHROMIUM if profile == "chromium" else SPEC
    allowed = table.get(mime.essence)
    if allowed is None:
        return Support(False, f"{mime.essence} is not a byte stream format this UA supports")
    families: list[str] = []
    for c in mime.codecs:
        try:
            codec = parse_codec(c)
        except CodecError as e:
            return Support(False, e.reason)
        fam = codec.family
        if fam not in allowed:
            return Support(False, f"codec {c!r} ({fam}) is not supported in {mime.essence}")
        if profile == "chromium":
            if codec.chromium_rejects:
                return Support(False, codec.chromium_rejects)
            aot = getattr(codec, "audio_object_type", None)
            if fam == "aac" and aot is not None and aot not in _CHROMIUM_AAC_AOTS:
                return Support(False, f"AAC object type {aot} is not supported by Chromium MSE")
        families.append(fam)
    return Support(True, "", tuple(families))


def is_type_supported(text: str, profile: str = "chromium") -> bool:
    """``MediaSource.isTypeSupported()``: like check_type but mp4/webm need a codecs parameter."""
    s = check_type(text, profile)
    if not s.supported:
        return False
    mime = parse_mime(text)
    return not (mime.subtype in ("mp4", "webm") and not mime.codecs)
