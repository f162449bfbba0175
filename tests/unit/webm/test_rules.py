"""WEBM-* rules through the validate engine: errors exactly where the browser's append fails."""

from __future__ import annotations

from pathlib import Path

from msetool.rules.catalog import RULES
from msetool.rules.engine import validate_stream
from msetool.rules.findings import Finding, Severity
from msetool.source import BytesSource
from tests.unit.webm import builder as B

VIDEO = B.Track(1, 1, "V_VP9")
#: VP9 payloads libvpx accepts the header of (a block of zeros is a frame Chromium fails to decode)
VP9_KEY = b"\x82\x49\x83\x42" + b"\0" * 4
VP9_INTER = b"\x86" + b"\0" * 7
OPUS = B.Track(2, 2, "A_OPUS")


def check(parts: list[bytes], mime: str = 'video/webm; codecs="vp9,opus"') -> list[Finding]:
    srcs = [BytesSource(p, f"part{i}.webm") for i, p in enumerate(parts)]
    return validate_stream(srcs, mime).findings


def errors(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == Severity.ERROR]


def test_rules_registered_with_titles() -> None:
    import msetool.rules.webm  # noqa: F401

    for rid in ("WEBM-INIT-03", "WEBM-MEDIA-03", "WEBM-MEDIA-04", "WEBM-MEDIA-08", "WEBM-MEDIA-09",
                "WEBM-EBML-01", "WEBM-MIME-01"):
        assert RULES[rid].title and RULES[rid].browser


def test_clean_stream_has_no_errors(vp9_opus: Path) -> None:
    data = vp9_opus.read_bytes()
    findings = check([data])
    assert errors(findings) == []
    assert "WEBM-INIT-06" in {f.rule for f in findings}  # the Info duration is reported as info


def test_ffmpeg_out_of_order_blocks_are_an_error_at_the_block(ffmpeg_vp9_opus: Path) -> None:
    findings = errors(check([ffmpeg_vp9_opus.read_bytes()]))
    assert [f.rule for f in findings][:1] in ([], ["WEBM-MEDIA-04"])
    for f in findings:
        assert f.offset is not None and "SimpleBlock" in f.box


def test_cluster_before_init_points_at_the_first_file() -> None:
    init = B.init_segment([VIDEO, OPUS])
    cluster = B.Cluster(0, [B.simple_block(1, 0, VP9_KEY), B.simple_block(2, 0, B.OPUS_20MS)]).bytes()
    findings = errors(check([cluster, init]))
    assert findings and findings[0].rule == "WEBM-INIT-03" and findings[0].file == "part0.webm"
    assert findings[0].offset == 0


def test_block_errors_and_their_files() -> None:
    init = B.init_segment([VIDEO, OPUS])
    good = B.Cluster(0, [B.simple_block(1, 0, VP9_KEY), B.simple_block(2, 0, B.OPUS_20MS)]).bytes()
    bad = B.Cluster(40, [B.simple_block(1, 0, VP9_KEY), B.simple_block(7, 1)]).bytes()
    findings = errors(check([init, good, bad]))
    assert [(f.rule, f.file) for f in findings] == [("WEBM-MEDIA-08", "part2.webm")]


def test_missing_duration_and_missing_track_are_warnings() -> None:
    init = B.init_segment([VIDEO, OPUS])
    blocks = [B.simple_block(1, 0, VP9_KEY), B.simple_block(1, 33, VP9_INTER, key=False)]
    cluster = B.Cluster(0, blocks).bytes()
    findings = check([init, cluster])
    assert errors(findings) == []
    rules = {f.rule for f in findings}
    assert {"WEBM-MEDIA-09", "WEBM-MEDIA-05"} <= rules
    with_duration = B.Cluster(0, [B.simple_block(1, 0, VP9_KEY),
                                  B.block_group(1, 33, VP9_INTER, duration=33, reference=-33),
                                  B.simple_block(2, 0, B.OPUS_20MS)]).bytes()
    rules = {f.rule for f in check([init, with_duration])}
    assert "WEBM-MEDIA-09" not in rules and "WEBM-MEDIA-05" not in rules


def test_cluster_starting_without_keyframe_warns() -> None:
    init = B.init_segment([B.Track(1, 1, "V_VP9", default_duration=33_333_333)])
    cluster = B.Cluster(0, [B.simple_block(1, 0, VP9_INTER, key=False)]).bytes()
    findings = check([init, cluster], 'video/webm; codecs="vp9"')
    assert "WEBM-RAP-01" in {f.rule for f in findings} and errors(findings) == []
    # In a BlockGroup the keyframe is the absence of ReferenceBlock, wherever it sits in the group.
    ref_first = B.el(0xA0, B.el(0xFB, b"\xdf") + B.el(0xA1, B.block_bytes(1, 0, 0, b"\0" * 4)))
    findings = check([init, B.Cluster(0, [ref_first]).bytes()], 'video/webm; codecs="vp9"')
    assert "WEBM-RAP-01" in {f.rule for f in findings}
    findings = check([init, B.Cluster(0, [B.block_group(1, 0, VP9_KEY)]).bytes()], 'video/webm; codecs="vp9"')
    assert "WEBM-RAP-01" not in {f.rule for f in findings}


def test_mime_codecs() -> None:
    init = B.init_segment([OPUS])
    rules = {(f.rule, f.severity) for f in check([init], 'audio/webm; codecs="vp9,opus"')}
    assert ("WEBM-MIME-01", Severity.ERROR) in rules
    rules = {(f.rule, f.severity) for f in check([init], 'video/webm; codecs="vp9,opus"')}
    assert ("WEBM-MIME-02", Severity.WARNING) in rules and ("WEBM-MIME-01", Severity.ERROR) not in rules
    assert not {f.rule for f in check([init], 'audio/webm; codecs="opus"')} & {"WEBM-MIME-01",
                                                                                "WEBM-MIME-02"}


def test_tolerated_spec_violations_are_not_errors() -> None:
    """Chromium accepts these, so validate must not predict an append failure."""
    no_ebml = B.init_segment([VIDEO], ebml=False)
    cluster = B.Cluster(0, [B.simple_block(1, 0, VP9_KEY)]).bytes()
    findings = check([no_ebml, cluster], 'video/webm; codecs="vp9"')
    assert errors(findings) == [] and "WEBM-INIT-01" in {f.rule for f in findings}
    small_segment = B.init_segment([VIDEO], segment_size=10)
    findings = check([small_segment, cluster], 'video/webm; codecs="vp9"')
    assert errors(findings) == [] and "WEBM-INIT-02" in {f.rule for f in findings}


def test_opus_head_channel_mismatch_is_an_error_on_the_init_file() -> None:
    head = b"OpusHead\x01\x01\x38\x01\x80\xbb\0\0\0\0\0"
    init = B.init_segment([B.Track(2, 2, "A_OPUS", codec_private=head, channels=2)])
    cluster = B.Cluster(0, [B.simple_block(2, 0, B.OPUS_20MS)]).bytes()
    findings = errors(check([init, cluster], 'audio/webm; codecs="opus"'))
    assert [(f.rule, f.file) for f in findings] == [("WEBM-INIT-10", "part0.webm")]


def test_stream_ending_inside_the_init_segment_warns() -> None:
    init = B.init_segment([VIDEO])
    findings = check([init[:-5]], 'video/webm; codecs="vp9"')
    assert errors(findings) == [] and "WEBM-EBML-04" in {f.rule for f in findings}
