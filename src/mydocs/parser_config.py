"""CONFIG_ROOT/parser.yml: the document parser's configuration, validated against a schema with line numbers."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

log = logging.getLogger("mydocs.config")

PARSER_FILE = "parser.yml"


class Chunking(BaseModel):
    model_config = ConfigDict(extra="forbid")
    max_tokens: int = Field(800, ge=50, le=8192)
    overlap_tokens: int = Field(100, ge=0)

    @model_validator(mode="after")
    def _overlap(self) -> "Chunking":
        if self.overlap_tokens >= self.max_tokens:
            raise ValueError("overlap_tokens must be smaller than max_tokens")
        return self


class ParserConfig(BaseModel):
    """Schema of parser.yml (schema_version 1). Unknown keys are errors, so typos surface."""

    model_config = ConfigDict(extra="forbid")
    schema_version: Literal[1] = 1
    azure_di_model: str = Field("prebuilt-layout", min_length=1, pattern=r"^[A-Za-z0-9._-]+$")
    locale: str | None = Field(None, pattern=r"^[a-z]{2}(-[A-Z]{2})?$")
    ocr_languages: list[str] = Field(default_factory=lambda: ["en"])
    max_pages: int | None = Field(None, ge=1, le=10000)
    file_types: list[Annotated[str, Field(pattern=r"^\.[A-Za-z0-9][A-Za-z0-9_-]{0,15}$")]] = Field(
        default_factory=lambda: [".pdf", ".docx", ".xlsx", ".pptx", ".txt", ".md",
                                                           ".html", ".png", ".jpg", ".jpeg", ".tiff"],
        description="file extensions the parser accepts, like '.pdf'")
    chunking: Chunking = Field(default_factory=Chunking)
    extract_tables: bool = True
    extract_figures: bool = False
    summary_deployment: str | None = Field(None, min_length=1)


class ParserConfigError(Exception):
    """parser.yml is malformed; `problems` holds `PATH:LINE: message` lines."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def _line_of(root: yaml.Node | None, loc: tuple[Any, ...]) -> int:
    """1-based line of the YAML node at `loc` (or of its nearest existing ancestor)."""
    node = root
    line = (root.start_mark.line + 1) if root is not None else 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            nxt = next((v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == part), None)
            if nxt is None:
                key = next((k for k, _ in node.value if isinstance(k, yaml.ScalarNode) and k.value == part), None)
                return key.start_mark.line + 1 if key is not None else line
            node = nxt
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            break
        line = node.start_mark.line + 1
    return line


def parse_parser_config(text: str, path: str) -> ParserConfig:
    """Validate parser.yml text; raise ParserConfigError with `path:line: message` lines."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise ParserConfigError([f"{path}:{line}: invalid YAML: {exc.problem or exc.context}"]) from None
    except yaml.YAMLError as exc:
        raise ParserConfigError([f"{path}:1: invalid YAML: {exc}"]) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ParserConfigError([f"{path}:1: must be a mapping of settings, got {type(data).__name__}"])
    try:
        return ParserConfig.model_validate(data)
    except ValidationError as exc:
        lines: list[tuple[int, str]] = []
        for err in exc.errors(include_url=False, include_input=False):
            loc = tuple(err["loc"])
            key = ".".join(str(p) for p in loc) or "(top level)"
            msg = err["msg"]
            if msg.startswith("Value error, "):
                msg = msg[len("Value error, "):]
            if err["type"] == "extra_forbidden":
                msg = "unknown key"
            line = _line_of(root, loc)
            lines.append((line, f"{path}:{line}: {key}: {msg}"))
        raise ParserConfigError([text for _, text in sorted(lines, key=lambda x: x[0])]) from None


def check_parser_file(path: Path) -> ParserConfig:
    """Validate one parser.yml file (must exist)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ParserConfigError([f"{path}:0: file not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ParserConfigError([f"{path}:0: cannot read: {exc}"]) from None
    return parse_parser_config(text, str(path))


def load_parser_config(config_root: Path) -> ParserConfig:
    """CONFIG_ROOT/parser.yml; absent: defaults and a warning; malformed: ParserConfigError."""
    path = config_root / PARSER_FILE
    if not path.exists():
        log.warning("%s not found: using the parser defaults", path)
        return ParserConfig()
    return check_parser_file(path)
