// mydocs-dagger-session is the `session` command that Dagger's SDKs spawn (`_EXPERIMENTAL_DAGGER_CLI_BIN`),
// built on dagger v0.21.8's engine/client package. The full `dagger` CLI cannot be built from the Go module
// proxy (its terminal UI needs modules the proxy refuses), and an SDK client needs only this: connect to the
// engine named by _EXPERIMENTAL_DAGGER_RUNNER_HOST, serve the session's GraphQL API on a loopback port, print
// {"port":…,"session_token":…} as one JSON line on stdout, and stop when stdin closes or on SIGINT/SIGTERM.
//
// Exec output and engine logs go to stderr (one line each), so a caller sees progress; set
// MYDOCS_DAGGER_SESSION_QUIET=1 to drop them.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/dagger/dagger/engine"
	"github.com/dagger/dagger/engine/client"
	"github.com/google/uuid"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
)

const runnerHostEnv = "_EXPERIMENTAL_DAGGER_RUNNER_HOST"

type connectParams struct {
	Port         int    `json:"port"`
	SessionToken string `json:"session_token"`
}

// repeated is a flag that may be given several times (the SDKs pass several --label).
type repeated []string

func (r *repeated) String() string     { return strings.Join(*r, ",") }
func (r *repeated) Set(v string) error { *r = append(*r, v); return nil }

func main() {
	if len(os.Args) >= 2 && (os.Args[1] == "version" || os.Args[1] == "--version") {
		fmt.Printf("mydocs-dagger-session (engine/client of dagger %s)\n", engine.Version)
		return
	}
	if len(os.Args) < 2 || os.Args[1] != "session" {
		fmt.Fprintln(os.Stderr, "usage: mydocs-dagger-session session [--label K:V]... [--version V] [--workspace W] [--load-workspace-modules|--skip-workspace-modules]")
		fmt.Fprintln(os.Stderr, "       mydocs-dagger-session version")
		os.Exit(2)
	}
	if err := run(os.Args[2:]); err != nil {
		fmt.Fprintln(os.Stderr, "mydocs-dagger-session:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("session", flag.ContinueOnError)
	var labels repeated
	fs.Var(&labels, "label", "label identifying the SDK (accepted for compatibility; not sent)")
	version := fs.String("version", "", "SDK version (checked by the engine)")
	workspace := fs.String("workspace", "", "workspace to load")
	fs.StringVar(workspace, "W", "", "workspace to load (shorthand)")
	loadWs := fs.Bool("load-workspace-modules", false, "load workspace modules")
	skipWs := fs.Bool("skip-workspace-modules", false, "skip loading workspace modules")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if *loadWs && *skipWs {
		return errors.New("--load-workspace-modules and --skip-workspace-modules are mutually exclusive")
	}
	runnerHost := os.Getenv(runnerHostEnv)
	if runnerHost == "" {
		return fmt.Errorf("%s is not set: start an engine (bash scripts/dagger-engine.sh up) and eval its output", runnerHostEnv)
	}

	// a closed stdout or stderr (the parent went away) must not kill us mid-cleanup
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	token := uuid.NewString()
	params := client.Params{
		SecretToken:          token,
		Version:              *version,
		RunnerHost:           runnerHost,
		LoadWorkspaceModules: *loadWs,
		SkipWorkspaceModules: *skipWs,
	}
	if *workspace != "" {
		params.Workspace = workspace
	}
	if os.Getenv("MYDOCS_DAGGER_SESSION_QUIET") == "" {
		params.EngineLogs = &stderrLogs{w: os.Stderr}
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go func() { <-ctx.Done(); l.Close() }()
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); l.Close() }() // the SDK closes stdin to end the session

	sess, err := client.Connect(ctx, params)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", runnerHost, err)
	}
	defer sess.Close()

	srv := http.Server{
		Handler:           sess,
		ReadHeaderTimeout: 30 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	line, err := json.Marshal(connectParams{Port: l.Addr().(*net.TCPAddr).Port, SessionToken: token})
	if err != nil {
		return err
	}
	if _, err := os.Stdout.Write(append(line, '\n')); err != nil {
		return err
	}
	if err := srv.Serve(l); err != nil && !errors.Is(err, net.ErrClosed) {
		return err
	}
	return nil
}

// stderrLogs prints the body of every log record the engine sends (exec stdout/stderr, engine messages).
type stderrLogs struct {
	mu sync.Mutex
	w  io.Writer
}

func (e *stderrLogs) Export(_ context.Context, records []sdklog.Record) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, rec := range records {
		body := rec.Body()
		var text string
		switch body.Kind() {
		case otellog.KindString:
			text = body.AsString()
		case otellog.KindBytes:
			text = string(body.AsBytes())
		default:
			continue
		}
		if _, err := io.WriteString(e.w, text); err != nil {
			return nil // nowhere to report it; never fail the session for a log line
		}
	}
	return nil
}

func (e *stderrLogs) Shutdown(context.Context) error   { return nil }
func (e *stderrLogs) ForceFlush(context.Context) error { return nil }
