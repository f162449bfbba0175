"""The WebM element table as data: id, name, value type and the parent it may appear in.

Names and IDs are the Matroska/WebM specification's (RFC 9559 and the WebM container guidelines); the
subset is what WebM allows plus the Matroska elements Chromium skips rather than rejects. Walkers use the
table for element paths, for knowing which elements are masters (to descend into) and which are leaves (to
skip or read), and to flag an element found under the wrong parent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ElementType = Literal["master", "uint", "int", "float", "string", "utf8", "date", "binary"]


@dataclass(frozen=True, slots=True)
class ElementSpec:
    id: int
    name: str
    type: ElementType
    #: Name of the parent element; "" for top level; "*" for global elements (Void, CRC-32).
    parent: str


_TABLE: tuple[tuple[int, str, ElementType, str], ...] = (
    # EBML header
    (0x1A45DFA3, "EBML", "master", ""),
    (0x4286, "EBMLVersion", "uint", "EBML"),
    (0x42F7, "EBMLReadVersion", "uint", "EBML"),
    (0x42F2, "EBMLMaxIDLength", "uint", "EBML"),
    (0x42F3, "EBMLMaxSizeLength", "uint", "EBML"),
    (0x4282, "DocType", "string", "EBML"),
    (0x4287, "DocTypeVersion", "uint", "EBML"),
    (0x4285, "DocTypeReadVersion", "uint", "EBML"),
    # Global
    (0xEC, "Void", "binary", "*"),
    (0xBF, "CRC-32", "binary", "*"),
    # Segment
    (0x18538067, "Segment", "master", ""),
    (0x114D9B74, "SeekHead", "master", "Segment"),
    (0x4DBB, "Seek", "master", "SeekHead"),
    (0x53AB, "SeekID", "binary", "Seek"),
    (0x53AC, "SeekPosition", "uint", "Seek"),
    (0x1549A966, "Info", "master", "Segment"),
    (0x73A4, "SegmentUUID", "binary", "Info"),
    (0x7384, "SegmentFilename", "utf8", "Info"),
    (0x3CB923, "PrevUUID", "binary", "Info"),
    (0x3C83AB, "PrevFilename", "utf8", "Info"),
    (0x3EB923, "NextUUID", "binary", "Info"),
    (0x3E83BB, "NextFilename", "utf8", "Info"),
    (0x4444, "SegmentFamily", "binary", "Info"),
    (0x6924, "ChapterTranslate", "master", "Info"),
    (0x2AD7B1, "TimestampScale", "uint", "Info"),
    (0x4489, "Duration", "float", "Info"),
    (0x4461, "DateUTC", "date", "Info"),
    (0x7BA9, "Title", "utf8", "Info"),
    (0x4D80, "MuxingApp", "utf8", "Info"),
    (0x5741, "WritingApp", "utf8", "Info"),
    # Cluster
    (0x1F43B675, "Cluster", "master", "Segment"),
    (0xE7, "Timestamp", "uint", "Cluster"),
    (0x5854, "SilentTracks", "master", "Cluster"),
    (0x58D7, "SilentTrackNumber", "uint", "SilentTracks"),
    (0xA7, "Position", "uint", "Cluster"),
    (0xAB, "PrevSize", "uint", "Cluster"),
    (0xA3, "SimpleBlock", "binary", "Cluster"),
    (0xA0, "BlockGroup", "master", "Cluster"),
    (0xA1, "Block", "binary", "BlockGroup"),
    (0x75A1, "BlockAdditions", "master", "BlockGroup"),
    (0xA6, "BlockMore", "master", "BlockAdditions"),
    (0xEE, "BlockAddID", "uint", "BlockMore"),
    (0xA5, "BlockAdditional", "binary", "BlockMore"),
    (0x9B, "BlockDuration", "uint", "BlockGroup"),
    (0xFA, "ReferencePriority", "uint", "BlockGroup"),
    (0xFB, "ReferenceBlock", "int", "BlockGroup"),
    (0xA4, "CodecState", "binary", "BlockGroup"),
    (0x75A2, "DiscardPadding", "int", "BlockGroup"),
    (0x8E, "Slices", "master", "BlockGroup"),
    (0xE8, "TimeSlice", "master", "Slices"),
    (0xCC, "LaceNumber", "uint", "TimeSlice"),
    (0xAF, "EncryptedBlock", "binary", "Cluster"),
    # Tracks
    (0x1654AE6B, "Tracks", "master", "Segment"),
    (0xAE, "TrackEntry", "master", "Tracks"),
    (0xD7, "TrackNumber", "uint", "TrackEntry"),
    (0x73C5, "TrackUID", "uint", "TrackEntry"),
    (0x83, "TrackType", "uint", "TrackEntry"),
    (0xB9, "FlagEnabled", "uint", "TrackEntry"),
    (0x88, "FlagDefault", "uint", "TrackEntry"),
    (0x55AA, "FlagForced", "uint", "TrackEntry"),
    (0x9C, "FlagLacing", "uint", "TrackEntry"),
    (0x6DE7, "MinCache", "uint", "TrackEntry"),
    (0x6DF8, "MaxCache", "uint", "TrackEntry"),
    (0x23E383, "DefaultDuration", "uint", "TrackEntry"),
    (0x23314F, "TrackTimestampScale", "float", "TrackEntry"),
    (0x55EE, "MaxBlockAdditionID", "uint", "TrackEntry"),
    (0x536E, "Name", "utf8", "TrackEntry"),
    (0x22B59C, "Language", "string", "TrackEntry"),
    (0x22B59D, "LanguageBCP47", "string", "TrackEntry"),
    (0x86, "CodecID", "string", "TrackEntry"),
    (0x63A2, "CodecPrivate", "binary", "TrackEntry"),
    (0x258688, "CodecName", "utf8", "TrackEntry"),
    (0x7446, "AttachmentLink", "uint", "TrackEntry"),
    (0xAA, "CodecDecodeAll", "uint", "TrackEntry"),
    (0x6FAB, "TrackOverlay", "uint", "TrackEntry"),
    (0x56AA, "CodecDelay", "uint", "TrackEntry"),
    (0x56BB, "SeekPreRoll", "uint", "TrackEntry"),
    (0x6624, "TrackTranslate", "master", "TrackEntry"),
    (0xE0, "Video", "master", "TrackEntry"),
    (0x9A, "FlagInterlaced", "uint", "Video"),
    (0x53B8, "StereoMode", "uint", "Video"),
    (0x53C0, "AlphaMode", "uint", "Video"),
    (0xB0, "PixelWidth", "uint", "Video"),
    (0xBA, "PixelHeight", "uint", "Video"),
    (0x54AA, "PixelCropBottom", "uint", "Video"),
    (0x54BB, "PixelCropTop", "uint", "Video"),
    (0x54CC, "PixelCropLeft", "uint", "Video"),
    (0x54DD, "PixelCropRight", "uint", "Video"),
    (0x54B0, "DisplayWidth", "uint", "Video"),
    (0x54BA, "DisplayHeight", "uint", "Video"),
    (0x54B2, "DisplayUnit", "uint", "Video"),
    (0x54B3, "AspectRatioType", "uint", "Video"),
    (0x2EB524, "UncompressedFourCC", "binary", "Video"),
    (0x2383E3, "FrameRate", "float", "Video"),
    (0x55B0, "Colour", "master", "Video"),
    (0x55B1, "MatrixCoefficients", "uint", "Colour"),
    (0x55B2, "BitsPerChannel", "uint", "Colour"),
    (0x55B3, "ChromaSubsamplingHorz", "uint", "Colour"),
    (0x55B4, "ChromaSubsamplingVert", "uint", "Colour"),
    (0x55B5, "CbSubsamplingHorz", "uint", "Colour"),
    (0x55B6, "CbSubsamplingVert", "uint", "Colour"),
    (0x55B7, "ChromaSitingHorz", "uint", "Colour"),
    (0x55B8, "ChromaSitingVert", "uint", "Colour"),
    (0x55B9, "Range", "uint", "Colour"),
    (0x55BA, "TransferCharacteristics", "uint", "Colour"),
    (0x55BB, "Primaries", "uint", "Colour"),
    (0x55BC, "MaxCLL", "uint", "Colour"),
    (0x55BD, "MaxFALL", "uint", "Colour"),
    (0x55D0, "MasteringMetadata", "master", "Colour"),
    (0x7670, "Projection", "master", "Video"),
    (0xE1, "Audio", "master", "TrackEntry"),
    (0xB5, "SamplingFrequency", "float", "Audio"),
    (0x78B5, "OutputSamplingFrequency", "float", "Audio"),
    (0x9F, "Channels", "uint", "Audio"),
    (0x6264, "BitDepth", "uint", "Audio"),
    (0xE2, "TrackOperation", "master", "TrackEntry"),
    (0x6D80, "ContentEncodings", "master", "TrackEntry"),
    (0x6240, "ContentEncoding", "master", "ContentEncodings"),
    (0x5031, "ContentEncodingOrder", "uint", "ContentEncoding"),
    (0x5032, "ContentEncodingScope", "uint", "ContentEncoding"),
    (0x5033, "ContentEncodingType", "uint", "ContentEncoding"),
    (0x5034, "ContentCompression", "master", "ContentEncoding"),
    (0x5035, "ContentEncryption", "master", "ContentEncoding"),
    (0x47E1, "ContentEncAlgo", "uint", "ContentEncryption"),
    (0x47E2, "ContentEncKeyID", "binary", "ContentEncryption"),
    (0x47E7, "ContentEncAESSettings", "master", "ContentEncryption"),
    (0x47E8, "AESSettingsCipherMode", "uint", "ContentEncAESSettings"),
    # Cues, Chapters, Tags, Attachments: skipped as wholes
    (0x1C53BB6B, "Cues", "master", "Segment"),
    (0xBB, "CuePoint", "master", "Cues"),
    (0x1043A770, "Chapters", "master", "Segment"),
    (0x1254C367, "Tags", "master", "Segment"),
    (0x1941A469, "Attachments", "master", "Segment"),
)

BY_ID: dict[int, ElementSpec] = {i: ElementSpec(i, n, t, p) for i, n, t, p in _TABLE}
ID: dict[str, int] = {n: i for i, n, _, _ in _TABLE}

# Frequently used IDs.
EBML = 0x1A45DFA3
SEGMENT = 0x18538067
SEEK_HEAD = 0x114D9B74
INFO = 0x1549A966
TRACKS = 0x1654AE6B
CLUSTER = 0x1F43B675
CUES = 0x1C53BB6B
CHAPTERS = 0x1043A770
TAGS = 0x1254C367
ATTACHMENTS = 0x1941A469
VOID = 0xEC
CRC32 = 0xBF
TIMECODE = 0xE7
SIMPLE_BLOCK = 0xA3
BLOCK_GROUP = 0xA0
BLOCK = 0xA1
BLOCK_DURATION = 0x9B
REFERENCE_BLOCK = 0xFB
DISCARD_PADDING = 0x75A2
BLOCK_ADDITIONS = 0x75A1
BLOCK_MORE = 0xA6
BLOCK_ADD_ID = 0xEE
BLOCK_ADDITIONAL = 0xA5
TRACK_ENTRY = 0xAE

#: Children of Segment: an unknown-size Cluster ends when one of these (or EBML/Segment) starts.
SEGMENT_CHILDREN = frozenset({SEEK_HEAD, INFO, CLUSTER, TRACKS, CUES, ATTACHMENTS, CHAPTERS, TAGS})

#: Top-level elements the WebM byte stream format lets appear between segments and ignores
#: (Chromium's webm_stream_parser.cc skips exactly these while looking for Info or a Cluster).
SKIPPABLE_TOP_LEVEL = frozenset({EBML, SEEK_HEAD, VOID, CRC32, CUES, CHAPTERS, TAGS, ATTACHMENTS})


def name_of(eid: int) -> str:
    spec = BY_ID.get(eid)
    return spec.name if spec else f"Unknown(0x{eid:X})"


def is_master(eid: int) -> bool:
    spec = BY_ID.get(eid)
    return spec is not None and spec.type == "master"


def allowed_in(eid: int, parent: str) -> bool:
    """True when ``eid`` may appear directly inside ``parent`` (unknown IDs: False)."""
    spec = BY_ID.get(eid)
    if spec is None:
        return False
    return spec.parent in ("*", parent)
