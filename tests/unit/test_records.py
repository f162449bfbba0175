"""Record classes written out instead of @dataclass (start-up) must behave as the dataclass they replace.

For each one a reference dataclass with the same fields is declared here; both are built from the same
random values and must agree on repr, equality, hashing, frozen fields, pickling and pattern matching. A
field added to the class but not to its repr/eq/hash/state fails here.
"""

from __future__ import annotations

import dataclasses
import pickle
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from msetool.bmff.audio import AudioSpecificConfig
from msetool.bmff.avc import AvcSampleCheck
from msetool.bmff.segments import Fragment, Mp4Init, Mp4Track, SampleTable, SegmentEvent
from msetool.bmff.stream import _Run
from msetool.bmff.tree import Box, BoxIssue, BoxTree
from msetool.codecs.derive import DerivedCodec
from msetool.mime import MimeType
from msetool.model import CodedFrame, InitSegment, MediaSegment, TrackInfo
from msetool.report.summary import FileReport, Report, StreamInfo
from msetool.rules.bmff import TrackDefaults, _State
from msetool.rules.catalog import Rule
from msetool.rules.engine import (
    CheckContext,
    InitRecord,
    Reset,
    SegmentRecord,
    Slice,
    StreamModel,
    TrackSpan,
    ValidateOptions,
    Validation,
    _RunResult,
)
from msetool.rules.findings import Finding, Severity
from msetool.stream import (
    FormatInfo,
    FrameColumns,
    InitSegmentParsed,
    MediaSegmentEnded,
    MediaSegmentStarted,
    ParseFailed,
    ParseWarning,
)


@dataclass(frozen=True, slots=True)
class _MimeType:
    type: str
    subtype: str
    codecs: tuple[str, ...] = ()
    params: dict[str, str] = field(default_factory=dict)
    raw: str = ""


@dataclass(frozen=True, slots=True)
class _Rule:
    id: str
    severity: Severity
    title: str
    browser: str
    spec: str


@dataclass(frozen=True, slots=True)
class _DerivedCodec:
    codec: str
    coding_name: str
    kind: str
    entry_type: str = ""
    encrypted: bool = False
    problem: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class _FileReport:
    path: str
    findings: list[Finding] = field(default_factory=list)


@dataclass(slots=True)
class _StreamInfo:
    id: str
    type: str | None
    format: str | None
    files: list[str]


@dataclass(slots=True)
class _Report:
    files: list[Any] = field(default_factory=list)
    streams: list[Any] = field(default_factory=list)
    fail_on: Severity = Severity.ERROR
    command: str = "validate"


_TEXT = st.text(max_size=6)
_SEV = st.sampled_from(list(Severity))
_FINDING = st.builds(Finding, _TEXT, _SEV, _TEXT, _TEXT, st.none() | st.integers(0, 9), _TEXT, _TEXT)

#: (class, its reference, strategy for (positional args, keyword args) common to both)
CASES: list[tuple[type, type, st.SearchStrategy[tuple[tuple[Any, ...], dict[str, Any]]]]] = [
    (MimeType, _MimeType, st.tuples(st.tuples(_TEXT, _TEXT), st.fixed_dictionaries(
        {}, optional={"codecs": st.tuples(_TEXT), "params": st.dictionaries(_TEXT, _TEXT), "raw": _TEXT}))),
    (Rule, _Rule, st.tuples(st.tuples(_TEXT, _SEV, _TEXT, _TEXT, _TEXT), st.just({}))),
    (DerivedCodec, _DerivedCodec, st.tuples(st.tuples(_TEXT, _TEXT, _TEXT), st.fixed_dictionaries(
        {}, optional={"entry_type": _TEXT, "encrypted": st.booleans(), "problem": st.none() | _TEXT,
                      "details": st.dictionaries(_TEXT, st.integers())}))),
    (FileReport, _FileReport, st.tuples(st.tuples(_TEXT), st.fixed_dictionaries(
        {}, optional={"findings": st.lists(_FINDING, max_size=2)}))),
    (StreamInfo, _StreamInfo, st.tuples(st.tuples(_TEXT, st.none() | _TEXT, st.none() | _TEXT,
                                                  st.lists(_TEXT, max_size=2)), st.just({}))),
    (Report, _Report, st.tuples(st.just(()), st.fixed_dictionaries(
        {}, optional={"fail_on": _SEV, "command": _TEXT}))),
]


def _outcome(fn: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return "ok", fn()
    except Exception as e:
        return type(e).__name__, str(e)


def _strip(r: str, ref: type) -> str:
    return r.replace(ref.__qualname__ + "(", ref.__qualname__.lstrip("_") + "(")


@pytest.mark.parametrize("cls, ref, args", CASES, ids=[c[0].__name__ for c in CASES])
def test_behaves_as_the_dataclass(cls: type, ref: type, args: st.SearchStrategy[Any]) -> None:
    @settings(derandomize=True, max_examples=60, deadline=None)
    @given(a=args, b=args)
    def check(a: tuple[tuple[Any, ...], dict[str, Any]], b: tuple[tuple[Any, ...], dict[str, Any]]) -> None:
        x, rx = cls(*a[0], **a[1]), ref(*a[0], **a[1])
        y, ry = cls(*b[0], **b[1]), ref(*b[0], **b[1])
        assert repr(x) == _strip(repr(rx), ref)
        assert (x == y, x != y, x == cls(*a[0], **a[1])) == (rx == ry, rx != ry, rx == ref(*a[0], **a[1]))
        assert (x == 1) == (rx == 1)
        hx, hr = _outcome(lambda: hash(x)), _outcome(lambda: hash(rx))
        assert hx[0] == hr[0]
        if hx[0] == "ok":
            assert (hash(x) == hash(cls(*a[0], **a[1]))) and (hash(rx) == hash(ref(*a[0], **a[1])))
        match_args: tuple[str, ...] = getattr(cls, "__match_args__")  # noqa: B009 (mypy: not on type)
        name = match_args[0]
        assert _outcome(lambda: setattr(x, name, 1)) == _outcome(lambda: setattr(rx, name, 1))
        assert pickle.loads(pickle.dumps(x)) == x
        assert match_args == getattr(ref, "__match_args__")  # noqa: B009

    check()


# --------------------------------------------------------------------------------------------------------
# The segment model, parser events, findings and the validate engine's records (msetool.records bases):
# each reference below is the dataclass the class was (field names, order, defaults and flags), with its
# annotations reduced to Any (a dataclass's behaviour does not depend on them).

@dataclass(frozen=True, slots=True)
class _RefTrackInfo:
    track_id: Any
    kind: Any
    codec: Any
    timescale: Any
    coding_name: Any = ''
    width: Any = None
    height: Any = None
    sample_rate: Any = None
    channels: Any = None
    language: Any = None
    encrypted: Any = False
    presentation_offset: Any = 0
    default_duration: Any = None
    decode_error: Any = None


@dataclass(frozen=True, slots=True)
class _RefInitSegment:
    format: Any
    tracks: Any
    duration: Any = None
    offset: Any = 0
    size: Any = 0


@dataclass(frozen=True, slots=True)
class _RefCodedFrame:
    track_id: Any
    dts: Any
    pts: Any
    duration: Any
    timescale: Any
    keyframe: Any
    size: Any = 0
    offset: Any = 0
    duration_estimated: Any = False
    decode_error: Any = None


@dataclass(slots=True)
class _RefMediaSegment:
    offset: Any
    size: Any
    frames: Any = field(default_factory=list)
    path: Any = ''
    sequence_number: Any = None


@dataclass(frozen=True, slots=True)
class _RefMediaSegmentStarted:
    offset: Any
    path: Any = ''


@dataclass(frozen=True, slots=True)
class _RefFrameColumns:
    track_id: Any
    timescale: Any
    dts: Any
    pts: Any
    duration: Any
    size: Any
    offset: Any
    keyframe: Any
    decode_errors: Any = field(default_factory=dict)
    estimated: Any = frozenset()


@dataclass(frozen=True, slots=True)
class _RefMediaSegmentEnded:
    offset: Any


@dataclass(frozen=True, slots=True)
class _RefFormatInfo:
    name: Any
    subtypes: Any
    parser: Any
    checker: Any = ''
    extra: Any = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _RefFinding:
    rule: Any
    severity: Any
    message: Any
    file: Any = ''
    offset: Any = None
    box: Any = ''
    spec: Any = ''


@dataclass(frozen=True, slots=True)
class _RefSlice:
    source: Any
    start: Any = 0
    end: Any = None
    label: Any = ''


@dataclass(frozen=True, slots=True)
class _RefReset:
    kind: Any
    mime: Any = None


@dataclass(slots=True)
class _RefCheckContext:
    source: Any
    mime: Any
    events: Any
    options: Any
    state: Any = field(default_factory=dict)
    ends_with_abort: Any = False
    boundaries: Any = ()


@dataclass(slots=True)
class _RefTrackSpan:
    track_id: Any
    timescale: Any
    count: Any = 0
    first_dts: Any = 0
    first_pts: Any = 0
    min_pts: Any = 0
    end_dts: Any = 0
    max_end_pts: Any = 0
    first_keyframe: Any = False
    keyframes: Any = 0
    last_duration: Any = 0
    total_duration: Any = 0
    max_duration: Any = 0


@dataclass(slots=True)
class _RefSegmentRecord:
    index: Any
    file: Any
    offset: Any
    path: Any
    run: Any
    init: Any
    tracks: Any = field(default_factory=dict)
    after_reset: Any = False


@dataclass(slots=True)
class _RefInitRecord:
    file: Any
    offset: Any
    run: Any
    init: Any
    mime: Any
    after_change_type: Any = False


@dataclass(slots=True)
class _RefStreamModel:
    inits: Any = field(default_factory=list)
    segments: Any = field(default_factory=list)


@dataclass(slots=True)
class _RefValidation:
    files: Any
    findings: Any
    model: Any
    mime: Any = None
    format: Any = None


@dataclass(slots=True)
class _RefRunResult:
    events: Any
    findings: Any
    truncated_at: Any
    last_init: Any
    fed: Any = 0
    undecodable: Any = field(default_factory=list)


@dataclass(slots=True)
class _RefTrackDefaults:
    track_id: Any
    handler: Any = ''
    timescale: Any = 0
    entries: Any = 0
    has_trex: Any = False
    default_sample_size: Any = 0
    default_sample_flags: Any = 0
    iv_size: Any = 0
    encrypted: Any = False
    avc_length: Any = 0
    avc_pps: Any = frozenset()
    avc_mbs: Any = 0
    avc_sps: Any = None
    aac: Any = None
    frame_codec: Any = ''
    default_sample_duration: Any = 0
    first_checked: Any = None


@dataclass(slots=True)
class _RefState:
    tracks: Any = field(default_factory=dict)
    init_seen: Any = False
    last_sequence: Any = None


@dataclass(slots=True, eq=False)
class _RefBox:
    type: Any
    offset: Any
    size: Any
    header_size: Any
    path: Any
    children: Any = field(default_factory=list)
    fields: Any = field(default_factory=dict)
    usertype: Any = None
    to_end: Any = False
    large: Any = False
    truncated: Any = False
    decoded: Any = False


@dataclass(frozen=True, slots=True)
class _RefBoxIssue:
    kind: Any
    offset: Any
    path: Any
    message: Any


@dataclass(slots=True)
class _RefBoxTree:
    name: Any
    size: Any
    boxes: Any = field(default_factory=list)
    issues: Any = field(default_factory=list)


@dataclass(slots=True)
class _RefMp4Track:
    info: Any
    handler_type: Any
    trak: Any
    entries: Any
    codecs: Any
    trex: Any
    edits: Any = field(default_factory=list)


@dataclass(slots=True)
class _RefMp4Init:
    init: Any
    tracks: Any
    moov: Any
    ftyp: Any = None


@dataclass(slots=True)
class _RefSampleTable:
    track_id: Any
    timescale: Any
    path: Any
    base_media_decode_time: Any
    dts: Any = field(default_factory=list)
    pts: Any = field(default_factory=list)
    duration: Any = field(default_factory=list)
    size: Any = field(default_factory=list)
    offset: Any = field(default_factory=list)
    keyframe: Any = field(default_factory=list)
    flags: Any = field(default_factory=list)
    run: Any = field(default_factory=list)
    runs: Any = field(default_factory=list)


@dataclass(slots=True)
class _RefFragment:
    moof: Any
    sequence_number: Any
    tables: Any = field(default_factory=list)
    problems: Any = field(default_factory=list)
    mdats: Any = field(default_factory=list)


@dataclass(slots=True)
class _RefSegmentEvent:
    kind: Any
    init: Any = None
    fragment: Any = None
    problem: Any = None


@dataclass(frozen=True, slots=True)
class _RefAvcSampleCheck:
    converted: Any
    is_keyframe: Any
    first_nal_ok: Any


@dataclass(frozen=True, slots=True)
class _RefAudioSpecificConfig:
    audioObjectType: Any
    samplingFrequency: Any
    channelConfiguration: Any
    extensionAudioObjectType: Any = 0
    sbrPresentFlag: Any = False
    psPresentFlag: Any = False
    extensionSamplingFrequency: Any = None
    frameLengthFlag: Any = 0


@dataclass(slots=True)
class _RefRun:
    track_id: Any
    timescale: Any
    start: Any
    dts: Any
    pts: Any
    duration: Any
    size: Any
    offset: Any
    keyframe: Any
    avc_length_size: Any = None
    missing_encryption_info: Any = None
    check: Any = None
    first_of_traf: Any = False
    representable: Any = False
    ends: Any = field(default_factory=list)
    stops: Any = field(default_factory=list)
    preroll: Any = field(default_factory=list)
    special: Any = ()


@dataclass(frozen=True, slots=True)
class _RefInitSegmentParsed:
    init: Any
    offset: Any


@dataclass(frozen=True, slots=True)
class _RefParseFailed:
    message: Any
    offset: Any
    path: Any = ""
    rule: Any = None


@dataclass(frozen=True, slots=True)
class _RefParseWarning:
    message: Any
    offset: Any
    path: Any = ""
    rule: Any = None


@dataclass(frozen=True, slots=True)
class _RefValidateOptions:
    profile: Any = "chromium"
    target_duration: Any = None
    max_per_rule: Any = 5
    chunk_size: Any = 4 * 1024 * 1024
    deep: Any = False
    raw_timeline: Any = True
    parser_factory: Any = None


RECORDS: list[tuple[type, type]] = [
    (InitSegmentParsed, _RefInitSegmentParsed),
    (ParseFailed, _RefParseFailed),
    (ParseWarning, _RefParseWarning),
    (ValidateOptions, _RefValidateOptions),
    (TrackInfo, _RefTrackInfo),
    (InitSegment, _RefInitSegment),
    (CodedFrame, _RefCodedFrame),
    (MediaSegment, _RefMediaSegment),
    (MediaSegmentStarted, _RefMediaSegmentStarted),
    (FrameColumns, _RefFrameColumns),
    (MediaSegmentEnded, _RefMediaSegmentEnded),
    (FormatInfo, _RefFormatInfo),
    (Finding, _RefFinding),
    (Slice, _RefSlice),
    (Reset, _RefReset),
    (CheckContext, _RefCheckContext),
    (TrackSpan, _RefTrackSpan),
    (SegmentRecord, _RefSegmentRecord),
    (InitRecord, _RefInitRecord),
    (StreamModel, _RefStreamModel),
    (Validation, _RefValidation),
    (_RunResult, _RefRunResult),
    (TrackDefaults, _RefTrackDefaults),
    (_State, _RefState),
    (Box, _RefBox),
    (BoxIssue, _RefBoxIssue),
    (BoxTree, _RefBoxTree),
    (Mp4Track, _RefMp4Track),
    (Mp4Init, _RefMp4Init),
    (SampleTable, _RefSampleTable),
    (Fragment, _RefFragment),
    (SegmentEvent, _RefSegmentEvent),
    (AvcSampleCheck, _RefAvcSampleCheck),
    (AudioSpecificConfig, _RefAudioSpecificConfig),
    (_Run, _RefRun),
]

_VALUE = (
    st.none()
    | st.integers(-3, 3)
    | st.text(max_size=3)
    | st.booleans()
    | st.tuples(st.integers(0, 3))
    | st.lists(st.integers(0, 3), max_size=2)
)


def _not_none(v: object) -> bool:
    return v is not None


_Args = tuple[tuple[Any, ...], dict[str, Any]]


def _args(ref: type) -> st.SearchStrategy[_Args]:
    """Required fields positionally, defaulted ones as any subset of keywords (both ways a caller builds)."""
    fs = dataclasses.fields(ref)
    missing = dataclasses.MISSING
    required = [f for f in fs if f.default is missing and f.default_factory is missing]
    # a field with a default factory is ``None`` in the record's signature (the factory's value): not passed
    optional = {f.name: _VALUE if f.default_factory is missing else _VALUE.filter(_not_none) for f in fs
                if f not in required}
    return st.tuples(st.tuples(*(_VALUE for _ in required)), st.fixed_dictionaries({}, optional=optional))


@pytest.mark.parametrize("cls, ref", RECORDS, ids=[c[0].__name__ for c in RECORDS])
def test_record_behaves_as_the_dataclass(cls: type, ref: type) -> None:
    assert_behaves_as_dataclass(cls, ref)


def assert_behaves_as_dataclass(cls: type, ref: type) -> None:
    """``cls`` (a msetool.records class) against ``ref``, the dataclass it replaced: constructor, repr,
    equality, hashing, immutability, pickling, ``replace`` and ``__match_args__`` on generated values.
    Shared with the other modules' record tests (tests/unit/fragment/test_records_fragment.py)."""
    args = _args(ref)
    names = [f.name for f in dataclasses.fields(ref)]
    factory = {f.name for f in dataclasses.fields(ref) if f.default_factory is not dataclasses.MISSING}
    has_eq = cast(object, ref.__eq__) is not object.__eq__  # a function on a class; mypy types it bound
    own_repr = "__repr__" in cls.__dict__  # kept by @dataclass too (Box)

    def same_repr(x: object, rx: object) -> None:
        assert repr([getattr(x, n) for n in names]) == repr([getattr(rx, n) for n in names])
        if not own_repr:
            assert repr(x) == repr(rx).replace(ref.__qualname__ + "(", cls.__qualname__ + "(", 1)

    @settings(derandomize=True, max_examples=30, deadline=None)
    @given(a=args, b=args, name=st.sampled_from(names), value=_VALUE)
    def check(a: _Args, b: _Args, name: str, value: Any) -> None:
        x, rx = cls(*a[0], **a[1]), ref(*a[0], **a[1])
        y, ry = cls(*b[0], **b[1]), ref(*b[0], **b[1])
        same_repr(x, rx)
        assert (x == y, x != y, x == cls(*a[0], **a[1])) == (rx == ry, rx != ry, rx == ref(*a[0], **a[1]))
        assert (x == 1) == (rx == 1)
        hx, hr = _outcome(lambda: hash(x)), _outcome(lambda: hash(rx))
        assert hx[0] == hr[0]
        if hx[0] == "ok" and has_eq:
            assert hash(x) == hash(rx)  # the hash of the fields' tuple, as the dataclass's
        assert hasattr(x, "__dict__") == hasattr(rx, "__dict__")
        assert _outcome(lambda: setattr(x, name, value)) == _outcome(lambda: setattr(rx, name, value))
        assert _outcome(lambda: delattr(y, name)) == _outcome(lambda: delattr(ry, name))
        same_repr(x, rx)
        same_repr(pickle.loads(pickle.dumps(x)), rx)
        if has_eq:
            assert pickle.loads(pickle.dumps(x)) == x
        if value is not None or name not in factory:
            same_repr(x.replace(**{name: value}), dataclasses.replace(rx, **{name: value}))
        assert getattr(cls, "__match_args__") == getattr(ref, "__match_args__")  # noqa: B009

    check()
