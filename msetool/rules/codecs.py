"""The declared type against the content: the ``codecs`` parameter vs the tracks of each init segment.

A page states the codecs in ``addSourceBuffer(type)`` before any byte arrives. Two things can go wrong.
The string itself may be malformed or refused (addSourceBuffer throws, nothing plays). Or it may disagree
with the content: Chromium compares the codec *family* of every audio/video track with the families listed
and fails the append on any mismatch, a track missing from the list or a listed codec without a track
("Video stream codec X doesn't match SourceBuffer codecs", "Initialization segment misses expected X
track"). Profile, level or object-type differences within a family are not checked by browsers but mean the
page asked for one decoder configuration and feeds another (capability checks, SBR handling), so they are
warnings.

Works on the format-neutral model (``TrackInfo.codec`` holds the string derived from the content), so the
same rules serve MP4, WebM, MPEG-2 TS and MPEG audio.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from msetool.codecs.rfc6381 import CodecError, avc_level_name, parse_codec, split_codecs
from msetool.mime import MimeType
from msetool.model import TrackInfo
from msetool.rules.catalog import ensure_rule, finding
from msetool.rules.engine import InitRecord, StreamModel
from msetool.rules.findings import Finding, Severity

if TYPE_CHECKING:
    from msetool.codecs.rfc6381 import Codec

RFC = "RFC 6381 §3"
for _r in (
    (
        "CODEC-01",
        "error",
        "The codecs parameter is malformed",
        "addSourceBuffer()/changeType() throw NotSupportedError: the browser cannot tell what to decode.",
        f"{RFC}; ISO/IEC 14496-15 Annex E; AV1-ISOBMFF §5; VP-ISOBMFF codecs parameter",
    ),
    (
        "CODEC-02",
        "error",
        "Chromium refuses this codec string",
        "addSourceBuffer() throws NotSupportedError in Chromium although the grammar allows the string.",
        "Chromium media/base/mime_util_internal.cc, media/filters/stream_parser_factory.cc",
    ),
    (
        "CODEC-03",
        "warning",
        "The codec string is tolerated but not canonical",
        "Browsers accept it today; stricter parsers (other browsers, players, CDNs) may not.",
        RFC,
    ),
    (
        "BMFF-INIT-16",
        "error",
        "The tracks do not match the codecs of the SourceBuffer type",
        "Chromium: 'Video stream codec X doesn't match SourceBuffer codecs.' / 'Initialization segment "
        "misses expected X track.' (only the codec family is compared, one listed codec per track); the "
        "append of the init segment fails.",
        "Chromium media/filters/source_buffer_state.cc OnNewConfigs; media-source "
        "§sourcebuffer-init-segment-received step 5",
    ),
    (
        "BMFF-INIT-19",
        "warning",
        "The declared profile/level/object type differs from the content",
        "Browsers only compare codec families, so the append succeeds; but support was checked for the "
        "declared configuration, not the real one (a higher level may not decode; HE-AAC declared as "
        "AAC-LC may play at the wrong rate).",
        f"{RFC}; ISO/IEC 14496-15 Annex E",
    ),
    (
        "BMFF-MIME-03",
        "warning",
        "The type has no codecs parameter",
        "isTypeSupported() can only answer 'maybe'; the browser learns the codecs from the init segment, and "
        "a page cannot know in advance whether they decode.",
        "mse-byte-stream-format-isobmff §mime-parameters",
    ),
    (
        "MPA-MIME-01",
        "error",
        "audio/mpeg and audio/aac take no codecs parameter",
        "addSourceBuffer() throws NotSupportedError in Chromium.",
        "mse-byte-stream-format-mpeg-audio §mime-types",
    ),
):
    ensure_rule(*_r)


def _compare(declared: Codec, content: Codec) -> list[str]:
    """What the declared string claims that the content contradicts (same family assumed)."""
    from msetool.codecs.rfc6381 import Av1Codec, AvcCodec, HevcCodec, Mp4aCodec, VpxCodec

    out: list[str] = []
    if isinstance(declared, AvcCodec) and isinstance(content, AvcCodec):
        if declared.profile_idc is None or content.profile_idc is None:
            return out
        if declared.profile_idc != content.profile_idc or (
            (declared.constraint_flags or 0) != (content.constraint_flags or 0)
            and declared.profile_name != content.profile_name
        ):
            out.append(f"profile {declared.profile_name} declared, the stream is {content.profile_name}")
        if declared.level_idc != content.level_idc:
            lvl = avc_level_name(declared.level_idc, declared.constraint_flags, declared.profile_idc)
            out.append(f"level {lvl} declared, the stream is level {content.level_name}")
    elif isinstance(declared, HevcCodec) and isinstance(content, HevcCodec):
        if declared.general_profile_idc != content.general_profile_idc:
            out.append(f"profile {declared.profile_name} declared, the stream is {content.profile_name}")
        if declared.general_tier_flag != content.general_tier_flag:
            out.append("tier differs")
        if declared.general_level_idc != content.general_level_idc:
            out.append(f"level {declared.level_name} declared, the stream is level {content.level_name}")
    elif isinstance(declared, Av1Codec) and isinstance(content, Av1Codec):
        if declared.seq_profile != content.seq_profile:
            out.append(f"seq_profile {declared.seq_profile} declared, the stream is {content.seq_profile}")
        if declared.seq_level_idx != content.seq_level_idx:
            out.append(f"level {declared.level_name} declared, the stream is level {content.level_name}")
        if declared.seq_tier != content.seq_tier:
            out.append("tier differs")
        if declared.bit_depth != content.bit_depth:
            out.append(f"{declared.bit_depth}-bit declared, the stream is {content.bit_depth}-bit")
    elif isinstance(declared, VpxCodec) and isinstance(content, VpxCodec):
        if declared.legacy or content.legacy:
            return out
        if declared.profile != content.profile:
            out.append(f"profile {declared.profile} declared, the stream is profile {content.profile}")
        if declared.level != content.level and content.level not in (None, 0):
            out.append(f"level {declared.level} declared, the stream signals {content.level}")
        if declared.bit_depth != content.bit_depth:
            out.append(f"{declared.bit_depth}-bit declared, the stream is {content.bit_depth}-bit")
    elif isinstance(declared, Mp4aCodec) and isinstance(content, Mp4aCodec):
        if declared.object_type_indication != content.object_type_indication:
            out.append(f"{declared.description} declared, the esds says {content.description}")
        elif (
            declared.audio_object_type is not None
            and content.audio_object_type is not None
            and declared.audio_object_type != content.audio_object_type
        ):
            out.append(
                f"{declared.description} (mp4a.40.{declared.audio_object_type}) declared, the "
                f"AudioSpecificConfig says {content.description} (mp4a.40.{content.audio_object_type})"
            )
    return out


def _parse_content(track: TrackInfo) -> Codec | None:
    try:
        return parse_codec(track.codec)
    except CodecError:
        return None


def _family(track: TrackInfo) -> str:
    c = _parse_content(track)
    return c.family if c is not None else track.codec


def check_declared(mime: MimeType, *, file: str = "", offset: int | None = None) -> list[Finding]:
    """Findings about the declared type alone (malformed, refused or non-canonical codec strings)."""
    from msetool.codecs.rfc6381 import Mp4aCodec, VpxCodec

    out: list[Finding] = []
    essence = mime.essence
    raw_codecs = mime.params.get("codecs")
    if essence in ("audio/mpeg", "audio/aac", "audio/mp3"):
        if raw_codecs is not None:
            out.append(
                finding(
                    "MPA-MIME-01", f"'{essence}' was given codecs=\"{raw_codecs}\"", file=file, offset=offset
                )
            )
        return out
    if raw_codecs is None:
        out.append(
            finding(
                "BMFF-MIME-03",
                f"'{mime.raw or essence}' has no codecs parameter, e.g. "
                f'{essence}; codecs="..." (see `msetool codecs`)',
                file=file,
                offset=offset,
            )
        )
        return out
    try:
        items = split_codecs(raw_codecs)
    except CodecError as e:
        return [finding("CODEC-01", str(e), file=file, offset=offset)]
    for item in items:
        try:
            c = parse_codec(item)
        except CodecError as e:
            out.append(finding("CODEC-01", str(e), file=file, offset=offset))
            continue
        if c.chromium_rejects:
            # Which MPEG-4 audio object types Chromium's MSE accepts changed across versions (xHE-AAC, MP3 in
            # MP4): say so, but do not predict a failure.
            version_dependent = isinstance(c, Mp4aCodec) and c.object_type_indication is not None
            out.append(
                finding(
                    "CODEC-02",
                    f"'{item}': {c.chromium_rejects}",
                    file=file,
                    offset=offset,
                    severity=Severity.WARNING if version_dependent else None,
                )
            )
        for note in c.notes:
            if isinstance(c, VpxCodec) and c.legacy and essence.endswith("/webm"):
                continue  # the WebM rules own the legacy-id advice
            out.append(finding("CODEC-03", f"'{item}': {note}", file=file, offset=offset))
    return out


def _check_init(rec: InitRecord) -> list[Finding]:
    mime = rec.mime
    if mime is None or "codecs" not in mime.params:
        return []
    out: list[Finding] = []
    box = "moov" if rec.init.format == "mp4" else ""
    declared: list[Codec] = []
    for item in mime.codecs:
        try:
            declared.append(parse_codec(item))
        except CodecError:
            continue  # reported by check_declared
    if len(declared) != len(mime.codecs):
        return out  # the type itself is broken; comparing would only repeat it
    remaining = list(declared)
    for t in rec.init.tracks:
        if t.kind not in ("audio", "video") or not t.codec:
            continue  # no codec derivable: the parser reports what it could not read
        content = _parse_content(t)
        fam = _family(t)
        label = f"{t.kind} track {t.track_id} ({t.codec or t.coding_name or '?'})"
        match = next((d for d in remaining if d.family == fam), None)
        if match is None:
            listed = any(d.family == fam for d in declared)
            why = "is listed once but there are more such tracks" if listed else "is not listed"
            out.append(
                finding(
                    "BMFF-INIT-16",
                    f'{label}: its codec {why} in codecs="{",".join(mime.codecs)}"; declare {t.codec or fam}',
                    file=rec.file,
                    offset=rec.offset,
                    box=box,
                )
            )
            continue
        remaining.remove(match)
        if content is not None:
            diffs = _compare(match, content)
            if diffs:
                out.append(
                    finding(
                        "BMFF-INIT-19",
                        f"{label}: declared '{match.raw}' but " + "; ".join(diffs) + f" (use '{t.codec}')",
                        file=rec.file,
                        offset=rec.offset,
                        box=box,
                    )
                )
    for d in remaining:
        out.append(
            finding(
                "BMFF-INIT-16",
                f"codecs lists '{d.raw}' ({d.description}) but the initialization segment has no such track",
                file=rec.file,
                offset=rec.offset,
                box=box,
            )
        )
    return out


def check(model: StreamModel, declared: MimeType | None) -> list[Finding]:
    """Codec rules over every init segment of the stream, each against the type in force when it came."""
    out: list[Finding] = []
    for rec in model.inits:
        out.extend(_check_init(rec))
    return out
