"""Streaming multipart/form-data reader: parts are consumed as the body arrives, never buffered whole."""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

MAX_PARTS = 1000


class MultipartError(ValueError):
    """The body is not well-formed multipart/form-data (a client error)."""


@dataclass
class Part:
    name: str
    filename: str | None
    content_type: str | None


def boundary_from_content_type(content_type: str | None) -> bytes:
    if not content_type:
        raise MultipartError("Content-Type must be multipart/form-data")
    ctype, params = parse_options_header(content_type)
    if ctype != b"multipart/form-data":
        raise MultipartError("Content-Type must be multipart/form-data")
    boundary = params.get(b"boundary")
    if not boundary or len(boundary) > 200:
        raise MultipartError("multipart boundary missing or invalid")
    return boundary


class MultipartReader:
    """Pull parts one by one: `await next_part()`, then iterate `part_data()` (or `read_field()`)."""

    def __init__(self, body: AsyncIterator[bytes], boundary: bytes):
        self._body = body
        self._events: deque[tuple[str, bytes]] = deque()
        self._body_done = False
        self._ended = False
        self._parts = 0
        self._in_part = False
        self._hfield = b""
        self._hvalue = b""
        self._headers: dict[bytes, bytes] = {}
        ev = self._events
        self._parser = MultipartParser(boundary, callbacks={
            "on_part_begin": lambda: ev.append(("begin", b"")),
            "on_header_field": lambda d, s, e: ev.append(("hfield", d[s:e])),
            "on_header_value": lambda d, s, e: ev.append(("hvalue", d[s:e])),
            "on_header_end": lambda: ev.append(("hend", b"")),
            "on_headers_finished": lambda: ev.append(("hdone", b"")),
            "on_part_data": lambda d, s, e: ev.append(("data", bytes(d[s:e]))),
            "on_part_end": lambda: ev.append(("end", b"")),
            "on_end": lambda: ev.append(("finish", b"")),
        })

    async def _next_event(self) -> tuple[str, bytes]:
        while not self._events:
            if self._body_done:
                raise MultipartError("multipart body ended early")
            try:
                chunk = await self._body.__anext__()
            except StopAsyncIteration:
                self._body_done = True
                try:
                    self._parser.finalize()
                except MultipartParseError as exc:
                    raise MultipartError(f"malformed multipart body: {exc}") from None
                continue
            if chunk:
                try:
                    self._parser.write(chunk)
                except MultipartParseError as exc:
                    raise MultipartError(f"malformed multipart body: {exc}") from None
        return self._events.popleft()

    async def next_part(self) -> Part | None:
        """Headers of the next part, or None after the closing boundary. Skips unread data of the last part."""
        if self._ended:
            return None
        while self._in_part:  # the caller did not consume the previous part: drain it
            kind, _ = await self._next_event()
            if kind == "end":
                self._in_part = False
        while True:
            kind, data = await self._next_event()
            if kind == "finish":
                self._ended = True
                return None
            if kind == "begin":
                self._parts += 1
                if self._parts > MAX_PARTS:
                    raise MultipartError(f"more than {MAX_PARTS} parts")
                self._headers = {}
                self._hfield = self._hvalue = b""
            elif kind == "hfield":
                self._hfield += data
            elif kind == "hvalue":
                self._hvalue += data
            elif kind == "hend":
                self._headers[self._hfield.strip().lower()] = self._hvalue.strip()
                self._hfield = self._hvalue = b""
            elif kind == "hdone":
                self._in_part = True
                return self._part_from_headers()

    def _part_from_headers(self) -> Part:
        disposition = self._headers.get(b"content-disposition")
        if not disposition:
            raise MultipartError("multipart part without Content-Disposition")
        kind, params = parse_options_header(disposition)
        if kind != b"form-data" or b"name" not in params:
            raise MultipartError("multipart part is not form-data with a name")
        name = params[b"name"].decode("utf-8", "replace")
        filename = params.get(b"filename")
        ctype = self._headers.get(b"content-type")
        return Part(name=name, filename=None if filename is None else filename.decode("utf-8", "replace"),
                    content_type=None if ctype is None else ctype.decode("latin-1"))

    async def part_data(self) -> AsyncIterator[bytes]:
        """The current part's bytes, chunk by chunk, as they arrive."""
        while self._in_part:
            kind, data = await self._next_event()
            if kind == "data":
                if data:
                    yield data
            elif kind == "end":
                self._in_part = False

    async def read_field(self, max_bytes: int) -> str:
        """A small non-file field, read whole (bounded)."""
        buf = bytearray()
        async for chunk in self.part_data():
            buf += chunk
            if len(buf) > max_bytes:
                raise MultipartError(f"form field larger than {max_bytes} bytes")
        return buf.decode("utf-8", "replace")
