"""Client-supplied names and tags made safe: file names become one harmless path segment."""

from __future__ import annotations

import mimetypes
import re
import unicodedata

MAX_NAME_BYTES = 200
MAX_TAGS = 50
MAX_TAG_CHARS = 64
DEFAULT_NAME = "file"
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f<>:\"|?*]")
# Windows device names are reserved whatever follows the first dot (NUL.tar.gz is NUL), also COM0/LPT0,
# the superscript digits and the console devices
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", "conin$", "conout$", "clock$",
                     *(f"{d}{i}" for d in ("com", "lpt") for i in (*"0123456789", "\u00b9", "\u00b2", "\u00b3"))}
# served as declared; anything else (HTML, SVG, XML, JavaScript, ...) is served as application/octet-stream
_SERVED_AS_DECLARED = {
    "application/pdf", "application/json", "application/zip", "application/gzip", "application/x-tar",
    "application/x-7z-compressed", "application/rtf", "application/msword", "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint", "text/plain", "text/csv", "text/markdown", "text/tab-separated-values",
    "image/png", "image/jpeg", "image/gif", "image/webp", "image/tiff", "image/bmp", "image/heic",
}
_SERVED_PREFIXES = ("application/vnd.openxmlformats-officedocument.", "application/vnd.oasis.opendocument.",
                    "audio/", "video/")
_CONTENT_TYPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$")
_TAG_BAD = re.compile(r"[\x00-\x1f\x7f,]")


def sanitize_filename(raw: str | None) -> str:
    """A single safe path segment: no separators, no '..', no control characters, at most 200 UTF-8 bytes
    (the extension is kept when shortening), never hidden (no leading dot), never empty."""
    name = unicodedata.normalize("NFC", raw or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]  # keep the last path segment only
    name = _UNSAFE.sub("_", name)
    name = _strip_invisible(name)
    name = re.sub(r"\s+", " ", name).strip(" .")  # no leading dots (hidden/`..`), no trailing dots/spaces
    if not name:
        name = DEFAULT_NAME
    _stem, dot, ext = name.rpartition(".")
    if name.split(".", 1)[0].rstrip(" ").lower() in _WINDOWS_RESERVED:
        name = f"_{name}"
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        ext_part = f".{ext}" if dot and 0 < len(ext.encode("utf-8")) <= 16 else ""
        budget = MAX_NAME_BYTES - len(ext_part.encode("utf-8"))
        base = name[: len(name) - len(ext_part)] if ext_part else name
        base = base.encode("utf-8")[:budget].decode("utf-8", "ignore").rstrip(" .")
        name = (base or DEFAULT_NAME) + ext_part
    return name


def content_type_for(name: str, declared: str | None) -> str:
    """The declared type when well-formed (parameters dropped), else a guess from the name."""
    if declared:
        main = declared.split(";", 1)[0].strip().lower()
        if _CONTENT_TYPE.match(main) and main != "application/x-unknown":
            return main
    guessed, _ = mimetypes.guess_type(name, strict=False)
    return guessed or "application/octet-stream"


def served_content_type(stored: str) -> str:
    """The Content-Type a file is served with: its stored type when inert, else application/octet-stream
    (an uploaded "text/html" or SVG must never be rendered, let alone run, on this origin)."""
    if stored in _SERVED_AS_DECLARED or stored.startswith(_SERVED_PREFIXES):
        return stored
    return "application/octet-stream"


def _strip_invisible(text: str) -> str:
    """Without format/private/surrogate characters (bidi overrides, zero-width joiners): they only spoof
    what is shown."""
    return "".join(c for c in text if unicodedata.category(c) not in ("Cf", "Cs", "Co"))


def normalize_tags(tags: list[str] | str | None) -> list[str]:
    """Trimmed, de-duplicated (order kept), bounded tags; raises ValueError on bad ones."""
    if tags is None:
        return []
    if isinstance(tags, str):
        tags = tags.split(",")
    out: list[str] = []
    for tag in tags:
        if not isinstance(tag, str):
            raise ValueError("tags must be strings")
        tag = _strip_invisible(unicodedata.normalize("NFC", tag)).strip()
        if not tag:
            continue
        if len(tag) > MAX_TAG_CHARS:
            raise ValueError(f"tag longer than {MAX_TAG_CHARS} characters")
        if _TAG_BAD.search(tag):
            raise ValueError("tags must not contain commas or control characters")
        if tag not in out:
            out.append(tag)
    if len(out) > MAX_TAGS:
        raise ValueError(f"more than {MAX_TAGS} tags")
    return out
