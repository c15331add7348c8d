"""Test data made in chunks: large deterministic payloads and streamed multipart bodies (never whole in memory)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator, Iterable

MIB = 1024 * 1024


class Payload:
    """`size` bytes generated block by block (a seeded pattern), with its sha256 known up front."""

    def __init__(self, size: int, seed: int = 0, block: int = MIB):
        self.size = size
        self.block = block
        base = hashlib.sha256(f"seed-{seed}".encode()).digest()
        self._pattern = (base * (block // len(base) + 1))[:block]
        digest = hashlib.sha256()
        for chunk in self.chunks():
            digest.update(chunk)
        self.sha256 = digest.hexdigest()

    def chunks(self) -> Iterable[bytes]:
        left = self.size
        i = 0
        while left > 0:
            n = min(self.block, left)
            # vary every block so a shifted or repeated block changes the hash
            yield i.to_bytes(8, "big") + self._pattern[8:n] if n >= 8 else self._pattern[:n]
            left -= n
            i += 1


class MultipartBody:
    """A multipart/form-data body streamed from parts: ("field", name, value) or ("file", name, filename,
    content_type, chunks)."""

    def __init__(self, parts: list[tuple]):
        self.boundary = f"----mydocs{uuid.uuid4().hex}"
        self.parts = parts

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def _pieces(self) -> Iterable[bytes | Payload | Iterable[bytes]]:
        """The body in order: framing as bytes, each file part's data as it was given (chunks or a Payload)."""
        for part in self.parts:
            yield f"--{self.boundary}\r\n".encode()
            if part[0] == "field":
                _, name, value = part
                yield f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value.encode() + b"\r\n"
            else:
                _, name, filename, ctype, chunks = part
                fname = filename.replace("\\", "\\\\").replace('"', '\\"')
                head = f'Content-Disposition: form-data; name="{name}"; filename="{fname}"\r\n'
                if ctype:
                    head += f"Content-Type: {ctype}\r\n"
                yield (head + "\r\n").encode("utf-8")
                yield chunks
                yield b"\r\n"
        yield f"--{self.boundary}--\r\n".encode()

    async def stream(self) -> AsyncIterator[bytes]:
        for piece in self._pieces():
            if isinstance(piece, bytes):
                yield piece
            else:
                for chunk in piece.chunks() if isinstance(piece, Payload) else piece:
                    yield chunk

    def content_length(self) -> int:
        """The body's size up front (as browsers and curl send it); every file part's data must be a Payload."""
        total = 0
        for piece in self._pieces():
            if isinstance(piece, bytes):
                total += len(piece)
            elif isinstance(piece, Payload):
                total += piece.size
            else:
                raise TypeError("content_length needs each file part's data as a Payload (its size is known)")
        return total


async def upload(client, *files: tuple[str, bytes | Payload], tags: str | None = None,
                 content_type: str | None = "application/octet-stream", tags_after: bool = False,
                 headers: dict[str, str] | None = None):
    """POST /api/v1/documents/upload with the given (filename, data) files; returns the response."""
    parts: list[tuple] = []
    if tags is not None and not tags_after:
        parts.append(("field", "tags", tags))
    for filename, data in files:
        chunks = data.chunks() if isinstance(data, Payload) else [data]
        parts.append(("file", "files", filename, content_type, chunks))
    if tags is not None and tags_after:
        parts.append(("field", "tags", tags))
    body = MultipartBody(parts)
    return await client.post("/api/v1/documents/upload", content=body.stream(),
                             headers={"Content-Type": body.content_type, **(headers or {})})
