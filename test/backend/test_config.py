"""Configuration: environment validation, parser.yml schema, the `mydocs config` CLI, start-up refusal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mydocs.parser_config import ParserConfigError, load_parser_config, parse_parser_config
from mydocs.settings import ConfigError, describe_variables, load_settings

BIN = Path(sys.executable).parent
ISSUE_VARS = {"DATA_FOLDER", "CONFIG_ROOT", "MONGO_URL", "MONGO_USER", "MONGO_PASSWORD", "MONGO_DB_NAME",
              "MYDOCS_STORAGE_BACKEND", "AZURE_STORAGE_ACCOUNT_NAME", "AZURE_STORAGE_ACCOUNT_KEY",
              "AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGE_CONTAINER_NAME", "ENTRA_TENANT_ID",
              "ENTRA_CLIENT_ID", "ENTRA_ISSUER", "AZURE_DI_ENDPOINT", "AZURE_DI_API_KEY", "AZURE_OPENAI_API_KEY",
              "AZURE_OPENAI_API_BASE", "MYDOCS_INGEST_ROOTS", "MYDOCS_MAX_UPLOAD_BYTES"}


def clean_env(**env: str) -> dict[str, str]:
    """The process environment without any variable the backend reads, plus `env`."""
    base = {k: v for k, v in os.environ.items() if k not in ISSUE_VARS and not k.startswith(("MYDOCS_", "AZURE_",
                                                                                           "ENTRA_", "MONGO_"))}
    return {**base, **env}


def run(*args: str, env: dict[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), env=env, capture_output=True, text=True, timeout=60, cwd=cwd)


def test_defaults_and_empty_means_unset():
    s = load_settings({"MONGO_URL": "mongodb://db:27017", "MONGO_DB_NAME": "", "MYDOCS_STORAGE_BACKEND": "",
                       "AZURE_STORAGE_CONTAINER_NAME": "", "ENTRA_TENANT_ID": "", "MONGO_USER": ""})
    assert s.MONGO_DB_NAME == "mydocs" and s.MYDOCS_STORAGE_BACKEND == "local"
    assert s.AZURE_STORAGE_CONTAINER_NAME == "managed" and s.auth_enabled is False and s.MONGO_USER is None
    assert s.ingest_roots == [Path("/app/data/ingest")] and s.MYDOCS_MAX_UPLOAD_BYTES == 100 * 1024 * 1024
    assert str(s.DATA_FOLDER) == "/app/data" and str(s.CONFIG_ROOT) == "/app/config"


def test_issuer_default_and_roots():
    s = load_settings({"MONGO_URL": "mongodb://db", "ENTRA_TENANT_ID": "contoso.onmicrosoft.com", "ENTRA_CLIENT_ID": "cid",
                       "MYDOCS_INGEST_ROOTS": "/srv/a:/srv/b"})
    assert s.entra_issuer == "https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0"
    assert s.ingest_roots == [Path("/srv/a"), Path("/srv/b")]


TENANT = "11111111-2222-3333-4444-555555555555"


def test_issuer_kept_exactly_as_given():
    s = load_settings({"MONGO_URL": "mongodb://db", "ENTRA_TENANT_ID": TENANT, "ENTRA_CLIENT_ID": "cid",
                       "ENTRA_ISSUER": f"https://sts.windows.net/{TENANT}/"})
    assert s.entra_issuer == f"https://sts.windows.net/{TENANT}/"  # v1 issuers end with "/"


@pytest.mark.parametrize("env,expected", [
    ({}, ["MONGO_URL: required, not set"]),
    ({"MONGO_URL": "http://db"}, ["MONGO_URL: must start with mongodb:// or mongodb+srv://"]),
    ({"MONGO_URL": "mongodb://db", "MYDOCS_STORAGE_BACKEND": "s3"},
     ["MYDOCS_STORAGE_BACKEND: Input should be 'local' or 'azure_blob'"]),
    ({"MONGO_URL": "mongodb://db", "MYDOCS_STORAGE_BACKEND": "azure_blob"},
     ["AZURE_STORAGE_ACCOUNT_NAME: required when MYDOCS_STORAGE_BACKEND=azure_blob (or set "
      "AZURE_STORAGE_CONNECTION_STRING)"]),
    ({"MONGO_URL": "mongodb://db", "AZURE_STORAGE_CONTAINER_NAME": "Bad_Name"},
     ["AZURE_STORAGE_CONTAINER_NAME: must be 3-63 lowercase letters, digits or single hyphens, starting and "
      "ending with a letter or digit"]),
    ({"MONGO_URL": "mongodb://db", "ENTRA_TENANT_ID": TENANT},
     ["ENTRA_CLIENT_ID: required when ENTRA_TENANT_ID is set (auth is on)"]),
    ({"MONGO_URL": "mongodb://db", "ENTRA_TENANT_ID": "x/../../evil", "ENTRA_CLIENT_ID": "c"},
     ["ENTRA_TENANT_ID: must be a tenant GUID or a domain name such as contoso.onmicrosoft.com"]),
    ({"MONGO_URL": "mongodb://db", "MONGO_USER": "u"}, ["MONGO_PASSWORD: required when MONGO_USER is set"]),
    ({"MONGO_URL": "mongodb://db", "MYDOCS_MAX_UPLOAD_BYTES": "lots"},
     ["MYDOCS_MAX_UPLOAD_BYTES: Input should be a valid integer, unable to parse string as an integer"]),
    ({"MONGO_URL": "mongodb://db", "MYDOCS_INGEST_ROOTS": "relative/dir"},
     ["MYDOCS_INGEST_ROOTS: must be absolute paths, got 'relative/dir'"]),
    ({"MONGO_URL": "mongodb://db", "ENTRA_ISSUER": "not a url", "ENTRA_TENANT_ID": TENANT, "ENTRA_CLIENT_ID": "c"},
     ["ENTRA_ISSUER: must be an http(s) URL"]),
    ({"MONGO_URL": "nope", "MYDOCS_STORAGE_BACKEND": "azure_blob", "MONGO_PASSWORD": "p"},
     ["MONGO_URL: must start with mongodb:// or mongodb+srv://", "MONGO_USER: required when MONGO_PASSWORD is set",
      "AZURE_STORAGE_ACCOUNT_NAME: required when MYDOCS_STORAGE_BACKEND=azure_blob (or set "
      "AZURE_STORAGE_CONNECTION_STRING)"]),
])
def test_bad_values_one_line_each(env, expected):
    with pytest.raises(ConfigError) as info:
        load_settings(env)
    assert info.value.problems == expected


def test_problem_lines_never_echo_secrets():
    with pytest.raises(ConfigError) as info:
        load_settings({"MONGO_URL": "mongodb://db", "MONGO_PASSWORD": "s3cr3t-value", "MYDOCS_MAX_UPLOAD_BYTES": "x"})
    assert "s3cr3t-value" not in "\n".join(info.value.problems)


def test_keys_cover_every_setting():
    names = {v["name"] for v in describe_variables()}
    assert ISSUE_VARS <= names
    by = {v["name"]: v for v in describe_variables()}
    assert by["MONGO_URL"]["required"] is True and by["MONGO_URL"]["secret"] is True
    assert by["DATA_FOLDER"] == {**by["DATA_FOLDER"], "secret": False, "default": "/app/data", "required": False}
    assert by["AZURE_STORAGE_CONTAINER_NAME"]["default"] == "managed"
    assert all(v["description"] for v in by.values())


def test_cli_config_keys_json():
    r = run(str(BIN / "mydocs"), "config", "keys", "--json", env=clean_env())
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert {v["name"] for v in data["variables"]} >= ISSUE_VARS
    assert set(data["variables"][0]) == {"name", "required", "secret", "default", "description"}


def test_cli_config_check_reports_every_problem(tmp_path):
    r = run(str(BIN / "mydocs"), "config", "check",
            env=clean_env(MONGO_URL="bad", MYDOCS_STORAGE_BACKEND="azure_blob", CONFIG_ROOT=str(tmp_path)))
    assert r.returncode == 1
    assert r.stderr.splitlines() == [
        "MONGO_URL: must start with mongodb:// or mongodb+srv://",
        "AZURE_STORAGE_ACCOUNT_NAME: required when MYDOCS_STORAGE_BACKEND=azure_blob (or set "
        "AZURE_STORAGE_CONNECTION_STRING)"]
    assert "Traceback" not in r.stderr


def test_cli_config_check_ok_and_parser_problems(tmp_path):
    env = clean_env(MONGO_URL="mongodb://db", CONFIG_ROOT=str(tmp_path), AZURE_DI_ENDPOINT="https://di.example")
    ok = run(str(BIN / "mydocs"), "config", "check", env=env)
    assert ok.returncode == 0, ok.stderr
    assert "parser.yml not found" in ok.stderr  # absent: defaults and a warning
    assert "AZURE_DI_ENDPOINT: set" in ok.stdout and "AZURE_OPENAI_API_KEY: not set" in ok.stdout
    (tmp_path / "parser.yml").write_text("azure_di_model: prebuilt-layout\nchunking:\n  max_tokens: nope\n")
    bad = run(str(BIN / "mydocs"), "config", "check", env=env)
    assert bad.returncode == 1
    assert bad.stderr.splitlines() == [
        f"{tmp_path}/parser.yml:3: chunking.max_tokens: Input should be a valid integer, unable to parse string as "
        "an integer"]


def test_python_dash_m_works():
    r = run(sys.executable, "-m", "mydocs", "config", "keys", "--json", env=clean_env())
    assert r.returncode == 0 and json.loads(r.stdout)["variables"]


PARSER_CASES = [
    ("", None),
    ("azure_di_model: prebuilt-read\nocr_languages: [en, de]\nchunking:\n  max_tokens: 1000\n  overlap_tokens: 50\n",
     None),
    ("azure_di_model: prebuilt-layout\nunknown_key: 1\n", ["2: unknown_key: unknown key"]),
    ("chunking:\n  max_tokens: 100\n  overlap_tokens: 200\n",
     ["2: chunking: overlap_tokens must be smaller than max_tokens"]),
    ("a: [1, 2\nb: 3\n", None),  # YAML syntax error: line reported
    ("- just\n- a list\n", ["1: must be a mapping of settings, got list"]),
    ("schema_version: 2\n", ["1: schema_version: Input should be 1"]),
    ("file_types:\n  - .pdf\n  - docx\n",
     ["3: file_types.1: String should match pattern '^\\.[A-Za-z0-9][A-Za-z0-9_-]{0,15}$'"]),
    ("extract_tables: maybe\nmax_pages: 0\n",
     ["1: extract_tables: Input should be a valid boolean, unable to interpret input",
      "2: max_pages: Input should be greater than or equal to 1"]),
]


@pytest.mark.parametrize("text,expected", PARSER_CASES)
def test_parser_schema(text, expected):
    if expected is None and "[1, 2" not in text:
        parse_parser_config(text, "parser.yml")
        return
    with pytest.raises(ParserConfigError) as info:
        parse_parser_config(text, "parser.yml")
    if expected is None:
        (line,) = info.value.problems
        assert line.startswith("parser.yml:2: invalid YAML:")  # the line where the parser gave up
    else:
        assert info.value.problems == [f"parser.yml:{e}" for e in expected]


def test_cli_check_parser(tmp_path):
    good = tmp_path / "good.yml"
    good.write_text("azure_di_model: prebuilt-layout\n")
    r = run(str(BIN / "mydocs"), "config", "check-parser", str(good), env=clean_env())
    assert r.returncode == 0 and r.stdout.strip() == f"{good}: ok"
    bad = tmp_path / "bad.yml"
    bad.write_text("# comment\nazure_di_model: ''\nlocale: english\n")
    r = run(str(BIN / "mydocs"), "config", "check-parser", str(bad), env=clean_env())
    assert r.returncode == 1
    assert r.stderr.splitlines() == [f"{bad}:2: azure_di_model: String should have at least 1 character",
                                     f"{bad}:3: locale: String should match pattern '^[a-z]{{2}}(-[A-Z]{{2}})?$'"]
    missing = run(str(BIN / "mydocs"), "config", "check-parser", str(tmp_path / "nope.yml"), env=clean_env())
    assert missing.returncode == 1 and "file not found" in missing.stderr


def test_absent_parser_file_gives_defaults(tmp_path, caplog):
    cfg = load_parser_config(tmp_path)
    assert cfg.azure_di_model == "prebuilt-layout"
    assert "parser.yml not found" in caplog.text


STARTUP = textwrap.dedent("""
    import uvicorn
    uvicorn.run("mydocs.backend.app:create_app", factory=True, host="127.0.0.1", port=0, log_level="warning")
""")


def test_server_refuses_bad_config_without_traceback(tmp_path):
    env = clean_env(MONGO_URL="mongo://x", MYDOCS_STORAGE_BACKEND="ftp", CONFIG_ROOT=str(tmp_path))
    r = run(sys.executable, "-c", STARTUP, env=env)
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    assert r.stderr.splitlines() == [
        "mydocs: configuration error: MONGO_URL: must start with mongodb:// or mongodb+srv://",
        "mydocs: configuration error: MYDOCS_STORAGE_BACKEND: Input should be 'local' or 'azure_blob'"]


def test_server_refuses_malformed_parser_yml(tmp_path):
    (tmp_path / "parser.yml").write_text("chunking: [\n")
    env = clean_env(MONGO_URL="mongodb://127.0.0.1:1", CONFIG_ROOT=str(tmp_path), DATA_FOLDER=str(tmp_path / "d"))
    r = run(sys.executable, "-c", STARTUP, env=env)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    (line,) = r.stderr.splitlines()
    assert line.startswith(f"mydocs: configuration error: {tmp_path}/parser.yml:2: invalid YAML")
