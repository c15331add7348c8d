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
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}
_CONTENT_TYPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$")
_TAG_BAD = re.compile(r"[\x00-\x1f\x7f,]")


def sanitize_filename(raw: str | None) -> str:
    """A single safe path segment: no separators, no '..', no control characters, at most 200 UTF-8 bytes
    (the extension is kept when shortening), never hidden (no leading dot), never empty."""
    name = unicodedata.normalize("NFC", raw or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]  # keep the last path segment only
    name = _UNSAFE.sub("_", name)
    # format/private/surrogate characters (bidi overrides, zero-width joiners) only spoof what is shown
    name = "".join(c for c in name if unicodedata.category(c) not in ("Cf", "Cs", "Co"))
    name = re.sub(r"\s+", " ", name).strip(" .")  # no leading dots (hidden/`..`), no trailing dots/spaces
    if not name:
        name = DEFAULT_NAME
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    if stem.lower() in _WINDOWS_RESERVED:
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
        tag = unicodedata.normalize("NFC", tag).strip()
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
