// Our stand-in for Traefik's nested module github.com/traefik/traefik/dynamic/ext, which the Go module
// proxy does not serve: the extension points of Traefik's dynamic configuration, empty in a plain build.
module github.com/traefik/traefik/dynamic/ext

go 1.24
