/**
 * Kustomize overlays: which directory each overlay lives in, and the `images:` edit that
 * `kustomize edit set image` would make, done with the `yaml` package (kubectl embeds kustomize for
 * `apply -k` but has no `edit`). Comments and key order of the kustomization are kept.
 */
import { isMap, isSeq, parseDocument, YAMLMap } from "yaml"

/**
 * The overlays in deploy/k8s/overlays (enum values cannot contain "-": SELF_HOSTED → self-hosted).
 * Member names equal their values, so the CLI spelling is the same whichever Dagger shows.
 */
export enum Overlay {
  /** deploy/k8s/overlays/self-hosted */
  SELF_HOSTED = "SELF_HOSTED",
  /** deploy/k8s/overlays/azure */
  AZURE = "AZURE",
  /** deploy/k8s/overlays/k3d */
  K3D = "K3D",
}

const OVERLAY_DIRS: Record<Overlay, string> = {
  [Overlay.SELF_HOSTED]: "deploy/k8s/overlays/self-hosted",
  [Overlay.AZURE]: "deploy/k8s/overlays/azure",
  [Overlay.K3D]: "deploy/k8s/overlays/k3d",
}

/** The overlay's directory relative to the repository root. */
export function overlayPath(overlay: Overlay | string): string {
  const dir = OVERLAY_DIRS[overlay as Overlay]
  if (!dir) {
    throw new Error(`overlay: one of ${Object.values(Overlay).join(", ")} (got "${overlay}")`)
  }
  return dir
}

/** One entry of a kustomization's `images:` list. */
export interface ImageStamp {
  /** the image name used in the base manifests, e.g. `mydocs-backend` */
  name: string
  /** the full repository to use instead, e.g. `mydocsacr.azurecr.io/mydocs-backend` */
  newName?: string
  /** a tag; ignored by kustomize when a digest is given, so it is not written then */
  newTag?: string
  /** `sha256:<64 hex>`: pins the exact image that was pushed */
  digest?: string
}

const IMAGE_NAME = /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/
const DOMAIN = /^(?:localhost|[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+)(?::[0-9]+)?$|^[A-Za-z0-9-]+:[0-9]+$/

/** A repository such as `mydocsacr.azurecr.io/mydocs-ui`: the first part is a registry only when it has a `.` or `:` or is `localhost`, as in Docker. */
function isRepository(ref: string): boolean {
  const parts = ref.split("/")
  const first = parts[0]!
  const hasDomain = parts.length > 1 && (first.includes(".") || first.includes(":") || first === "localhost")
  if (hasDomain && !DOMAIN.test(first)) return false
  return (hasDomain ? parts.slice(1) : parts).every((p) => PATH_COMPONENT.test(p))
}
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/
const DIGEST = /^sha256:[a-f0-9]{64}$/

function checkStamp(s: ImageStamp): void {
  if (!IMAGE_NAME.test(s.name)) throw new Error(`images: "${s.name}" is not an image name`)
  if (s.newName !== undefined && !isRepository(s.newName)) {
    throw new Error(`images: ${s.name}: newName "${s.newName}" is not an image repository`)
  }
  if (s.newTag !== undefined && !TAG.test(s.newTag)) {
    throw new Error(`images: ${s.name}: newTag "${s.newTag}" is not a valid tag`)
  }
  if (s.digest !== undefined && !DIGEST.test(s.digest)) {
    throw new Error(`images: ${s.name}: digest "${s.digest}" is not sha256:<64 hex>`)
  }
  if (s.newName === undefined && s.newTag === undefined && s.digest === undefined) {
    throw new Error(`images: ${s.name}: nothing to set (newName, newTag or digest)`)
  }
}

/**
 * Returns the kustomization with its `images:` list updated: an entry with the same `name` is
 * replaced in place, a new one is appended; other entries and everything else stay as they are.
 */
export function stampImages(kustomizationYaml: string, images: ImageStamp[]): string {
  const names = new Set<string>()
  for (const s of images) {
    checkStamp(s)
    if (names.has(s.name)) throw new Error(`images: ${s.name} is given twice`)
    names.add(s.name)
  }
  const doc = parseDocument(kustomizationYaml)
  if (doc.errors.length > 0) {
    throw new Error(`kustomization.yaml does not parse: ${doc.errors[0]!.message}`)
  }
  if (!isMap(doc.contents)) {
    throw new Error("kustomization.yaml: the document is not a mapping")
  }
  const kind = doc.get("kind")
  if (kind !== undefined && kind !== "Kustomization" && kind !== "Component") {
    throw new Error(`kustomization.yaml: kind is "${String(kind)}", expected Kustomization`)
  }
  let list = doc.get("images", true)
  if (list === undefined || list === null) {
    list = doc.createNode([])
    doc.set("images", list)
  }
  if (!isSeq(list)) {
    throw new Error("kustomization.yaml: images is not a list")
  }
  for (const s of images) {
    const entry: Record<string, string> = { name: s.name }
    if (s.newName !== undefined) entry.newName = s.newName
    if (s.digest !== undefined) entry.digest = s.digest
    else if (s.newTag !== undefined) entry.newTag = s.newTag
    const node = doc.createNode(entry) as YAMLMap
    const idx = list.items.findIndex((it) => isMap(it) && it.get("name") === s.name)
    if (idx >= 0) list.items[idx] = node
    else list.items.push(node)
  }
  return doc.toString()
}
