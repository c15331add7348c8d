"""Bounded request bodies: only the streamed upload may be large; every other body is at most 1 MiB."""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException

MAX_BODY_BYTES = 1024 * 1024
STREAMED_PATHS = {"/api/v1/documents/upload"}


def _too_large(limit: int) -> HTTPException:
    # an HTTPException, because FastAPI turns any other error while reading a body into a 400
    return HTTPException(413, f"request body larger than {limit} bytes")


class BodyLimitMiddleware:
    """Refuses a declared Content-Length over the limit at once, and counts undeclared (chunked) bodies."""

    def __init__(self, app: Any, max_bytes: int = MAX_BODY_BYTES):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] in STREAMED_PATHS:
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > self.max_bytes or declared < 0:
                    from mydocs.backend.errors import error_response

                    response = error_response(413 if declared > 0 else 400,
                                              "payload_too_large" if declared > 0 else "bad_request",
                                              f"request body larger than {self.max_bytes} bytes" if declared > 0
                                              else "invalid Content-Length")
                    await response(scope, receive, send)
                    return
        seen = 0

        async def counting_receive() -> dict:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _too_large(self.max_bytes)
            return message

        await self.app(scope, counting_receive, send)
