// Package ext holds the extension points that Traefik embeds in its dynamic HTTP configuration and in
// each router. A plain build extends nothing, so both are empty.
package ext

// HTTP is embedded in dynamic.HTTPConfiguration.
type HTTP struct{}

// Router is embedded in dynamic.Router.
type Router struct{}
