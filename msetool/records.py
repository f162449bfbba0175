"""Bases for record classes written out instead of ``@dataclass``.

Creating a dataclass costs ~0.6 ms at import (it generates and compiles its methods) and importing
:mod:`dataclasses` itself ~8 ms (inspect, ast, dis, tokenize): on the ``validate`` path that was a third of
the start-up (docs/performance.md). A record class here declares ``__slots__``, ``__match_args__`` (its
fields in dataclass order) and an explicit ``__init__``; the base gives it what ``@dataclass`` would
generate from those fields: repr, equality, hashing (frozen records only), frozen fields, pickling, plus a
``replace`` method standing in for :func:`dataclasses.replace`. tests/unit/test_records.py holds each one
against a reference dataclass.
"""

from __future__ import annotations

from operator import attrgetter

#: typing.TYPE_CHECKING without importing typing: this module loads before ffmpeg is started
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar, Self


class Record:
    """A mutable record: repr, equality on the fields, unhashable (as ``@dataclass(slots=True)``)."""

    __slots__ = ()
    __match_args__: ClassVar[tuple[str, ...]] = ()
    _fields_of: ClassVar[Any]

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        names = cls.__match_args__
        if len(names) > 1:
            cls._fields_of = attrgetter(*names)  # a C callable: not bound as a method
        elif names:
            get = attrgetter(*names)
            cls._fields_of = staticmethod(lambda o: (get(o),))

    def __repr__(self) -> str:
        values = self._fields_of(self)
        inner = ", ".join(f"{n}={v!r}" for n, v in zip(self.__match_args__, values, strict=True))
        return f"{type(self).__qualname__}({inner})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return bool(self._fields_of(self) == self._fields_of(other))

    __hash__: ClassVar[None] = None  # type: ignore[assignment]

    def replace(self, **changes: Any) -> Self:
        """A copy with ``changes``, as :func:`dataclasses.replace` makes it (through ``__init__``)."""
        for name in self.__match_args__:
            if name not in changes:
                changes[name] = getattr(self, name)
        return type(self)(**changes)

    def __getstate__(self) -> tuple[Any, ...]:
        return tuple(self._fields_of(self))

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        for name, value in zip(self.__match_args__, state, strict=True):
            object.__setattr__(self, name, value)


class FrozenRecord(Record):
    """An immutable record: also hashable on its fields, assignments raise (``@dataclass(frozen=True)``).
    Its ``__init__`` sets fields with ``object.__setattr__``."""

    __slots__ = ()

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(self._fields_of(self))

    def __setattr__(self, name: str, value: object) -> None:
        from dataclasses import FrozenInstanceError

        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        from dataclasses import FrozenInstanceError

        raise FrozenInstanceError(f"cannot delete field {name!r}")
