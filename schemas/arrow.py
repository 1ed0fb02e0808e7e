"""Arrow schemas derived from the pydantic contracts, so Parquet columns are typed, not JSON blobs.

One mapping, used for every Parquet output: str -> string, int -> int64, float -> float64,
bool -> bool, datetime -> timestamp[us, UTC], Literal -> string, list[T] -> list<T>,
dict[str, T] -> map<string, T>, nested Record -> struct. Optional types are nullable.
"""

from __future__ import annotations

import types
import typing
from datetime import datetime
from functools import cache
from typing import Any, Literal, Union, get_args, get_origin

import pyarrow as pa
from pydantic import BaseModel


def _strip_annotated(tp: Any) -> Any:
    while get_origin(tp) is typing.Annotated:
        tp = get_args(tp)[0]
    return tp


def arrow_type(tp: Any) -> pa.DataType:
    """The Arrow type for a Python/pydantic annotation; raises TypeError on an unsupported one."""
    tp = _strip_annotated(tp)
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) != 1:
            raise TypeError(f"unions other than Optional[T] have no Arrow type: {tp!r}")
        return arrow_type(args[0])
    if origin is Literal:
        return pa.string()
    if origin in (list, tuple, set, frozenset):
        (item,) = get_args(tp)[:1]
        return pa.list_(arrow_type(item))
    if origin is dict:
        key, value = get_args(tp)
        return pa.map_(arrow_type(key), arrow_type(value))
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return pa.struct(list(_fields(tp)))
    mapping = {str: pa.string(), int: pa.int64(), float: pa.float64(), bool: pa.bool_()}
    if tp in mapping:
        return mapping[tp]
    if tp is datetime:
        return pa.timestamp("us", tz="UTC")
    raise TypeError(f"no Arrow type for annotation {tp!r}")


def _fields(model: type[BaseModel]) -> typing.Iterator[pa.Field]:
    for name, info in model.model_fields.items():
        yield pa.field(name, arrow_type(info.annotation), nullable=True)


@cache
def arrow_schema(model: type[BaseModel]) -> pa.Schema:
    """The Arrow schema of a contract's Parquet rows (cached per model)."""
    return pa.schema(list(_fields(model)))


def to_arrow_row(record: BaseModel) -> dict[str, Any]:
    """A record as a dict that `pa.Table.from_pylist(..., schema=arrow_schema(M))` accepts."""
    return _arrowable(record.model_dump(mode="python"))


def _arrowable(value: Any) -> Any:
    # Arrow map columns take a list of (key, value) pairs; structs take dicts.
    if isinstance(value, dict):
        return {k: _arrowable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_arrowable(v) for v in value]
    return value


def from_arrow_row(model: type[BaseModel], row: dict[str, Any]) -> Any:
    """Rebuild a record from a row read back with `Table.to_pylist()` (maps arrive as pair lists)."""
    return model.model_validate(_unmap(model, row))


def _unmap(model: type[BaseModel], row: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for name, annotation, has_map in _unmap_plan(model):
        if name in row:
            # A value with no map column anywhere inside reads back as written: no walk needed.
            out[name] = _unmap_value(annotation, row[name]) if has_map else row[name]
    return out


@cache
def _unmap_plan(model: type[BaseModel]) -> tuple[tuple[str, Any, bool], ...]:
    return tuple((name, info.annotation, _has_map(info.annotation)) for name, info in model.model_fields.items())


@cache
def _has_map(tp: Any) -> bool:
    """Whether a value of this annotation can hold an Arrow map (a dict), at any depth."""
    tp = _strip_annotated(tp)
    origin = get_origin(tp)
    if origin is dict:
        return True
    if origin in (Union, types.UnionType, list, tuple, set, frozenset):
        return any(_has_map(a) for a in get_args(tp) if a is not type(None) and a is not Ellipsis)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return any(_has_map(info.annotation) for info in tp.model_fields.values())
    return False


def _unmap_value(tp: Any, value: Any) -> Any:
    if value is None:
        return None
    tp = _strip_annotated(tp)
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        return _unmap_value(args[0], value)
    if origin is dict:
        _, vt = get_args(tp)
        pairs = value.items() if isinstance(value, dict) else value
        return {k: _unmap_value(vt, v) for k, v in pairs}
    if origin in (list, tuple, set, frozenset):
        (item,) = get_args(tp)[:1]
        return [_unmap_value(item, v) for v in value]
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return _unmap(tp, value)
    return value
