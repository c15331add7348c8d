// Our own module for the import path dagger v0.21.8 uses for its build constants: the Go module proxy
// serves no version of it. Values are the facts of the engine image layout (docs/dagger-engine.md).
module github.com/dagger/dagger/engine/distconsts

go 1.26.1
