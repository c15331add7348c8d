"""The `mydocs` command line: `config keys|check|check-parser` here, `sync ...` from mydocs.cli.sync."""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
from pathlib import Path

from mydocs import __version__
from mydocs.parser_config import ParserConfigError, check_parser_file, load_parser_config
from mydocs.settings import ConfigError, describe_variables, load_settings


def _config_keys(args: argparse.Namespace) -> int:
    variables = describe_variables()
    if args.json:
        print(json.dumps({"variables": variables}, indent=2))
    else:
        for v in variables:
            flags = ("required" if v["required"] else f"default {v['default']!r}") + (", secret" if v["secret"] else "")
            print(f"{v['name']:34} {flags}\n    {v['description']}")
    return 0


def _config_check(args: argparse.Namespace) -> int:
    problems: list[str] = []
    settings = None
    try:
        settings = load_settings()
    except ConfigError as exc:
        problems.extend(exc.problems)
    if settings is not None:
        try:
            load_parser_config(settings.CONFIG_ROOT)
        except ParserConfigError as exc:
            problems.extend(exc.problems)
    for line in problems:
        print(line, file=sys.stderr)
    if problems:
        return 1
    assert settings is not None
    print(f"configuration ok: storage backend {settings.MYDOCS_STORAGE_BACKEND}, "
          f"auth {'on' if settings.auth_enabled else 'off (stub user local-dev)'}, "
          f"database {settings.MONGO_DB_NAME}")
    later = {"AZURE_DI_ENDPOINT": settings.AZURE_DI_ENDPOINT, "AZURE_DI_API_KEY": settings.AZURE_DI_API_KEY,
             "AZURE_OPENAI_API_KEY": settings.AZURE_OPENAI_API_KEY,
             "AZURE_OPENAI_API_BASE": settings.AZURE_OPENAI_API_BASE}
    for name, value in later.items():
        print(f"{name}: {'set' if value else 'not set'} (used by document parsing, a later feature)")
    return 0


def _config_check_parser(args: argparse.Namespace) -> int:
    try:
        check_parser_file(Path(args.path))
    except ParserConfigError as exc:
        for line in exc.problems:
            print(line, file=sys.stderr)
        return 1
    print(f"{args.path}: ok")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mydocs", description="MyDocs backend command line.")
    parser.add_argument("--version", action="version", version=f"mydocs {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    config = sub.add_parser("config", help="inspect and validate the configuration")
    csub = config.add_subparsers(dest="config_command", required=True, metavar="SUBCOMMAND")
    keys = csub.add_parser("keys", help="list every environment variable the backend reads")
    keys.add_argument("--json", action="store_true", help="machine-readable output")
    keys.set_defaults(func=_config_keys)
    check = csub.add_parser("check", help="validate the environment and CONFIG_ROOT/parser.yml")
    check.set_defaults(func=_config_check)
    cp = csub.add_parser("check-parser", help="validate one parser.yml file")
    cp.add_argument("path", help="path of the parser.yml to check")
    cp.set_defaults(func=_config_check_parser)

    # `mydocs sync ...` lives in mydocs.cli.sync (owned by the sync area): add_parser(subparsers).
    try:
        sync_cli = importlib.import_module("mydocs.cli.sync")
    except ModuleNotFoundError as exc:
        if exc.name != "mydocs.cli.sync":
            raise
    else:
        sync_cli.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        for line in exc.problems:
            print(line, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
