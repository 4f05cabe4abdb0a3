"""A JSON answer carrying whole files as base64 strings, read as it arrives without holding them.

Vertex AI returns a finished Veo video inline, `{"videos": [{"bytesBase64Encoded": "<the mp4>", …}]}`:
tens of megabytes of base64 in one JSON string. Parsing that answer with `json.loads` holds the text,
the decoded string and the file in memory at once, in the worker that also polls other takes. Here the
answer is fed chunk by chunk: every such string is decoded into a file (or only measured) as its
characters arrive, and the rest of the answer (its structure, a few hundred bytes) is kept with those
strings emptied, to be parsed as usual.

Base64 has no character JSON must escape except `/`, which an encoder may write as `\\/`; any other
escape in such a string is refused as unreadable rather than decoded into a corrupt file.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from typing import Any, BinaryIO

FIELD = "bytesBase64Encoded"


class Unreadable(ValueError):
    """The answer is not the JSON it claims to be, or a base64 string in it does not decode."""


class InlineFiles:
    """Feed an answer with `feed(chunk)`; `finish()` returns the answer with each file emptied to ""."""

    def __init__(self, *, field: str = FIELD, open_file: Callable[[int], BinaryIO | None] = lambda index: None,
                 max_bytes: int = 4 * 1024**3):
        self._start = re.compile(rb'"' + re.escape(field.encode()) + rb'"\s*:\s*"')
        self._open_file, self._max_bytes = open_file, max_bytes
        self._kept = bytearray()
        self._segment = 0  # where the structure read since the last string starts: searched again each chunk
        self._in_value = False
        self._out: BinaryIO | None = None
        self._pending = b""  # base64 characters that do not yet make a whole 4-character group
        self._escape = b""  # a backslash that ended the last chunk: its escaped character comes next
        self._size = 0
        self.sizes: list[int] = []  # decoded bytes of each file, in order of appearance

    def feed(self, chunk: bytes) -> None:
        while chunk:
            if not self._in_value:
                self._kept += chunk
                match = self._start.search(self._kept, self._segment)
                if match is None:
                    return
                chunk = bytes(self._kept[match.end():])
                del self._kept[match.end():]
                self._begin()
            else:
                end = chunk.find(b'"')
                self._decode(chunk if end < 0 else chunk[:end])
                if end < 0:
                    return
                self._end()
                chunk = chunk[end + 1:]

    def finish(self) -> dict[str, Any]:
        if self._in_value:
            raise Unreadable("the answer ended inside a string")
        try:
            answer = json.loads(bytes(self._kept))
        except (ValueError, UnicodeDecodeError) as exc:
            raise Unreadable(str(exc)) from exc
        if not isinstance(answer, dict):
            raise Unreadable("the answer is not a JSON object")
        return answer

    def _begin(self) -> None:
        self._in_value, self._pending, self._escape, self._size = True, b"", b"", 0
        self._out = self._open_file(len(self.sizes))

    def _decode(self, part: bytes) -> None:
        part = self._escape + part
        self._escape = b"\\" if part.endswith(b"\\") and not part.endswith(b"\\\\") else b""
        part = part[:len(part) - len(self._escape)].replace(b"\\/", b"/")
        if b"\\" in part:
            raise Unreadable("a base64 string holds an escape other than \\/")
        part = self._pending + part
        whole = len(part) - len(part) % 4
        self._pending = part[whole:]
        self._write(part[:whole])

    def _write(self, text: bytes) -> None:
        if not text:
            return
        if self._out is None:  # only measured: 4 characters are 3 bytes, less the padding
            self._size += len(text) // 4 * 3 - len(text[-2:]) + len(text[-2:].rstrip(b"="))
        else:
            try:
                data = base64.b64decode(text, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise Unreadable("a base64 string does not decode") from exc
            self._size += len(data)
            self._out.write(data)
        if self._size > self._max_bytes:
            raise Unreadable(f"a file is larger than {self._max_bytes} bytes")

    def _end(self) -> None:
        if self._escape:  # a string cannot end on a backslash: the quote was escaped, which base64 never is
            raise Unreadable("a base64 string holds an escaped quote")
        if self._pending:  # unpadded: pad the last group
            self._write(self._pending + b"=" * (-len(self._pending) % 4))
        self.sizes.append(self._size)
        self._kept += b'"'  # the string's closing quote: the value reads as ""
        self._segment = len(self._kept)
        self._in_value, self._out, self._pending = False, None, b""


__all__ = ["FIELD", "InlineFiles", "Unreadable"]
