#!/usr/bin/env python3
"""Build-time edits of the Go-proxy copy of github.com/dagger/dagger@v0.21.8.

The Go module proxy refuses four modules the engine's import graph reaches: github.com/vito/dang/v2
(the Dang v2 SDK), github.com/vito/midterm, github.com/vito/tuist and github.com/vito/tuist/teav1 (the
CLI's terminal UI, reached from the engine through three small uses). These edits cut exactly those
imports so cmd/engine, cmd/init, cmd/dialstdio and cmd/dnsname build from served modules only:

- core/sdk: a module asking for the Dang v2 SDK gets a clear error instead of the SDK (we use TypeScript);
- core/terminal.go: the "attaching terminal" banner is printed with termenv directly, and the call shown
  as its one-line display form instead of the TUI's tree dump;
- util/scrub: the three symbols it took from the TUI package become literals of the same values.

Every edit must match exactly once; any drift in the source fails the build with the file named.
Usage: edit-dagger-source.py DAGGER_SOURCE_DIR
"""
import pathlib
import sys


def edit(root: pathlib.Path, rel: str, pairs: list[tuple[str, str]]) -> None:
    path = root / rel
    text = path.read_text()
    for old, new in pairs:
        count = text.count(old)
        if count != 1:
            sys.exit(f"edit-dagger-source: {rel}: expected 1 match of {old!r}, found {count}")
        text = text.replace(old, new)
    path.write_text(text)


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit("usage: edit-dagger-source.py DAGGER_SOURCE_DIR")
    root = pathlib.Path(sys.argv[1])
    if not (root / "go.mod").is_file():
        sys.exit(f"edit-dagger-source: {root} holds no go.mod")

    edit(root, "core/sdk/dang_sdk.go", [
        ('\tdangv2 "github.com/dagger/dagger/core/sdk/dang/v2"\n', ""),
        ("\t\treturn dangv2.Impl{}\n", "\t\treturn dangV2Unavailable{}\n"),
    ])
    (root / "core/sdk/dang_v2_unavailable.go").write_text('''package sdk

// Added by MyDocs' engine build (test/dagger-engine/edit-dagger-source.py): the Dang v2 SDK's modules
// are not served by the Go module proxy, so this engine has no Dang v2 runtime.

import (
	"context"
	"errors"

	"github.com/dagger/dagger/core"
	"github.com/dagger/dagger/dagql"
)

var errDangV2Unavailable = errors.New("this engine was built without the Dang v2 SDK")

type dangV2Unavailable struct{}

func (dangV2Unavailable) ModuleTypes(
	context.Context, *core.SchemaBuilder, dagql.ObjectResult[*core.ModuleSource], dagql.ObjectResult[*core.Module],
) (dagql.ObjectResult[*core.Module], error) {
	return dagql.ObjectResult[*core.Module]{}, errDangV2Unavailable
}

func (dangV2Unavailable) Runtime(
	context.Context, *core.SchemaBuilder, dagql.ObjectResult[*core.ModuleSource],
) (core.ModuleRuntime, error) {
	return nil, errDangV2Unavailable
}
''')

    edit(root, "core/terminal.go", [
        ('\t"github.com/dagger/dagger/dagql/idtui"\n', ""),
        ("output := idtui.NewOutput(term.Stderr)",
         "output := termenv.NewOutput(term.Stderr, termenv.WithTTY(true))"),
        ("output.String(idtui.DotFilled)", 'output.String("●")'),
        ("output.String(idtui.IconFailure)", 'output.String("✘")'),
        ('dump := idtui.Dump{Newline: "\\r\\n", Prefix: "    "}',
         'dump := struct{ Newline string }{Newline: "\\r\\n"}'),
        ("if err := dump.DumpID(output, dumpID); err != nil {",
         'if _, err := fmt.Fprint(term.Stderr, "    "+dumpID.Display()); err != nil {'),
    ])

    edit(root, "util/scrub/scrub.go", [
        ('\t"github.com/dagger/dagger/dagql/idtui"\n', ""),
        ('\t"github.com/vito/midterm"\n', ""),
        ("regexp.QuoteMeta(midterm.Reset.Render())", 'regexp.QuoteMeta("\\x1b[0m")'),
        ('strings.Join(idtui.SkipLoggedOutTraceMsgEnvs, "|")',
         'strings.Join([]string{"DAGGER_NO_NAG", "NOTHANKS", "SHUTUP", "GOAWAY", "STOPIT"}, "|")'),
    ])
    path = root / "util/scrub/scrub.go"
    text = path.read_text()
    if text.count("idtui.IconSuccess") != 4 or text.count("idtui.IconCached") != 4:
        sys.exit("edit-dagger-source: util/scrub/scrub.go: the icon uses changed")
    path.write_text(text.replace("idtui.IconSuccess", '"✔"').replace("idtui.IconCached", '"$"'))


if __name__ == "__main__":
    main()
