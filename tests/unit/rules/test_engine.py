"""The engine: streams across files, offsets mapped back to files, sniffing, capping, never raising."""

from __future__ import annotations

from msetool.mime import parse_mime
from msetool.rules.engine import (
    Reset,
    Slice,
    StreamSource,
    ValidateOptions,
    detect_mime,
    sniff_format,
    validate_stream,
)
from msetool.rules.findings import Severity
from msetool.source import BytesSource
from tests.unit.rules import fmp4

from .conftest import RunValidation


def test_stream_source_reads_across_slices_and_locates() -> None:
    a, b, c = BytesSource(b"0123456789", "a"), BytesSource(b"", "b"), BytesSource(b"abcdefghij", "c")
    s = StreamSource([Slice(a, 2, 6), Slice(b), Slice(c, 5)])
    assert s.size == 4 + 0 + 5
    assert s.read_at(0, 100) == b"2345fghij"
    assert s.read_at(3, 3) == b"5fg"
    assert s.locate(0) == (0, 2)
    assert s.locate(4) == (2, 5)  # boundary byte belongs to the next non-empty slice
    assert s.locate(8) == (2, 9)


def test_sniffing() -> None:
    assert sniff_format(fmp4.init()[:16]) == "mp4"
    assert sniff_format(b"\x1a\x45\xdf\xa3" + b"\0" * 8) == "webm"
    assert sniff_format(b"\x47" + b"\0" * 187 + b"\x47") == "mp2t"
    assert sniff_format(b"ID3\x04") == "mpeg"
    assert sniff_format(b"hello world") is None
    adts = detect_mime([BytesSource(b"\xff\xf1\x50\x80" + b"\0" * 8)])
    assert adts is not None and adts.essence == "audio/aac"


def test_format_detected_without_a_type(run: RunValidation) -> None:
    v = run([fmp4.init(), fmp4.fragment()], mime=None)
    assert v.format == "mp4"
    assert not [f for f in v.findings if f.severity == Severity.ERROR]


def test_unrecognised_bytes_give_one_finding(run: RunValidation) -> None:
    v = run([b"this is not media at all"], mime=None)
    assert [f.rule for f in v.findings] == ["GEN-DETECT-01"]
    assert v.findings[0].file == "part0.m4s"


def test_type_that_is_no_byte_stream_format(run: RunValidation) -> None:
    v = run([fmp4.init()], mime="video/x-matroska")
    assert "GEN-MIME-01" in {f.rule for f in v.findings}


def test_empty_input_is_info_only(run: RunValidation) -> None:
    v = run([fmp4.init(), b"", fmp4.fragment()])
    assert [(f.rule, f.file) for f in v.findings if f.severity != Severity.INFO] == []
    assert ("GEN-EMPTY-01", "part1.m4s") in {(f.rule, f.file) for f in v.findings}


def test_repeated_findings_are_capped_per_rule_and_file() -> None:
    parts = [fmp4.init()] + [fmp4.fragment(decode_time=None, sequence=i) for i in range(1, 9)]
    one_file = b"".join(parts)
    v = validate_stream(
        [BytesSource(one_file, "all.mp4")], 'video/mp4; codecs="avc1.4D400D"', ValidateOptions(max_per_rule=3)
    )
    tfdt = [f for f in v.findings if f.rule == "BMFF-MEDIA-10"]
    assert len(tfdt) == 4
    assert "and 5 more" in tfdt[-1].message
    offsets = [f.offset or 0 for f in v.findings]
    assert offsets == sorted(offsets)


def test_one_file_with_many_fragments_has_indexed_box_paths() -> None:
    data = fmp4.init() + b"".join(fmp4.fragment(decode_time=120 * i, sequence=i + 1) for i in range(3))
    data += fmp4.fragment(decode_time=None, sequence=9)
    v = validate_stream([BytesSource(data, "movie.mp4")], None)
    hit = next(f for f in v.findings if f.rule == "BMFF-MEDIA-10")
    assert hit.box.startswith("moof[3]")


def test_scenario_style_items_change_type_and_slices() -> None:
    init, seg = fmp4.init(), fmp4.fragment()
    src = BytesSource(init + seg, "whole.mp4")
    items = [
        Slice(src, 0, len(init), "whole.mp4"),
        Slice(src, len(init), None, "whole.mp4"),
        Reset("changeType", parse_mime('video/mp4; codecs="avc1.4D400D"')),
        Slice(BytesSource(seg, "again.m4s")),
    ]
    v = validate_stream(items, 'video/mp4; codecs="avc1.4D400D"')
    # after changeType an init segment must come first
    assert ("GEN-11", "again.m4s") in {(f.rule, f.file) for f in v.findings}
    assert not [f for f in v.findings if f.file == "whole.mp4" and f.severity == Severity.ERROR]


def test_parser_failure_restarts_at_the_next_file(run: RunValidation) -> None:
    bad = fmp4.fragment(track_id=9, sequence=2, decode_time=40)
    v = run([fmp4.init(), fmp4.fragment(), bad, fmp4.fragment(decode_time=None, sequence=3)])
    files = {f.file for f in v.findings if f.severity == Severity.ERROR}
    assert files == {"part2.m4s", "part3.m4s"}


def test_spec_profile_turns_tolerated_spec_violations_into_errors() -> None:
    from msetool.rules.engine import Slice as S

    parts = [fmp4.init([fmp4.trak(stts_entries=2)]), fmp4.fragment()]
    items = [S(BytesSource(p, f"p{i}")) for i, p in enumerate(parts)]
    chromium = validate_stream(items, None)
    spec = validate_stream(items, None, ValidateOptions(profile="spec"))
    assert {f.severity for f in chromium.findings if f.rule == "BMFF-INIT-04"} == {Severity.WARNING}
    assert Severity.ERROR in {f.severity for f in spec.findings if f.rule == "BMFF-INIT-04"}


def test_offsets_stay_right_after_abort(run: RunValidation) -> None:
    seg = fmp4.fragment()
    v = run([fmp4.init(), seg[:70], Reset("abort"), fmp4.fragment(decode_time=None, sequence=2)])
    hit = next(f for f in v.findings if f.rule == "BMFF-MEDIA-10")
    assert (hit.file, hit.offset) == ("part3.m4s", 24)


def test_dts_going_back_inside_one_parse_batch_fails_like_chromium() -> None:
    from msetool.model import CodedFrame
    from msetool.rules.engine import _dts_order, _OffsetMap
    from msetool.stream import FramesParsed, ParseFailed

    omap = _OffsetMap()
    omap.add(0, 1000)
    ok = FramesParsed(
        [
            CodedFrame(1, 0, 0, 10, 1000, True, 5, 10),
            CodedFrame(2, 0, 0, 10, 1000, True, 5, 20),
            CodedFrame(1, 10, 10, 10, 1000, False, 5, 30),
        ]
    )
    assert _dts_order([ok], omap) == [ok]
    bad = FramesParsed(
        [CodedFrame(1, 20, 20, 10, 1000, True, 5, 10), CodedFrame(1, 10, 10, 10, 1000, True, 5, 40)]
    )
    out = _dts_order([bad, ok], omap)
    assert isinstance(out[-1], ParseFailed) and out[-1].rule == "BMFF-MEDIA-26" and out[-1].offset == 40
    assert len(out) == 2


def test_a_parser_declaring_file_starts_learns_where_each_append_begins() -> None:
    from msetool.rules import engine
    from msetool.rules.engine import Slice, StreamSource, ValidateOptions
    from msetool.source import BytesSource
    from msetool.stream import parser_for

    parser = parser_for(engine.parse_mime("video/mp4"), "chromium")
    parser.file_starts = []  # type: ignore[attr-defined]
    parts = [b"\0\0\0\x10free" + b"x" * 8, b"", b"\0\0\0\x0cskip" + b"y" * 4]
    run = StreamSource([Slice(BytesSource(p, f"p{i}")) for i, p in enumerate(parts)])
    engine._run_parser(
        run,
        mime=engine.parse_mime("video/mp4"),
        options=ValidateOptions(),
        parser=parser,
        prime=b"",
        flush=True,
        fed=100,
    )
    assert parser.file_starts == [100, 116]  # type: ignore[attr-defined]
