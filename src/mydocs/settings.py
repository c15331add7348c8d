"""Configuration from the environment (twelve-factor): one Settings object, validated with one line per problem."""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlparse

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

MIB = 1024 * 1024
DEFAULT_MAX_UPLOAD_BYTES = 100 * MIB
DEFAULT_MAX_INGEST_BYTES = 10 * 1024 * MIB

# Azure container names: 3-63 chars, lowercase letters, digits and single hyphens, starting/ending alphanumeric.
_CONTAINER_RE = re.compile(r"^(?=.{3,63}$)[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9]))*$")
_PLACEHOLDERS = {"changeme", "change-me", "<changeme>", "todo", "xxx", "***"}


class ConfigError(Exception):
    """Invalid configuration; `problems` holds one human-readable line per problem."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


class Settings(BaseSettings):
    """Every environment variable the backend reads. Field names are the variable names."""

    model_config = SettingsConfigDict(env_ignore_empty=True, extra="ignore", case_sensitive=True,
                                      validate_default=True)

    DATA_FOLDER: Path = Field(Path("/app/data"), description="Root of the local data volume: managed files "
                              "(DATA_FOLDER/managed) and the default ingest root (DATA_FOLDER/ingest).")
    CONFIG_ROOT: Path = Field(Path("/app/config"), description="Folder holding parser.yml.")
    MONGO_URL: str = Field(..., description="MongoDB connection URL (mongodb:// or mongodb+srv://).",
                           json_schema_extra={"secret": True})
    MONGO_USER: str | None = Field(None, description="MongoDB user name (optional: a local server may run "
                                   "without auth).", json_schema_extra={"secret": True})
    MONGO_PASSWORD: str | None = Field(None, description="MongoDB password (required when MONGO_USER is set).",
                                       json_schema_extra={"secret": True})
    MONGO_DB_NAME: str = Field("mydocs", description="MongoDB database name.", json_schema_extra={"secret": True})
    MYDOCS_STORAGE_BACKEND: Literal["local", "azure_blob"] = Field(
        "local", description="Where managed files live: local (DATA_FOLDER/managed) or azure_blob.",
        json_schema_extra={"secret": True})
    AZURE_STORAGE_ACCOUNT_NAME: str | None = Field(
        None, description="Azure Storage account name (azure_blob without a connection string; alone it "
        "authenticates with DefaultAzureCredential, e.g. workload identity).", json_schema_extra={"secret": True})
    AZURE_STORAGE_ACCOUNT_KEY: str | None = Field(None, description="Azure Storage account key (with the "
                                                  "account name).", json_schema_extra={"secret": True})
    AZURE_STORAGE_CONNECTION_STRING: str | None = Field(
        None, description="Azure Storage connection string (takes precedence over name and key).",
        json_schema_extra={"secret": True})
    AZURE_STORAGE_CONTAINER_NAME: str = Field("managed", description="Blob container for managed files.",
                                              json_schema_extra={"secret": True})
    ENTRA_TENANT_ID: str | None = Field(None, description="Entra ID tenant; set = every /api/v1 call needs a "
                                        "bearer token, empty = auth off (stub user local-dev).",
                                        json_schema_extra={"secret": True})
    ENTRA_CLIENT_ID: str | None = Field(None, description="Entra app registration client id: the accepted "
                                        "token audience (also api://<id>). Required with ENTRA_TENANT_ID.",
                                        json_schema_extra={"secret": True})
    ENTRA_ISSUER: str | None = Field(None, description="Token issuer; default "
                                     "https://login.microsoftonline.com/<tenant>/v2.0.",
                                     json_schema_extra={"secret": True})
    AZURE_DI_ENDPOINT: str | None = Field(None, description="Azure Document Intelligence endpoint (reported by "
                                          "config check; used by parsing, a later feature).",
                                          json_schema_extra={"secret": True})
    AZURE_DI_API_KEY: str | None = Field(None, description="Azure Document Intelligence key.",
                                         json_schema_extra={"secret": True})
    AZURE_OPENAI_API_KEY: str | None = Field(None, description="Azure OpenAI key (later feature).",
                                             json_schema_extra={"secret": True})
    AZURE_OPENAI_API_BASE: str | None = Field(None, description="Azure OpenAI endpoint (later feature).",
                                              json_schema_extra={"secret": True})
    MYDOCS_INGEST_ROOTS: Annotated[list[Path], NoDecode] = Field(
        default_factory=list, description="Server folders that POST /api/v1/documents/ingest may read, separated "
        "by ':' (default DATA_FOLDER/ingest).")
    MYDOCS_MAX_UPLOAD_BYTES: int = Field(DEFAULT_MAX_UPLOAD_BYTES, description="Largest accepted file in bytes "
                                         "(default 104857600 = 100 MiB).")
    MYDOCS_MAX_INGEST_BYTES: int = Field(DEFAULT_MAX_INGEST_BYTES, description="Most bytes one ingest request "
                                         "may copy or index, counted over all its files (default 10737418240 = "
                                         "10 GiB).")
    MYDOCS_ADMIN_ROLE: str = Field("MyDocs.Admin", description="Entra app role (the token's `roles` claim) "
                                   "required for ingest, sync and migrate while auth is on.")
    MYDOCS_BODY_IDLE_TIMEOUT_SECONDS: float = Field(60.0, description="An upload whose body sends nothing for "
                                                    "this long is answered 408 and discarded.")
    MYDOCS_LOG_LEVEL: Literal["debug", "info", "warning", "error"] = Field("info", description="Log level.")

    # ---- field validation (each failure becomes one "NAME: message" line) ----

    @field_validator("MYDOCS_STORAGE_BACKEND", "MYDOCS_LOG_LEVEL", mode="before")
    @classmethod
    def _lower(cls, v: Any) -> Any:
        return v.strip().lower() if isinstance(v, str) else v

    @field_validator("MYDOCS_INGEST_ROOTS", mode="before")
    @classmethod
    def _split_roots(cls, v: Any) -> Any:
        if isinstance(v, str):
            return [p for p in (s.strip() for s in v.split(":")) if p]
        return v

    @field_validator("DATA_FOLDER", "CONFIG_ROOT")
    @classmethod
    def _absolute(cls, v: Path) -> Path:
        if not v.is_absolute():
            v = Path(os.path.abspath(v))
        return v

    @field_validator("MYDOCS_INGEST_ROOTS")
    @classmethod
    def _absolute_roots(cls, v: list[Path]) -> list[Path]:
        for p in v:
            if not p.is_absolute():
                raise ValueError(f"must be absolute paths, got {str(p)!r}")
        return v

    @field_validator("MONGO_URL")
    @classmethod
    def _mongo_url(cls, v: str) -> str:
        v = v.strip()
        if not (v.startswith("mongodb://") or v.startswith("mongodb+srv://")):
            raise ValueError("must start with mongodb:// or mongodb+srv://")
        if v.lower() in _PLACEHOLDERS or len(v) <= len("mongodb://"):
            raise ValueError("has no host")
        return v

    @field_validator("MONGO_DB_NAME")
    @classmethod
    def _db_name(cls, v: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,63}", v):
            raise ValueError("must be 1-63 letters, digits, '_' or '-'")
        return v

    @field_validator("AZURE_STORAGE_CONTAINER_NAME")
    @classmethod
    def _container(cls, v: str) -> str:
        if not _CONTAINER_RE.match(v):
            raise ValueError("must be 3-63 lowercase letters, digits or single hyphens, starting and ending "
                             "with a letter or digit")
        return v

    @field_validator("AZURE_STORAGE_ACCOUNT_NAME")
    @classmethod
    def _account(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"[a-z0-9]{3,24}", v):
            raise ValueError("must be 3-24 lowercase letters or digits")
        return v

    @field_validator("ENTRA_ISSUER", "AZURE_DI_ENDPOINT", "AZURE_OPENAI_API_BASE")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        if v is not None:
            u = urlparse(v)
            if u.scheme not in ("http", "https") or not u.netloc:
                raise ValueError("must be an http(s) URL")
        return v

    @field_validator("ENTRA_TENANT_ID")
    @classmethod
    def _tenant(cls, v: str | None) -> str | None:
        # a GUID or a verified domain: it becomes part of the issuer URL, so nothing else is accepted
        if v is not None and not re.fullmatch(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}"
                                              r"|[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})+", v):
            raise ValueError("must be a tenant GUID or a domain name such as contoso.onmicrosoft.com")
        return v

    @field_validator("MYDOCS_MAX_UPLOAD_BYTES", "MYDOCS_MAX_INGEST_BYTES")
    @classmethod
    def _max_upload(cls, v: int) -> int:
        if v < 1:
            raise ValueError("must be a positive number of bytes")
        return v

    @field_validator("MYDOCS_BODY_IDLE_TIMEOUT_SECONDS")
    @classmethod
    def _idle(cls, v: float) -> float:
        if not 0 < v <= 3600:
            raise ValueError("must be a number of seconds between 0 and 3600")
        return v

    @field_validator("MYDOCS_ADMIN_ROLE")
    @classmethod
    def _role(cls, v: str) -> str:
        v = v.strip()
        if not re.fullmatch(r"[A-Za-z0-9._:-]{1,120}", v):
            raise ValueError("must be an app role value: 1-120 letters, digits, '.', '_', ':' or '-'")
        return v

    @field_validator("MONGO_PASSWORD", "AZURE_STORAGE_ACCOUNT_KEY", "AZURE_DI_API_KEY", "AZURE_OPENAI_API_KEY",
                     "ENTRA_TENANT_ID", "ENTRA_CLIENT_ID")
    @classmethod
    def _no_placeholder(cls, v: str | None) -> str | None:
        if v is not None and v.strip().lower() in _PLACEHOLDERS:
            raise ValueError("is a placeholder value, set the real one (or leave it empty)")
        return v

    # ---- derived values ----

    @property
    def ingest_roots(self) -> list[Path]:
        """Configured ingest roots, default DATA_FOLDER/ingest."""
        return list(self.MYDOCS_INGEST_ROOTS) or [self.DATA_FOLDER / "ingest"]

    @property
    def managed_root(self) -> Path:
        return self.DATA_FOLDER / "managed"

    @property
    def auth_enabled(self) -> bool:
        return bool(self.ENTRA_TENANT_ID)

    @property
    def entra_issuer(self) -> str | None:
        if self.ENTRA_ISSUER:
            return self.ENTRA_ISSUER  # exactly as given: Entra v1 issuers end with "/"
        if self.ENTRA_TENANT_ID:
            return f"https://login.microsoftonline.com/{self.ENTRA_TENANT_ID}/v2.0"
        return None

    def cross_field_problems(self) -> list[str]:
        """Problems that involve more than one variable."""
        return cross_field_problems({name: getattr(self, name) for name in type(self).model_fields})


def cross_field_problems(v: dict[str, Any]) -> list[str]:
    """Checks across variables, on validated values or on the raw environment (so that they are reported
    together with field errors)."""
    problems = []
    backend = str(v.get("MYDOCS_STORAGE_BACKEND") or "local").strip().lower()
    if v.get("MONGO_PASSWORD") and not v.get("MONGO_USER"):
        problems.append("MONGO_USER: required when MONGO_PASSWORD is set")
    if v.get("MONGO_USER") and not v.get("MONGO_PASSWORD"):
        problems.append("MONGO_PASSWORD: required when MONGO_USER is set")
    if v.get("ENTRA_TENANT_ID") and not v.get("ENTRA_CLIENT_ID"):
        problems.append("ENTRA_CLIENT_ID: required when ENTRA_TENANT_ID is set (auth is on)")
    if backend == "azure_blob" and not (v.get("AZURE_STORAGE_CONNECTION_STRING") or v.get("AZURE_STORAGE_ACCOUNT_NAME")):
        problems.append("AZURE_STORAGE_ACCOUNT_NAME: required when MYDOCS_STORAGE_BACKEND=azure_blob "
                        "(or set AZURE_STORAGE_CONNECTION_STRING)")
    if v.get("AZURE_STORAGE_ACCOUNT_KEY") and not v.get("AZURE_STORAGE_ACCOUNT_NAME") \
            and not v.get("AZURE_STORAGE_CONNECTION_STRING"):
        problems.append("AZURE_STORAGE_ACCOUNT_NAME: required when AZURE_STORAGE_ACCOUNT_KEY is set")
    conn = v.get("AZURE_STORAGE_CONNECTION_STRING")
    if conn:
        parts = dict(p.split("=", 1) for p in str(conn).split(";") if "=" in p)
        if not ("AccountName" in parts or "BlobEndpoint" in parts):
            problems.append("AZURE_STORAGE_CONNECTION_STRING: has neither AccountName= nor BlobEndpoint=")
    return problems


def format_validation_error(exc: ValidationError) -> list[str]:
    """One line per problem, naming the variable, never echoing a value (it may be a secret)."""
    lines = []
    for err in exc.errors(include_url=False, include_input=False):
        name = str(err["loc"][0]) if err["loc"] else "configuration"
        msg = err["msg"]
        if err["type"] == "missing":
            msg = "required, not set"
        elif msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        lines.append(f"{name}: {msg}")
    return lines


def load_settings(env: dict[str, str] | None = None, **overrides: Any) -> Settings:
    """Build Settings from the process environment (or `env`) and raise ConfigError listing every problem."""
    try:
        if env is not None:
            clean = {k: v for k, v in env.items() if v != ""}
            fields = {k: clean[k] for k in Settings.model_fields if k in clean}
            settings = Settings.model_validate({**fields, **overrides})
        else:
            settings = Settings(**overrides)
    except ValidationError as exc:
        problems = format_validation_error(exc)
        raw = {k: v for k, v in (os.environ if env is None else env).items() if v != ""}
        raw.update(overrides)
        named = {line.split(":", 1)[0] for line in problems}
        problems += [p for p in cross_field_problems(raw) if p.split(":", 1)[0] not in named]
        raise ConfigError(problems) from None
    problems = settings.cross_field_problems()
    if problems:
        raise ConfigError(problems)
    return settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached); raises ConfigError."""
    return load_settings()


def describe_variables() -> list[dict[str, Any]]:
    """The `mydocs config keys --json` list: every variable the backend reads."""
    out = []
    for name, field in Settings.model_fields.items():
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        default: Any = None
        if not field.is_required():
            default = field.get_default(call_default_factory=True)
            if isinstance(default, Path):
                default = str(default)
            elif isinstance(default, list):
                default = ":".join(str(p) for p in default) or None
        if name == "MYDOCS_INGEST_ROOTS":
            default = None  # computed: DATA_FOLDER/ingest
        out.append({"name": name, "required": field.is_required(), "secret": bool(extra.get("secret", False)),
                    "default": default, "description": field.description or ""})
    return out
