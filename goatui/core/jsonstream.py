"""The items of one array in a JSON object, decoded one at a time.

`json.loads` of a gateway's plugin list builds every entry's dicts, lists and strings at
once: about seven times the size of the answer in memory, before goatui has kept
anything of it. `array_items` walks the top level itself and hands each item of the
array over as it is decoded (with json's own C scanner), with where its text is, so
the caller keeps only what it needs of each and memory follows what is kept.
The whole document is still checked: what `json.loads` would refuse raises ValueError.
"""

from __future__ import annotations

import json
import re
from collections.abc import Generator, Iterator
from typing import Any

_SPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


class NoSuchArray(ValueError):
    """The document is a JSON object, but `key` is missing or not an array."""


def array_items(text: str, key: str) -> Iterator[tuple[Any, int, int]]:
    """(item, start, end) for each item (its JSON text is text[start:end]) of the array `key` of the object in text.

    Raises ValueError when text is not one JSON object (at the point where that shows,
    so after some items perhaps), NoSuchArray after the last item when key was missing
    or not an array. With a repeated key, the first array is the one read.
    """
    found = False
    index = _skip(text, 0)
    if text[index : index + 1] != "{":
        raise ValueError("not a JSON object")
    index = _skip(text, index + 1)
    if text[index : index + 1] == "}":
        index += 1
    else:
        while True:
            if text[index : index + 1] != '"':
                raise ValueError(f"expected a member name at {index}")
            name, index = _DECODER.raw_decode(text, index)
            index = _skip(text, index)
            if text[index : index + 1] != ":":
                raise ValueError(f"expected ':' at {index}")
            index = _skip(text, index + 1)
            if name == key and not found and text[index : index + 1] == "[":
                found = True
                index = yield from _items(text, index + 1)
            else:
                _, index = _DECODER.raw_decode(text, index)
            index = _skip(text, index)
            separator = text[index : index + 1]
            index = _skip(text, index + 1)
            if separator == "}":
                break
            if separator != ",":
                raise ValueError(f"expected ',' or '}}' at {index}")
    if _skip(text, index) != len(text):
        raise ValueError(f"extra data at {index}")
    if not found:
        raise NoSuchArray(f"no {key!r} array")


def _items(text: str, index: int) -> Generator[tuple[Any, int, int], None, int]:
    """From just after '[': yields each item; returns the index after ']'."""
    index = _skip(text, index)
    if text[index : index + 1] == "]":
        return index + 1
    while True:
        item, end = _DECODER.raw_decode(text, index)
        yield item, index, end
        index = _skip(text, end)
        separator = text[index : index + 1]
        index = _skip(text, index + 1)
        if separator == "]":
            return index
        if separator != ",":
            raise ValueError(f"expected ',' or ']' at {index}")


def _skip(text: str, index: int) -> int:
    match = _SPACE.match(text, index)
    return match.end() if match else index
