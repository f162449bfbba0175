"""Which ``addSourceBuffer()`` / ``changeType()`` types a UA supports.

``chromium``: the Debian Chromium 156 build the oracle ran (proprietary codecs on, no platform HEVC,
no AC-3/E-AC-3, no Dolby Vision, no xHE-AAC, MPEG-2 TS parser built in). Derived from
media/filters/stream_parser_factory.cc (the container -> codec pattern table) and media/base/mime_util
(which codec strings parse), checked against the oracle (fmp4_hevc_unsupported: addSourceBuffer of
``hvc1.1.6.L60.90`` throws NotSupportedError).

``spec``: a UA that supports every codec the byte stream format specs name for the container, as long
as the codec string is well formed (the spec leaves the codec list to the UA).

What Chromium 156's ``addSourceBuffer()`` does beyond the table, each seen in that build (headless, the
oracle's flags) and matching stream_parser_factory.cc:

- the container needs a non-empty ``codecs`` parameter for mp4, webm and mp2t (``video/mp4`` alone throws
  NotSupportedError, although the spec lets a UA accept it);
- ``audio/mpeg`` and ``audio/aac`` take no codecs (``audio/mpeg; codecs="mp3"`` throws);
- the type/subtype is matched case-sensitively (``VIDEO/MP4; codecs=...`` throws, while isTypeSupported()
  says true); parameter names are not (``CODECS=`` works);
- the legacy ids ``vp8``/``vp9`` (and ``vp8.0``/``vp9.0``) are WebM-only; MP4 needs ``vp09.PP.LL.DD``;
- MP3 (``mp4a.69``, ``mp4a.6B``, ``mp3``) is refused in MP4; in MPEG-2 TS ``mp4a.69``/``mp4a.6B`` are
  accepted and the bare ``mp3`` is not.
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
    if profile == "chromium":
        refusal = _chromium_container_refusal(text, mime.essence, mime.codecs)
        if refusal:
            return Support(False, refusal)
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
            refusal = codec.chromium_rejects or _chromium_codec_refusal(c, codec, mime.essence)
            if refusal:
                return Support(False, refusal)
        families.append(fam)
    return Support(True, "", tuple(families))


_NEEDS_CODECS = {"video/mp4", "audio/mp4", "video/webm", "audio/webm", "video/mp2t"}
_NO_CODECS = {"audio/mpeg", "audio/aac"}


def _chromium_container_refusal(text: str, essence: str, codecs: tuple[str, ...]) -> str:
    written = text.split(";", 1)[0].strip()
    if written != written.lower():
        return f"Chromium matches the MIME type case-sensitively: write {essence!r}, not {written!r}"
    if essence in _NEEDS_CODECS and not codecs:
        return f"Chromium's addSourceBuffer() needs a codecs parameter for {essence}"
    if essence in _NO_CODECS and codecs:
        return f"Chromium's addSourceBuffer() takes no codecs parameter for {essence}"
    return ""


def _chromium_codec_refusal(text: str, codec: object, essence: str) -> str:
    family = getattr(codec, "family", "")
    if getattr(codec, "legacy", False) and essence.endswith("/mp4"):
        return f"Chromium accepts the legacy id {text!r} only in WebM; MP4 needs vp09.PP.LL.DD"
    if getattr(codec, "legacy", False) and "." in text:
        return f"Chromium knows the legacy id as {text.split('.', maxsplit=1)[0]!r}, not {text!r}"
    if family == "mp3" and essence.endswith("/mp4"):
        return "Chromium 156 (this Linux build) does not support MP3 in MP4"
    if family == "mp3" and essence == "video/mp2t" and text.strip().lower() == "mp3":
        return "Chromium names MP3 in MPEG-2 TS mp4a.69 or mp4a.6B, not 'mp3'"
    aot = getattr(codec, "audio_object_type", None)
    if family == "aac" and aot is not None and aot not in _CHROMIUM_AAC_AOTS:
        return f"AAC object type {aot} is not supported by Chromium MSE"
    return ""


def is_type_supported(text: str, profile: str = "chromium") -> bool:
    """``MediaSource.isTypeSupported()``: more lenient than addSourceBuffer() in Chromium 156.

    It matches the type case-insensitively, accepts ``video/mp2t`` without codecs and the bare ``mp3``
    in TS (which addSourceBuffer() then refuses), and needs codecs only for mp4 and webm.
    """
    try:
        mime = parse_mime(text)
    except UsageError:
        return False
    if mime.subtype in ("mp4", "webm") and not mime.codecs:
        return False
    if profile == "chromium" and mime.essence == "video/mp2t":
        codecs = tuple("mp4a.69" if c.strip().lower() == "mp3" else c for c in mime.codecs)
        if not codecs:
            return True
        mime = parse_mime(f'{mime.essence}; codecs="{",".join(codecs)}"')
    return check_type(str(mime), profile).supported
