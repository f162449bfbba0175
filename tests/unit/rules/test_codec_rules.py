"""The declared codecs parameter against the content."""

from __future__ import annotations

from msetool.mime import parse_mime
from msetool.rules.codecs import check_declared
from msetool.rules.findings import Severity
from tests.unit.rules import fmp4

from .conftest import RunValidation

STREAM = [fmp4.init(), fmp4.fragment()]  # H.264 Main@1.3: avc1.4D400D


def rules(v: object) -> dict[str, Severity]:
    return {f.rule: f.severity for f in v.findings}  # type: ignore[attr-defined]


def test_matching_type_is_clean(run: RunValidation) -> None:
    assert rules(run(STREAM, 'video/mp4; codecs="avc1.4D400D"')) == {}


def test_wrong_family_is_an_error(run: RunValidation) -> None:
    assert rules(run(STREAM, 'video/mp4; codecs="vp09.00.10.08"')).get("BMFF-INIT-16") == Severity.ERROR


def test_missing_track_for_a_declared_codec(run: RunValidation) -> None:
    v = run(STREAM, 'video/mp4; codecs="avc1.4D400D,mp4a.40.2"')
    assert rules(v).get("BMFF-INIT-16") == Severity.ERROR
    assert any("mp4a" in f.message or "aac" in f.message.lower() for f in v.findings)


def test_profile_and_level_mismatch_is_a_warning(run: RunValidation) -> None:
    v = run(STREAM, 'video/mp4; codecs="avc1.42E01E"')
    assert rules(v) == {"BMFF-INIT-19": Severity.WARNING}
    msg = v.findings[0].message
    assert "Main" in msg and "1.3" in msg and "avc1.4D400D" in msg


def test_he_aac_declared_as_lc() -> None:
    from msetool.rules.engine import validate_stream
    from msetool.source import BytesSource

    # AudioSpecificConfig: AOT 5 (SBR), 24 kHz core, stereo, 48 kHz extension
    he = fmp4.init([fmp4.trak(handler="soun", timescale=48000, entry=fmp4.mp4a(bytes.fromhex("2b118800")))])
    v = validate_stream([BytesSource(he, "init.mp4")], 'audio/mp4; codecs="mp4a.40.2"')
    hits = [f for f in v.findings if f.rule == "BMFF-INIT-19"]
    assert hits and "HE-AAC" in hits[0].message


def test_declared_type_alone() -> None:
    assert [f.rule for f in check_declared(parse_mime('video/mp4; codecs="avc1.64001"'))] == ["CODEC-01"]
    assert [f.rule for f in check_declared(parse_mime('audio/mp4; codecs="mp4a.40.1"'))] == ["CODEC-02"]
    assert [f.rule for f in check_declared(parse_mime("video/mp4"))] == ["BMFF-MIME-03"]
    assert [f.rule for f in check_declared(parse_mime('audio/mpeg; codecs="mp3"'))] == ["MPA-MIME-01"]
    assert check_declared(parse_mime("audio/mpeg")) == []
    assert [f.rule for f in check_declared(parse_mime('audio/mp4; codecs="mp4a.40.02"'))] == ["CODEC-03"]
