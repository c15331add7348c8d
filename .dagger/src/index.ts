/**
 * MyDocs delivery: build the two images, run the stack, test it on an ephemeral k3s cluster and
 * deploy it to AKS — the same functions on a laptop and in GitHub Actions.
 *
 * This file only wires containers and services; every decision (tags, build args, secret keys,
 * overlay edits, validation, reports, scripts) is a plain function in its own file beside it.
 */
import {
  CacheSharingMode,
  check,
  Container,
  dag,
  Directory,
  File,
  func,
  object,
  argument,
  ReturnType,
  Secret,
  Service,
  up,
} from "@dagger.io/dagger"

import { backendBuildArgs, uiBuildArgs } from "./buildargs.js"
import { actionlintContainer, ciMachine, clusterTestContainer, ferretdbImage, ferretdbService, kubectlContainer, uiForDagger } from "./containers.js"
import { applyToCluster, publishImages, rollBackCluster, smokeTest as smokeTest_ } from "./deploy.js"
import { K3dReport, k3dReportOf } from "./k3dreport.js"
import { deploymentImages, deploymentsOf, ingressHosts } from "./manifests.js"
import { Overlay, overlayPath, stampImages, type ImageStamp } from "./overlay.js"
import { CLUSTER_STEPS, formatDeployReport, parseStepLog, type DeployedImage, type K3dRunReport } from "./report.js"
import { clusterTestScript, k3dBaseUrl, k3dTestScript } from "./scripts.js"
import { currentCluster } from "./kubeconfig.js"
import {
  backendEnvEntries,
  parseConfigKeys,
  parseDotenv,
  secretKeyNames,
  selectSecretEntries,
  type ConfigKey,
} from "./settings.js"
import { acrLoginServer, DeployEvent, IMAGE_NAMES, parseTriggerEvent, publishTags } from "./tags.js"
import {
  validateAcrName,
  validateAksClusterName,
  validateImageTag,
  validateMongoUrl,
  validateRegistryHost,
  smokeUrlOf,
  validateHttpUrl,
  validateSmokeUrl,
  validateResourceGroup,
  validateTimeout,
} from "./validate.js"
import { INGRESS_NGINX_MANIFEST, INGRESS_NGINX_MANIFEST_SHA256, K3D_DIND_IMAGE, K3S_IMAGE } from "./versions.js"

export { Overlay } from "./overlay.js"
export { DeployEvent } from "./tags.js"
export { K3dReport, K3dStep } from "./k3dreport.js"

const K3D_TAG = "k3d-test"
/** the FerretDB image name the k3d overlay's mongo.yml expects */
const TEST_MONGO_IMAGE = "mydocs-test-mongo"
const K3D_HOST_PORT = 8081

/** Directory.entries() lists sub-directories with a trailing "/" */
function hasEntry(entries: string[], name: string): boolean {
  return entries.some((e) => e.replace(/\/$/, "") === name)
}

@object()
export class Mydocs {
  /** The repository, filtered like .dockerignore (secrets, data, caches and .git never enter). */
  source: Directory
  /** CA bundle for the image builds' downloads (the Dockerfiles' optional `ca_bundle` build secret) */
  caBundle?: Secret

  constructor(
    /** the MyDocs repository (default: the repository this module lives in) */
    @argument({
      defaultPath: "/",
      ignore: [
        // every exclusion of .dockerignore (its allowlist "*" aside: the module needs the tests,
        // manifests, workflows and scripts too) — test/pipeline/dagger/ignore.test.ts keeps them in step
        "**/.env",
        "**/.env.*",
        "**/node_modules",
        "**/dist",
        "**/__pycache__",
        "**/*.pyc",
        "**/*.egg-info",
        "**/.pytest_cache",
        "**/.mypy_cache",
        "**/.ruff_cache",
        "**/.vite",
        "**/coverage",
        "**/*.local",
        "**/*.log",
        "**/.DS_Store",
        "**/*.tsbuildinfo",
        // what .dockerignore leaves out through its allowlist, and the module must never load either
        ".git",
        "data",
        "config/*.local.yml",
        "deploy/k8s/overlays/*/secret.yml",
        ".venv",
        ".cache",
        ".dagger/sdk",
        "test-results",
        "test/e2e/artifacts",
        // the documented template of the variables (read by the compose tests of `test`)
        "!.env.example",
      ],
    })
    source: Directory,
    /** CA bundle of a TLS-intercepting proxy, for the images' pip and npm downloads (a build secret, in no layer): --ca-bundle file:///etc/ssl/certs/ca-certificates.crt */
    caBundle?: Secret,
  ) {
    this.source = source
    this.caBundle = caBundle
  }

  /**
   * The backend image, built from Dockerfile.backend.
   */
  @func()
  async buildBackend(
    /** base image override (PYTHON_IMAGE build arg), pinned by tag or digest; empty = the Dockerfile's default */
    pythonImage = "",
  ): Promise<Container> {
    const buildArgs = backendBuildArgs(pythonImage || undefined)
    return this.source.dockerBuild({
      dockerfile: "Dockerfile.backend",
      buildArgs,
      secrets: await this.buildSecrets(),
    })
  }

  /**
   * The UI image (nginx serving the SPA and proxying /api and /health to `backend:8000`), built from
   * Dockerfile.ui with the SPA's build-time settings.
   */
  @func()
  async buildUi(
    /** VITE_API_BASE_URL */
    apiBaseUrl = "/api/v1",
    /** VITE_ENTRA_CLIENT_ID: the Entra app's client ID; empty = sign-in off */
    entraClientId = "",
    /** VITE_ENTRA_AUTHORITY, e.g. https://login.microsoftonline.com/<tenant-id>; empty = sign-in off */
    entraAuthority = "",
    /** base image override (NODE_IMAGE build arg), pinned; empty = the Dockerfile's default */
    nodeImage = "",
    /** base image override (NGINX_IMAGE build arg), pinned; empty = the Dockerfile's default */
    nginxImage = "",
  ): Promise<Container> {
    const buildArgs = uiBuildArgs({
      apiBaseUrl,
      entraClientId,
      entraAuthority,
      nodeImage: nodeImage || undefined,
      nginxImage: nginxImage || undefined,
    })
    return this.source.dockerBuild({
      dockerfile: "Dockerfile.ui",
      buildArgs,
      secrets: await this.buildSecrets(),
    })
  }

  /**
   * MyDocs as one service, like `docker compose --profile local up`: the backend bound under the
   * alias `backend` (so deploy/nginx.conf works unchanged), the UI on port 8080, managed files on a
   * cache volume, and a throwaway FerretDB (MongoDB wire protocol) unless a MongoDB is given.
   * Serve it with: dagger call compose-up up --ports 8080:8080 (inside Dagger the UI listens on 8080:
   * Dagger's executor does not let non-root processes bind port 80, as Docker and Kubernetes do).
   */
  @func()
  @up()
  async composeUp(
    /** a .env file (as in .env.example); only the variables the backend reads are used */
    env?: Secret,
    /** a MongoDB URL (mongodb:// or mongodb+srv://); without it a throwaway FerretDB is used (MONGO_URL/USER/PASSWORD of the env file are then ignored) */
    mongoUrl?: Secret,
  ): Promise<Service> {
    const backendSvc = (await this.composeBackend(env, mongoUrl)).withExposedPort(8000).asService()
    return (await uiForDagger(await this.buildUi())).withServiceBinding("backend", backendSvc).asService()
  }

  /** composeUp's backend container (not a function of the API: the tests inspect it). */
  async composeBackend(env?: Secret, mongoUrl?: Secret): Promise<Container> {
    let backend = await this.buildBackend()
    const keys = await this.configKeys(backend)
    let entries = env ? backendEnvEntries(parseDotenv(await env.plaintext()), keys).entries : []
    if (!mongoUrl) {
      // the throwaway database replaces whatever MongoDB the env file names
      entries = entries.filter(([k]) => !["MONGO_URL", "MONGO_USER", "MONGO_PASSWORD"].includes(k))
    }
    // only what the backend marks secret becomes a secret: the engine scrubs every secret value from
    // all output, so plain settings such as "info" or "104857600" would turn into *** in every log
    const secretNames = new Set(secretKeyNames(keys))
    for (const [name, value] of entries) {
      backend = secretNames.has(name)
        ? backend.withSecretVariable(name, dag.setSecret(`mydocs-compose-${name}`, value))
        : backend.withEnvVariable(name, value)
    }
    if (mongoUrl) {
      validateMongoUrl(await mongoUrl.plaintext())
      backend = backend.withSecretVariable("MONGO_URL", mongoUrl)
    } else {
      backend = backend.withServiceBinding("mongo", ferretdbService()).withEnvVariable("MONGO_URL", "mongodb://mongo:27017/")
    }
    const user = await backend.user()
    backend = backend
      .withEnvVariable("DATA_FOLDER", "/app/data")
      .withEnvVariable("CONFIG_ROOT", "/app/config")
      .withMountedCache("/app/data", dag.cacheVolume("mydocs-compose-data"), user ? { owner: user } : {})
    if (hasEntry(await this.source.entries(), "config")) {
      backend = backend.withMountedDirectory("/app/config", this.source.directory("config"), user ? { owner: user } : {})
    }
    return backend
  }

  /**
   * Every suite of the README's test command in a privileged Debian 12 container with Go and Node:
   * `bash .ci/run`, which provisions the rest (Docker, FerretDB, Azurite, Chromium, the Dagger engine, ...)
   * and runs scripts/test.sh.
   */
  @func()
  @check()
  async test(): Promise<string> {
    return ciMachine()
      .withDirectory("/src", this.source)
      .withWorkdir("/src")
      .withEnvVariable("CI", "true")
      .withEnvVariable("DEBIAN_FRONTEND", "noninteractive")
      .withExec(["bash", ".ci/run"], { insecureRootCapabilities: true })
      .stdout()
  }

  /**
   * Lints the workflows (actionlint with shellcheck) and renders every kustomize overlay (kubectl kustomize).
   */
  @func()
  @check()
  async lint(): Promise<string> {
    const workflows = actionlintContainer()
      .withDirectory("/src", this.source)
      .withWorkdir("/src")
      .withExec(["sh", "-c", "actionlint -no-color .github/workflows/*.yml && echo 'actionlint: workflows ok'"])
      .stdout()
    const overlays = Object.values(Overlay).map(async (o) => {
      const rendered = await this.render(o)
      return `${overlayPath(o)}: ${deploymentsOf(rendered).length} deployments rendered`
    })
    // all at once, so a failure of one never leaves the others' rejections unobserved
    return (await Promise.all([workflows, ...overlays])).join("\n") + "\n"
  }

  /**
   * The manifests of one overlay as `kubectl kustomize` renders them.
   */
  @func()
  async renderManifests(
    /** SELF_HOSTED, AZURE or K3D; SELF_HOSTED renders with the template Secret (your secret.yml never enters the module) */
    overlay: Overlay = Overlay.K3D,
  ): Promise<string> {
    return this.render(overlay)
  }

  /**
   * End-to-end on an ephemeral k3s cluster created with k3d (inside k3d's dind image): both images
   * imported, ingress-nginx installed, deploy/k8s/overlays/k3d applied, rollouts awaited, the e2e
   * suite (test/e2e) run against the ingress; logs and events on failure; the cluster always
   * deleted. The report comes back passed or not (export its artifacts either way); `check` on it fails
   * the call when the run failed: dagger call test-on-k3d check
   */
  @func({ cache: "never" })
  async testOnK3d(
    /** timeout of each rollout wait (kubectl duration) */
    rolloutTimeout = "300s",
    /** run the browser tests of the e2e suite too (installs Chromium in the test container) */
    browser = true,
  ): Promise<K3dReport> {
    return this.runK3d(await this.buildBackend(), await this.buildUi(), rolloutTimeout, browser)
  }

  /**
   * testOnK3d's second half on any cluster: deploy/k8s/overlays/k3d applied with the kubeconfig given,
   * rollouts awaited, the ingress answering at baseUrl, the e2e suite's HTTP checks against it;
   * diagnostics on failure. The images the overlay names (mydocs-backend:latest, mydocs-ui:latest,
   * mydocs-test-mongo:latest, imagePullPolicy IfNotPresent) must already be on the cluster's nodes or
   * pullable; the cluster is left as the run leaves it (nothing is created or deleted).
   *   dagger call test-on-cluster --kubeconfig file:./kubeconfig --base-url http://10.0.0.5 check
   */
  @func({ cache: "never" })
  async testOnCluster(
    /** kubeconfig of the cluster (its current context is used) */
    kubeconfig: Secret,
    /** the cluster's Ingress as the engine's containers reach it, e.g. http://10.0.0.5:8000 */
    baseUrl: string,
    /** timeout of each rollout wait (kubectl duration) */
    rolloutTimeout = "300s",
  ): Promise<K3dReport> {
    validateTimeout("rolloutTimeout", rolloutTimeout)
    const url = validateHttpUrl("baseUrl", baseUrl)
    const cluster = currentCluster(await kubeconfig.plaintext()).clusterName
    const dir = overlayPath(Overlay.K3D)
    const rendered = await this.kustomize(this.source, dir)
    const script = clusterTestScript({
      baseUrl: url, rolloutTimeout, deployments: deploymentsOf(rendered),
      overlayDir: `/src/${dir}`, e2eDir: "/work/test/e2e", reportDir: "/work/report",
    })
    const ran = await clusterTestContainer(this.source, kubeconfig, this.caBundle)
      .withNewFile("/tmp/cluster-test.sh", script, { permissions: 0o555 })
      .withEnvVariable("MYDOCS_RUN_AT", new Date().toISOString())
      .withExec(["bash", "/tmp/cluster-test.sh"], { expect: ReturnType.Any })
      .sync()
    return k3dReportOf({
      cluster,
      baseUrl: url,
      steps: parseStepLog(await ran.file("/work/report/steps.log").contents()),
      exitCode: await ran.exitCode(),
      diagnostics: await ran.file("/work/report/diagnostics.txt").contents(),
      expectedSteps: CLUSTER_STEPS,
      title: "testOnCluster",
    }, ran.directory("/work/report"))
  }

  /** testOnK3d's run, on given images (deployAks tests the very containers it then publishes). */
  private async runK3d(backend: Container, ui: Container, rolloutTimeout: string, browser: boolean): Promise<K3dReport> {
    validateTimeout("rolloutTimeout", rolloutTimeout)
    const dir = overlayPath(Overlay.K3D)
    const stamped = stampImages(await this.source.file(`${dir}/kustomization.yaml`).contents(), [
      { name: IMAGE_NAMES.backend, newTag: K3D_TAG },
      { name: IMAGE_NAMES.ui, newTag: K3D_TAG },
      { name: TEST_MONGO_IMAGE, newTag: K3D_TAG },
    ])
    const src = this.source.withNewFile(`${dir}/kustomization.yaml`, stamped)
    const rendered = await this.kustomize(src, dir)
    const hosts = ingressHosts(rendered)
    const params = {
      cluster: "mydocs-e2e",
      k3sImage: K3S_IMAGE,
      hostPort: K3D_HOST_PORT,
      ingressHost: hosts[0] ?? null,
      rolloutTimeout,
      deployments: deploymentsOf(rendered),
      images: [
        { tarball: "/images/backend.tar", ref: `${IMAGE_NAMES.backend}:${K3D_TAG}` },
        { tarball: "/images/ui.tar", ref: `${IMAGE_NAMES.ui}:${K3D_TAG}` },
        { tarball: "/images/mongo.tar", ref: `${TEST_MONGO_IMAGE}:${K3D_TAG}` },
      ],
      ingressManifest: "/manifests/ingress-nginx.yaml",
      ingressManifestError: null as string | null,
      overlayDir: `/src/${dir}`,
      e2eDir: "/src/test/e2e",
      browser,
      reportDir: "/report",
    }
    // fetched (checksum-pinned) before the run; if it cannot be, the run still goes as far as it can
    // and its install-ingress step fails with the reason
    const manifest = await fetched(dag.http(INGRESS_NGINX_MANIFEST, { checksum: INGRESS_NGINX_MANIFEST_SHA256 }))
    params.ingressManifestError = manifest.error
    const ran = await dag
      .container()
      .from(K3D_DIND_IMAGE)
      .withMountedFile("/images/backend.tar", backend.asTarball())
      .withMountedFile("/images/ui.tar", ui.asTarball())
      .withMountedFile("/images/mongo.tar", ferretdbImage().asTarball())
      .withMountedFile(params.ingressManifest, manifest.file ?? dag.directory().withNewFile("none", "").file("none"))
      .withMountedDirectory("/src", src)
      // dockerd needs a non-overlay filesystem; PRIVATE: concurrent runs never share one
      .withMountedCache("/var/lib/docker", dag.cacheVolume("mydocs-k3d-docker"), { sharing: CacheSharingMode.Private })
      .withNewFile("/k3d-test.sh", k3dTestScript(params), { permissions: 0o755 })
      .withEnvVariable("MYDOCS_RUN_AT", new Date().toISOString())
      .withExec(["bash", "/k3d-test.sh"], { insecureRootCapabilities: true, expect: ReturnType.Any })
      .sync()
    const report: K3dRunReport = {
      cluster: params.cluster,
      baseUrl: k3dBaseUrl(params),
      steps: parseStepLog(await ran.file("/report/steps.log").contents()),
      exitCode: await ran.exitCode(),
      diagnostics: await ran.file("/report/diagnostics.txt").contents(),
    }
    return k3dReportOf(report, ran.directory("/report"))
  }

  /**
   * Builds both images, pushes them to ACR (`:<tag>` and, on pushes, `:latest`), creates or
   * updates the Secret mydocs-secrets, stamps the images by digest into deploy/k8s/overlays/azure,
   * applies it and waits for both rollouts. Azure credentials are short-lived tokens obtained with
   * OIDC on the runner (see docs/dagger.md). With dryRun: builds, renders the manifests and lists
   * the Secret's key names without pushing or contacting Azure.
   */
  @func({ cache: "never" })
  async deployAks(
    /** Azure Container Registry name, without .azurecr.io */
    acrName: string,
    /** AKS cluster name (the kubeconfig must point at it) */
    aksCluster: string,
    /** resource group of the AKS cluster */
    resourceGroup: string,
    /** image tag to push: the commit SHA (the workflow passes github.sha or the dispatch input) */
    tag: string,
    /** what started the run: PUSH, PULL_REQUEST, WORKFLOW_DISPATCH or LOCAL; pull requests never push */
    event: DeployEvent = DeployEvent.LOCAL,
    /** .env file with the Secret's values (keys the backend marks secret); omitted = Secret left as it is */
    appEnv?: Secret,
    /** ACR access token: az acr login --name <acr> --expose-token --query accessToken -o tsv */
    acrToken?: Secret,
    /** kubeconfig of the cluster: az aks get-credentials --resource-group <rg> --name <aks> --file - */
    kubeconfig?: Secret,
    /** Entra access token for the AKS API (Entra-integrated clusters): az account get-access-token --resource 6dae42f8-4368-4678-94ff-3960e28e3630 --query accessToken -o tsv */
    aksToken?: Secret,
    /** VITE_ENTRA_CLIENT_ID for the UI build */
    entraClientId = "",
    /** VITE_ENTRA_AUTHORITY for the UI build */
    entraAuthority = "",
    /** timeout of each rollout wait */
    rolloutTimeout = "300s",
    /** render and report only: nothing is pushed, Azure is not contacted */
    dryRun = false,
    /** registry host to push to and deploy from; empty = <acrName>.azurecr.io (set it for a private endpoint or a custom domain) */
    registry = "",
    /** before publishing, run testOnK3d on the very images built here; a failed run publishes nothing */
    k3dTest = true,
    /** after the rollouts, run the e2e suite's read-only smoke subset against the live URL; a failure rolls both Deployments back */
    smokeTest = true,
    /** the live URL for the smoke test; empty = https://<the azure overlay's Ingress host> */
    smokeUrl = "",
  ): Promise<string> {
    const acr = validateAcrName(acrName)
    const cluster = validateAksClusterName(aksCluster)
    const rg = validateResourceGroup(resourceGroup)
    const imageTag = validateImageTag(tag)
    const ev = parseTriggerEvent(event)
    validateTimeout("rolloutTimeout", rolloutTimeout)
    const explicitSmokeUrl = smokeUrl ? validateSmokeUrl(smokeUrl) : ""
    const tags = dryRun ? [imageTag] : publishTags(ev, imageTag)
    if (!dryRun && (!acrToken || !kubeconfig)) {
      throw new Error("deployAks: acrToken and kubeconfig are required unless dryRun is set")
    }

    const backend = await this.buildBackend()
    const ui = await this.buildUi("/api/v1", entraClientId, entraAuthority)
    const keys = await this.configKeys(backend)
    const selection = appEnv ? selectSecretEntries(parseDotenv(await appEnv.plaintext()), keys) : null
    if (selection && selection.missingRequired.length > 0) {
      throw new Error(`appEnv: required secret keys without a value: ${selection.missingRequired.join(", ")}`)
    }
    const dir = overlayPath(Overlay.AZURE)
    const kustomization = await this.source.file(`${dir}/kustomization.yaml`).contents()
    const registryHost = registry ? validateRegistryHost(registry) : acrLoginServer(acr)

    let images: DeployedImage[]
    let stamps: ImageStamp[]
    if (dryRun) {
      await Promise.all([backend.sync(), ui.sync()])
      images = [IMAGE_NAMES.backend, IMAGE_NAMES.ui].map((n) => ({ name: n, refs: [`${registryHost}/${n}:${imageTag}`], digest: null }))
      stamps = images.map((i) => ({ name: i.name, newName: `${registryHost}/${i.name}`, newTag: imageTag }))
    } else {
      if (k3dTest) {
        // the images tested are the images published and deployed: one build, in this call
        const tested = await this.runK3d(backend, ui, rolloutTimeout, true)
        if (!tested.passed) throw new Error(`deployAks: testOnK3d failed, nothing was published\n${tested.summary}`)
      }
      images = await publishImages([[IMAGE_NAMES.backend, backend], [IMAGE_NAMES.ui, ui]], registryHost, acrToken!, tags)
      stamps = images.map((i) => ({ name: i.name, newName: `${registryHost}/${i.name}`, digest: i.digest! }))
    }
    const src = this.source.withNewFile(`${dir}/kustomization.yaml`, stampImages(kustomization, stamps))
    const rendered = await this.kustomize(src, dir)
    // checked before anything is pushed or applied
    const url = explicitSmokeUrl || (smokeTest ? smokeUrlOf(ingressHosts(rendered)) : "")
    const report = (body: string) => formatDeployReport({
      dryRun,
      event: ev,
      target: `AKS ${cluster} (resource group ${rg}), registry ${registryHost}`,
      images,
      secretKeys: selection ? selection.entries.map(([k]) => k) : secretKeyNames(keys),
      secretSource: selection ? "env-file" : dryRun ? "backend-keys" : "unchanged",
      skippedEmpty: selection?.skippedEmpty ?? [],
      body,
    })
    if (dryRun) return report(rendered)

    const step = {
      src, overlayDir: dir, rendered, kubeconfig: kubeconfig!, aksToken: aksToken ?? null, cluster,
      secretEntries: selection?.entries ?? null, rolloutTimeout,
    }
    const applied = await applyToCluster(step)
    // what the overlay now deploys, so a failed run still says exactly which images are where
    const body = `stamped images: ${deploymentImages(rendered).join(", ")}\n${applied.output}`
    if (applied.rolledBack !== null) {
      throw new Error(`deployAks: a rollout did not complete within ${rolloutTimeout}; rolled back to the previous revisions: ${applied.rolledBack}\n${report(`${body}${applied.stderrTail}`)}`)
    }
    if (applied.exitCode !== 0) {
      throw new Error(`deployAks: the Kubernetes step failed (exit ${applied.exitCode}): ${applied.unreachable ?? "see the output below"}\n${report(`${body}${applied.stderrTail}`)}`)
    }
    if (!smokeTest) return report(`${body}smoke test: not run (smokeTest=false)\n`)
    const smoke = await smokeTest_(this.source, url, this.caBundle)
    if (!smoke.passed) {
      const back = await rollBackCluster(step, applied.previous)
      const what = back.exitCode === 0 ? `rolled back to the previous revisions: ${back.rolledBack}` : `the rollback failed too (exit ${back.exitCode}): ${back.output.trim().split("\n").slice(-3).join(" / ")}`
      throw new Error(`deployAks: the smoke test against ${url} failed; ${what}\n${report(`${body}--- smoke test\n${smoke.outputTail}\n--- rollback\n${back.output}${back.stderrTail}`)}`)
    }
    return report(`${body}smoke test against ${url}: passed\n`)
  }

  /**
   * The Dockerfiles' build secrets: dockerBuild mounts a secret under its name, so the CA bundle is
   * re-named `ca_bundle`, the id the Dockerfiles mount (optional there: none is fine).
   */
  private async buildSecrets(): Promise<Secret[]> {
    if (!this.caBundle) return []
    return [dag.setSecret("ca_bundle", await this.caBundle.plaintext())]
  }

  /** The backend's variables, read from the built image (`mydocs config keys --json`). */
  private async configKeys(backend: Container): Promise<ConfigKey[]> {
    return parseConfigKeys(await backend.withExec(["mydocs", "config", "keys", "--json"]).stdout())
  }

  /** `kubectl kustomize` of one directory of a source tree. */
  private async kustomize(src: Directory, dir: string): Promise<string> {
    return kubectlContainer().withMountedDirectory("/src", src).withExec(["kubectl", "kustomize", `/src/${dir}`]).stdout()
  }

  /**
   * Renders an overlay. The self-hosted overlay's secret.yml is never loaded into the module (see
   * the source filter): it is rendered with the base's template secret.yml.example instead.
   */
  private async render(overlay: Overlay): Promise<string> {
    const dir = overlayPath(overlay)
    let src = this.source
    if (overlay === Overlay.SELF_HOSTED && !hasEntry(await src.directory(dir).entries(), "secret.yml")) {
      src = src.withFile(`${dir}/secret.yml`, src.file("deploy/k8s/base/secret.yml.example"))
    }
    return this.kustomize(src, dir)
  }
}

/** Fetches a file now, so that a failure can be reported where it matters instead of failing everything. */
async function fetched(file: File): Promise<{ file: File | null; error: string | null }> {
  try {
    await file.sync()
    return { file, error: null }
  } catch (e) {
    return { file: null, error: (e instanceof Error ? e.message : String(e)).split("\n")[0] ?? "unknown error" }
  }
}
