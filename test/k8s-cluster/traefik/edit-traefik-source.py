#!/usr/bin/env python3
"""Build-time edits of the Go-proxy copy of github.com/traefik/traefik/v3@v3.7.13.

The Go module proxy refuses (403) modules that only lego's DNS-01 challenge providers reach
(github.com/go-acme/lego/v5/providers/dns imports every DNS provider lego has: cloud SDKs, some of whose
modules are not served). Traefik imports that package at one place, pkg/provider/acme/provider.go, to
look a provider up by name. This edit cuts exactly that import:

- pkg/provider/acme/provider.go: a certificate resolver configured with `dnsChallenge.provider` gets the
  error "DNS-01 challenge providers are not in this build" when it starts, instead of the provider.
  The HTTP-01 and TLS-ALPN-01 challenges are untouched.

(The basic and digest auth middlewares stay: their fork github.com/containous/go-http-auth is not served
at the pseudo-version Traefik pins, but is at the one earlier Traefik releases pinned; the wrapper go.mod
replaces github.com/abbot/go-http-auth with that one. No source edit is needed for them.)

Every edit must match exactly once; any drift in the source fails the build with the file named.
Idempotence is the caller's: run this on a fresh copy of the module source.
Usage: edit-traefik-source.py TRAEFIK_SOURCE_DIR
"""
import pathlib
import sys

MODULE = "module github.com/traefik/traefik/v3\n"


def edit(root: pathlib.Path, rel: str, pairs: list[tuple[str, str]]) -> None:
    path = root / rel
    if not path.is_file():
        sys.exit(f"edit-traefik-source: {rel}: no such file")
    text = path.read_text()
    for old, new in pairs:
        count = text.count(old)
        if count != 1:
            sys.exit(f"edit-traefik-source: {rel}: expected 1 match of {old!r}, found {count}")
        text = text.replace(old, new)
    path.write_text(text)


def add(root: pathlib.Path, rel: str, text: str) -> None:
    path = root / rel
    if path.exists():
        sys.exit(f"edit-traefik-source: {rel} already exists (not a fresh copy of the source?)")
    path.write_text(text)


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit("usage: edit-traefik-source.py TRAEFIK_SOURCE_DIR")
    root = pathlib.Path(sys.argv[1])
    gomod = root / "go.mod"
    if not gomod.is_file() or not gomod.read_text().startswith(MODULE):
        sys.exit(f"edit-traefik-source: {root} holds no go.mod of github.com/traefik/traefik/v3")

    # ACME: no DNS-01 challenge providers (lego/v5/providers/dns reaches unserved modules).
    edit(root, "pkg/provider/acme/provider.go", [
        ('\t"github.com/go-acme/lego/v5/providers/dns"\n', ""),
        ("provider, err = dns.NewDNSChallengeProviderByName(p.DNSChallenge.Provider)",
         "provider, err = dnsChallengeProviderByName(p.DNSChallenge.Provider)"),
    ])
    add(root, "pkg/provider/acme/dns_challenge_unavailable.go", '''package acme

// Added by MyDocs' Traefik build (test/k8s-cluster/traefik/edit-traefik-source.py): lego's DNS-01
// challenge providers (github.com/go-acme/lego/v5/providers/dns) reach modules the Go module proxy does
// not serve, so this build has none. The HTTP-01 and TLS-ALPN-01 challenges are unaffected.

import (
	"fmt"

	"github.com/go-acme/lego/v5/challenge"
)

func dnsChallengeProviderByName(name string) (challenge.Provider, error) {
	return nil, fmt.Errorf("ACME DNS challenge provider %q: DNS-01 challenge providers are not in this build", name)
}
''')


if __name__ == "__main__":
    main()
