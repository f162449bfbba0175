"""Rule ids the ISO BMFF stream parser raises (``ParseFailed.rule`` / ``ParseWarning.rule``).

Registered here, with the meaning the validate checker (msetool/rules/bmff.py) gives them, so simulate,
validate and explain name the same rule for the same failure. Ids follow the design checklist
(mse-rules.md §A.1); a module that registers an id first wins, later ones skip it.
"""

from __future__ import annotations

from msetool.rules.catalog import ensure_rule

ISO = "mse-byte-stream-format-isobmff"
CHR = "Chromium media/formats/mp4"
MSE = "media-source"
FAILS = ("Chromium's append fails (CHUNK_DEMUXER_ERROR_APPEND_FAILED): the SourceBuffer fires 'error' and "
         "the media element stops with a decode error.")

_PARSER_RULES: list[tuple[str, str, str, str, str]] = [
    ("GEN-11", "error", "A media segment before any initialization segment",
     "The append error algorithm runs; Chromium fails the append without a specific log line. " + FAILS,
     f"{MSE} §sourcebuffer-segment-parser-loop"),
    ("GEN-01", "error", "Two tracks of one initialization segment share a track_ID",
     "Chromium: 'Audio/Video track with track_id=N already present.' " + FAILS, f"{MSE} §track-description"),
    ("GEN-13", "error", "The initialization segment has no audio or video track",
     "The init segment cannot be used; the append fails.", f"{MSE} §sourcebuffer-init-segment-received"),
    ("BMFF-BOX-01", "error", "Bytes between boxes that do not start a box",
     "The parser reads them as a box header; Chromium rejects the type or size and the append fails.",
     f"{CHR}/box_reader.cc"),
    ("BMFF-BOX-02", "error", "A box size is smaller than its header or a child box overruns its parent",
     FAILS, f"{CHR}/box_reader.cc ScanChildren"),
    ("BMFF-BOX-03", "error", "A box payload inside moov or moof cannot be decoded",
     "The browser reads the same fields; a short or impossible payload makes its parser give up. " + FAILS,
     f"{CHR}/box_definitions.cc"),
    ("BMFF-INIT-04", "warning", "moov sample tables are not empty (stts/stsc/stco/stsz entries)",
     "The spec makes this an append error; Chromium ignores the tables, so the samples they describe "
     "are never buffered.", f"{ISO} §iso-init-segments"),
    ("BMFF-INIT-05", "error", "moov has no mvex: the file is not fragmented",
     "Chromium: 'Detected unfragmented MP4. Media Source Extensions require ISO BMFF moov to contain mvex "
     "to indicate that Movie Fragments are to be expected.' " + FAILS, f"{ISO} §iso-init-segments"),
    ("BMFF-INIT-06", "error", "A track has no trex, or its default_sample_description_index is 0",
     FAILS, f"{CHR}/mp4_stream_parser.cc ParseMoov"),
    ("BMFF-INIT-09", "error", "A top-level box type that a browser does not accept",
     "Chromium: 'Invalid top-level ISO BMFF box type'; " + FAILS, f"{CHR}/box_reader.cc IsValidTopLevelBox"),
    ("BMFF-INIT-10", "error", "A box with size 0 (extends to the end of the file), or larger than 2^31-1",
     "Chromium: 'ISO BMFF boxes that run to EOS are not supported'; " + FAILS,
     f"{CHR}/box_reader.cc ReadHeader"),
    ("BMFF-INIT-12", "error", "mvhd or mdhd timescale is 0",
     "Chromium: 'Movie header's timescale must not be 0'; " + FAILS, f"{CHR}/box_definitions.cc"),
    ("BMFF-INIT-13", "error", "The sample entry names a codec the browser cannot decode",
     "The init segment is rejected ('Unsupported VisualSampleEntry type', 'Unsupported audio format'); "
     + FAILS, f"{CHR}/mp4_stream_parser.cc ParseMoov"),
    ("BMFF-INIT-14", "error", "A sample entry lacks its configuration box, or the box is malformed",
     "The decoder configuration cannot be built (e.g. avc1 without avcC, Opus without dOps); " + FAILS,
     f"{CHR}/box_definitions.cc"),
    ("BMFF-INIT-15", "error", "The esds object type does not match the codecs of the SourceBuffer type",
     "Chromium: 'audio object type 0x.. does not match what is specified in the mimetype.' " + FAILS,
     f"{CHR}/mp4_stream_parser.cc ParseMoov"),
    ("BMFF-INIT-16", "error", "The tracks do not match the codecs of the SourceBuffer type",
     "Chromium: 'Video stream codec X doesn't match SourceBuffer codecs.' / 'Initialization segment misses "
     "expected X track.' (only the codec family is compared); " + FAILS,
     "Chromium media/filters/source_buffer_state.cc OnNewConfigs"),
    ("BMFF-INIT-17", "error", "An encrypted sample entry lacks sinf/frma/schm/tenc or uses an unknown scheme",
     FAILS, f"{CHR}/box_definitions.cc ProtectionSchemeInfo"),
    ("BMFF-INIT-20", "error", "Audio sample entry samplesize is not 8, 16, 24 or 32",
     "Chromium: 'Unsupported sample size.' " + FAILS, f"{CHR}/mp4_stream_parser.cc ParseMoov"),
    ("BMFF-INIT-21", "error", "A box that moov/trak requires is missing (mvhd, tkhd, mdia, mdhd, hdlr, stsd)",
     FAILS, f"{CHR}/box_definitions.cc"),
    ("BMFF-MEDIA-06", "warning", "moof has no traf",
     "The spec makes this an append error; Chromium accepts an empty fragment and buffers nothing.",
     f"{ISO} §iso-media-segments"),
    ("BMFF-MEDIA-07", "error", "moof does not use movie-fragment relative addressing",
     "Chromium: 'TFHD base-data-offset not allowed by MSE. See https://www.w3.org/TR/"
     "mse-byte-stream-format-isobmff/#movie-fragment-relative-addressing'; " + FAILS,
     f"{ISO} §movie-fragment-relative-addressing"),
    ("BMFF-MEDIA-10", "error", "traf has no tfdt",
     "Chromium requires tfdt ('Media Source specific: tfdt required'); " + FAILS,
     f"{ISO} §iso-media-segments"),
    ("BMFF-MEDIA-11", "error", "trun data lies outside the mdat that follows the moof",
     "The samples reference bytes that are not media data of this segment; the browser reads the wrong "
     "bytes or walks into the next segment ('Unexpected box type while parsing MDATs').",
     f"{ISO} §iso-media-segments"),
    ("BMFF-MEDIA-13", "error", "tfhd names a track_ID the initialization segment does not declare",
     "Chromium cannot find the trak/trex for the run; " + FAILS, f"{CHR}/track_run_iterator.cc Init"),
    ("BMFF-MEDIA-16", "error", "sample_depends_on uses the reserved value 3",
     "Chromium: 'Reserved value used in sample dependency info.'; " + FAILS, f"{CHR}/track_run_iterator.cc"),
    ("BMFF-MEDIA-17", "error", "A timestamp or duration is not representable",
     "Chromium: 'Frame PTS exceeds representable limit' and similar; " + FAILS,
     f"{CHR}/mp4_stream_parser.cc"),
    ("BMFF-MEDIA-19", "warning", "Samples of size 0",
     "Chromium skips them ('Skipping trun sample with size of 0'): they never reach the buffer.",
     f"{CHR}/mp4_stream_parser.cc EnqueueSample"),
    ("BMFF-MEDIA-21", "warning", "An H.264 sample's sync flag disagrees with its bitstream (IDR or not)",
     "Chromium trusts the bitstream and logs 'ISO-BMFF container metadata for video frame indicates that the "
     "frame is [not ]a keyframe, but the video frame contents indicate the opposite.'; other browsers trust "
     "the flag, so random access differs between browsers.", f"{CHR}/mp4_stream_parser.cc EnqueueSample"),
    ("BMFF-MEDIA-30", "error", "An H.264 sample's NAL unit lengths do not add up to the sample size",
     "Chromium cannot convert the sample ('Failed to prepare video sample for decode'); " + FAILS,
     f"{CHR}/avc.cc ConvertFrameToAnnexB"),
    ("BMFF-MEDIA-22", "error", "Sample encryption info does not cover every sample",
     "Chromium: 'Sample encryption info is not available.'; " + FAILS, f"{CHR}/track_run_iterator.cc"),
    ("BMFF-MEDIA-27", "error", "moof has no mfhd",
     "Chromium requires mfhd in every moof; " + FAILS, f"{CHR}/box_definitions.cc MovieFragment::Parse"),
]

for _id, _sev, _title, _browser, _spec in _PARSER_RULES:
    ensure_rule(_id, _sev, _title, _browser, _spec)

#: Every rule id :class:`msetool.bmff.stream.BmffStreamParser` may put in an event.
PARSER_RULE_IDS = tuple(r[0] for r in _PARSER_RULES)
