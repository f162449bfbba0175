"""ISO BMFF (fMP4) reading: box tree, segment model, and the MSE byte stream parser.

Stable API (rules, the simulator and the inspector build on it; additions only):

Tree (``msetool.bmff.tree``, ``msetool.bmff.reader``)
    ``iter_boxes(source, start=0, end=None, *, issues, max_depth=24, decode=True) -> Iterator[Box]``
        Top-level boxes of a :class:`~msetool.source.ByteSource`, one at a time, each with its decoded
        subtree. Holds one top-level box's bytes at a time and never reads ``mdat``/``free``/``skip``
        payloads, so memory stays constant on files of any size. Structural problems are appended to
        ``issues`` (a list you pass) as :class:`BoxIssue`; the walk never raises on bad bytes.
    ``read_boxes(source, ...) -> BoxTree`` (``.boxes``, ``.issues``, ``.first(type)``, ``.all(type)``)
    ``parse_bytes(data, *, base=0, issues=None) -> list[Box]`` for in-memory bytes.

    :class:`Box`: ``type`` (fourcc str), ``offset`` (absolute), ``size`` (declared; for size 0 the real
    extent), ``header_size``, ``path`` (``moof[3]/traf[0]/trun[0]``; see ``tree.INDEXED`` for which
    segments always carry an index), ``children``, ``fields`` (decoded payload, ISO field names:
    ``box.fields["base_media_decode_time"]`` or ``box.get(name)``), ``usertype`` (uuid), flags
    ``to_end``/``large``/``truncated``/``decoded``; helpers ``end``, ``payload_offset``, ``version``,
    ``flags``, ``child(t)``, ``all(t)``, ``find("trak/mdia/mdhd")``, ``find_all("traf/trun")``,
    ``walk()``, ``to_json()``.

    ``trun`` sample tables are columns: ``fields["sample_duration"|"sample_size"|"sample_flags"|
    "sample_composition_time_offset"]`` are lists (present only when the trun's flags carry them).

    :class:`BoxIssue`: ``kind`` (one of ``tree.ISSUE_KINDS``: truncated, size-too-small,
    overruns-parent, garbage, to-end, too-deep, too-large, invalid-field, trailing-bytes), ``offset``,
    ``path``, ``message``.

Segments (``msetool.bmff.segments``): the format-neutral model (:mod:`msetool.model`) from boxes.
    ``read_init(moov, ftyp=None) -> Mp4Init`` (``.init``: model.InitSegment; ``.tracks[track_ID]``:
    Mp4Track with ``info`` (model.TrackInfo), ``handler_type``, ``entries`` (sample entry boxes),
    ``codecs`` (codecs.derive.DerivedCodec per entry), ``trex`` (dict), ``edits`` (elst entries)).
    ``expand_fragment(moof, init, dialect="chromium"|"iso") -> Fragment`` (``.tables``: one SampleTable
    per traf with columns ``dts``, ``pts``, ``duration``, ``size``, ``offset``, ``keyframe``, ``flags``,
    ``run``; ``.problems``: (message, offset, path, rule) tuples; ``.to_media_segment()``).
    ``iter_segments(source, dialect="iso") -> Iterator[SegmentEvent]`` walks a whole source in constant
    memory (kind "init" | "fragment" | "problem"). Raises nothing on bad bytes: ``SegmentError`` only
    from ``read_init`` when a trak lacks tkhd/mdhd/hdlr/stsd.
Stream (``msetool.bmff.stream``): :class:`BmffStreamParser(mime=..., profile="chromium"|"spec")`, the
    sans-IO byte stream parser the simulator runs, modelled on Chromium's MP4 stream parser (see its
    module docstring for what is an append error and when frames are emitted). Rule ids it emits:
    ``msetool.bmff.rules.PARSER_RULE_IDS``.
Codec strings: ``msetool.codecs.derive.derive(sample_entry_box) -> DerivedCodec``.
"""

from __future__ import annotations

from msetool.bmff.reader import iter_boxes, parse_bytes, read_boxes
from msetool.bmff.tree import Box, BoxIssue, BoxTree

__all__ = ["Box", "BoxIssue", "BoxTree", "iter_boxes", "parse_bytes", "read_boxes"]
