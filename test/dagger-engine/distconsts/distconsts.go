// Package distconsts holds the paths and names the Dagger engine and its clients agree on. It replaces
// the package of the same import path that the Go module proxy does not serve; only identifiers the
// packages we build reference are defined, with the values of the engine image scripts/dagger-engine.sh
// assembles.
package distconsts

const (
	// Where the engine image keeps its binaries and state.
	RuncPath                         = "/usr/local/bin/runc"
	DaggerInitPath                   = "/usr/local/bin/dagger-init"
	EngineDefaultStateDir            = "/var/lib/dagger"
	EngineContainerBuiltinContentDir = "/usr/local/share/dagger/content"
	EngineCustomCACertsDir           = "/usr/local/share/ca-certificates"
	DefaultEngineSockAddr            = "unix:///run/dagger/engine.sock"

	// Name of the engine container when a client starts one itself (docker-container:// driver).
	EngineContainerName = "dagger-engine.dev"
	// Image annotation carrying the engine version.
	OCIVersionAnnotation = "io.dagger.engine.version"

	// Environment variables naming the digests of the builtin SDK contents (module runtimes only).
	GoSDKManifestDigestEnvName         = "DAGGER_GO_SDK_MANIFEST_DIGEST"
	PythonSDKManifestDigestEnvName     = "DAGGER_PYTHON_SDK_MANIFEST_DIGEST"
	TypescriptSDKManifestDigestEnvName = "DAGGER_TYPESCRIPT_SDK_MANIFEST_DIGEST"

	// Images the engine uses for helper containers (Container.terminal) and its own tests. Tags, not
	// digests, so a registry mirror with stand-ins can serve them where no registry is reachable.
	AlpineVersion = "3.22.2"
	AlpineImage   = "alpine:" + AlpineVersion
	BusyboxImage  = "busybox:1.37.0"
	GolangImage   = "golang:1.26.1-alpine"
)
