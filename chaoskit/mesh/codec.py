"""Turn frozen dataclasses into JSON-ready values and back, driven by their type hints.

The control plane pushes proxy configuration as JSON; both ends share the dataclasses in
``chaoskit.mesh.config`` and this codec, so there is one definition of the wire format.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import types
import typing
from collections.abc import Callable
from typing import Any, TypeVar, Union, get_args, get_origin

T = TypeVar("T")


_SCALARS = frozenset({str, int, float, bool, type(None)})
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...] | None:
    names = _FIELD_NAMES.get(cls)
    if names is None and dataclasses.is_dataclass(cls):
        names = _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


def to_jsonable(value: Any) -> Any:
    """Dataclasses to dicts, tuples and sets to lists, enums to values."""
    cls = type(value)
    if cls in _SCALARS:  # the common case first: this runs once per field per push
        return value
    names = _field_names(cls)
    if names is not None:
        return {name: to_jsonable(getattr(value, name)) for name in names}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [to_jsonable(v) for v in value]
    if isinstance(value, frozenset | set):
        return sorted(to_jsonable(v) for v in value)
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    return value


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def from_jsonable(cls: type[T], data: Any) -> T:
    """Rebuild an instance of ``cls`` (a dataclass) from :func:`to_jsonable` output."""
    return typing.cast(T, _decoder(cls)(data))


Decoder = Callable[[Any], Any]
_DECODERS: dict[Any, Decoder] = {}


def _same(data: Any) -> Any:
    return data


def _decoder(tp: Any) -> Decoder:
    """The decoder of type ``tp``, built once from its hints (a pod decodes a few hundred
    clusters and virtual hosts per push: reading the type hints per value cost more than
    the JSON parse itself)."""
    decoder = _DECODERS.get(tp)
    if decoder is None:
        if isinstance(tp, type) and dataclasses.is_dataclass(tp):
            decoder = _DECODERS[tp] = _dataclass_decoder(tp)  # before its fields: recursion
        else:
            decoder = _DECODERS[tp] = _build(tp)
    return decoder


def _build(tp: Any) -> Decoder:
    origin = get_origin(tp)
    if origin is Union or origin is types.UnionType:
        options = [a for a in get_args(tp) if a is not type(None)]
        if len(options) != 1:
            return _same
        inner = _decoder(options[0])
        return _same if inner is _same else lambda data: None if data is None else inner(data)
    if origin is typing.Literal:
        return _same
    if origin is tuple:
        args = get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            item = _decoder(args[0])
            return tuple if item is _same else lambda data: tuple(map(item, data))
        items = tuple(_decoder(a) for a in args)
        return lambda data: tuple(f(v) for f, v in zip(items, data, strict=True))
    if origin is frozenset:
        (arg,) = get_args(tp)
        member = _decoder(arg)
        return frozenset if member is _same else lambda data: frozenset(map(member, data))
    if origin is dict:
        key_type, value_type = get_args(tp)
        key, value = _decoder(key_type), _decoder(value_type)
        return lambda data: {key(k): value(v) for k, v in data.items()}
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return tp
    if tp is float:
        return lambda data: float(data) if isinstance(data, int) else data
    return _same


def _dataclass_decoder(cls: type) -> Decoder:
    plain: list[str] = []  # fields whose JSON value is already the value
    converted: list[tuple[str, Decoder]] | None = None

    def decode(data: Any) -> Any:
        nonlocal converted
        if converted is None:  # resolved at first use, so a field may name its own class
            hints = _hints(cls)
            converted = []
            for f in dataclasses.fields(cls):
                if f.init:
                    decoder = _decoder(hints[f.name])
                    if decoder is _same:
                        plain.append(f.name)
                    else:
                        converted.append((f.name, decoder))
        kwargs = {name: data[name] for name in plain if name in data}
        for name, decoder in converted:
            if name in data:
                kwargs[name] = decoder(data[name])
        return cls(**kwargs)

    return decode
