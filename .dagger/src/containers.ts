/**
 * The tool and service containers the module's functions are built from, one concern each. All tool
 * containers start from DEBIAN_IMAGE (or the Debian-based GOLANG_IMAGE) and get their tool pinned from
 * its own source: kubectl from the Kubernetes project's image, FerretDB and actionlint from the Go module
 * proxy.
 */
import { dag, type Container, type Directory, type File, type Secret, type Service } from "@dagger.io/dagger"

import { ferretdbBuildScript } from "./scripts.js"
import { ACTIONLINT_VERSION, DEBIAN_IMAGE, FERRETDB_VERSION, GOLANG_IMAGE, KUBECTL_BINARY, KUBECTL_IMAGE, NODE_IMAGE } from "./versions.js"

export const NONROOT_UID = "65532:65532"
/**
 * The UI's nginx listens on 80 under Docker and Kubernetes, whose runtimes let a non-root process bind
 * low ports (ip_unprivileged_port_start=0). Dagger's executor does not, so inside Dagger the same image
 * serves on this port instead (same config file, only its `listen` line changed).
 */
export const UI_DAGGER_PORT = 8080

/** Debian with kubectl, as a non-root user. */
export function kubectlContainer(): Container {
  return dag
    .container()
    .from(DEBIAN_IMAGE)
    .withFile("/usr/local/bin/kubectl", dag.container().from(KUBECTL_IMAGE).file(KUBECTL_BINARY), { permissions: 0o755 })
    .withUser(NONROOT_UID)
    .withEnvVariable("HOME", "/tmp")
    .withWorkdir("/tmp")
}

/**
 * Node as a non-root user with a home (npm's cache, TMPDIR) of its own — the image's /tmp need not be
 * writable for it (the stand-in's is not); behind a TLS-intercepting proxy, npm needs that proxy's CA (NODE_EXTRA_CA_CERTS,
 * from a mounted secret file).
 */
function nodeAsUser(caBundle?: Secret): Container {
  const ctr = dag
    .container()
    .from(NODE_IMAGE)
    .withDirectory("/work/home", dag.directory().withNewDirectory("tmp", { permissions: 0o700 }), { owner: NONROOT_UID })
    .withUser(NONROOT_UID)
    .withEnvVariable("HOME", "/work/home")
    .withEnvVariable("TMPDIR", "/work/home/tmp")
    .withEnvVariable("npm_config_cache", "/work/home/.npm")
  if (!caBundle) return ctr
  return ctr
    .withMountedSecret("/run/secrets/ca.pem", caBundle, { owner: NONROOT_UID, mode: 0o400 })
    .withEnvVariable("NODE_EXTRA_CA_CERTS", "/run/secrets/ca.pem")
}

/** A writable copy of the e2e suite (without a developer's node_modules or artifacts). */
const e2eCopy = (src: Directory) => src.directory("test/e2e").withoutDirectory("node_modules").withoutDirectory("artifacts")

/** The e2e suite installed (`npm ci` against its lock) at /e2e, for running it against a URL. */
export function e2eContainer(src: Directory, caBundle?: Secret): Container {
  return nodeAsUser(caBundle)
    .withDirectory("/e2e", e2eCopy(src), { owner: NONROOT_UID })
    .withWorkdir("/e2e")
    .withExec(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"])
}

/**
 * testOnCluster's container: Node (the e2e suite) with kubectl, the source at /src, a writable copy of
 * the e2e suite at /work/test/e2e (its own tests expect that path), the report folder, and the kubeconfig as a mounted secret file.
 */
export function clusterTestContainer(src: Directory, kubeconfig: Secret, caBundle?: Secret): Container {
  return nodeAsUser(caBundle)
    .withFile("/usr/local/bin/kubectl", dag.container().from(KUBECTL_IMAGE).file(KUBECTL_BINARY), { permissions: 0o755 })
    .withMountedDirectory("/src", src)
    .withDirectory("/work/test/e2e", e2eCopy(src), { owner: NONROOT_UID })
    .withDirectory("/work/report", dag.directory(), { owner: NONROOT_UID })
    .withMountedSecret("/run/secrets/kubeconfig", kubeconfig, { owner: NONROOT_UID, mode: 0o400 })
    .withEnvVariable("KUBECONFIG", "/run/secrets/kubeconfig")
}

/** The Go toolchain with a shared module and build cache (tools built from the Go module proxy). */
function golang(): Container {
  return dag
    .container()
    .from(GOLANG_IMAGE)
    .withMountedCache("/go/pkg/mod", dag.cacheVolume("mydocs-go-mod"))
    .withMountedCache("/root/.cache/go-build", dag.cacheVolume("mydocs-go-build"))
    .withEnvVariable("CGO_ENABLED", "0")
    .withEnvVariable("GOTOOLCHAIN", "local")
}

/**
 * A Debian 12 machine as `.ci/run` expects one (Go, Node >= 20 with npm; `.ci/run` installs the rest with
 * apt), for `test`: Go from GOLANG_IMAGE, Node and npm copied from NODE_IMAGE.
 */
export function ciMachine(): Container {
  const node = dag.container().from(NODE_IMAGE)
  return dag
    .container()
    .from(GOLANG_IMAGE)
    .withFile("/usr/local/bin/node", node.file("/usr/local/bin/node"))
    .withDirectory("/usr/local/lib/node_modules/npm", node.directory("/usr/local/lib/node_modules/npm"))
    .withExec(["ln", "-sf", "../lib/node_modules/npm/bin/npm-cli.js", "/usr/local/bin/npm"])
    .withExec(["ln", "-sf", "../lib/node_modules/npm/bin/npx-cli.js", "/usr/local/bin/npx"])
    .withExec(["node", "--version"])
}

/** actionlint with shellcheck (actionlint runs it on every `run:` script). */
export function actionlintContainer(): Container {
  return golang()
    .withExec(["sh", "-c", "apt-get update -qq && apt-get install -y -qq --no-install-recommends shellcheck > /dev/null"])
    .withExec(["go", "install", `github.com/rhysd/actionlint/cmd/actionlint@${ACTIONLINT_VERSION}`])
}

/**
 * The throwaway MongoDB-wire database image (`mydocs-test-mongo` of the k3d overlay): the static FerretDB
 * binary built from the Go module proxy, alone in an empty image, non-root.
 */
export function ferretdbImage(): Container {
  const bin: File = golang()
    .withExec(["sh", "-c", ferretdbBuildScript(FERRETDB_VERSION, "/build", "/out/ferretdb")])
    .file("/out/ferretdb")
  return dag
    .container()
    .withFile("/usr/local/bin/ferretdb", bin, { permissions: 0o755 })
    .withUser(NONROOT_UID)
    .withEntrypoint(["/usr/local/bin/ferretdb"])
    .withExposedPort(27017)
}

/** FerretDB as a service (composeUp); its data on a cache volume. */
export function ferretdbService(): Service {
  return ferretdbImage()
    .withMountedCache("/state", dag.cacheVolume("mydocs-compose-ferretdb"), { owner: NONROOT_UID })
    .withEnvVariable("FERRETDB_HANDLER", "sqlite")
    .withEnvVariable("FERRETDB_SQLITE_URL", "file:/state/")
    .withEnvVariable("FERRETDB_STATE_DIR", "/state")
    .withEnvVariable("FERRETDB_LISTEN_ADDR", ":27017")
    .withEnvVariable("FERRETDB_TELEMETRY", "disable")
    .asService({ useEntrypoint: true })
}

/** The UI image made to listen on UI_DAGGER_PORT (see there), still as its non-root user. */
export async function uiForDagger(ui: Container): Promise<Container> {
  const user = await ui.user()
  return ui
    .withUser("0")
    .withExec(["sed", "-i", `s/listen 80;/listen ${UI_DAGGER_PORT};/`, "/etc/nginx/conf.d/default.conf"])
    .withExec(["grep", "-q", `listen ${UI_DAGGER_PORT};`, "/etc/nginx/conf.d/default.conf"])
    .withUser(user)
    // the image's EXPOSE 80 is an exposed port to Dagger too, and a service's health check waits for
    // every exposed port: nothing listens there now
    .withoutExposedPort(80)
    .withExposedPort(UI_DAGGER_PORT)
    // Dagger runs the image's HEALTHCHECK before the service counts as started: point it at the new port
    .withDockerHealthcheck(["wget", "-q", "-O", "/dev/null", `http://127.0.0.1:${UI_DAGGER_PORT}/`], {
      interval: "30s", timeout: "5s", startPeriod: "20s", startInterval: "1s", retries: 3,
    })
}
