/**
 * Image tags and references: which tags a run may push, where the images live in ACR, and what
 * `Container.publish` answers.
 */
import { validateAcrName, validateImageTag } from "./validate.js"

/** The event that started the run (the workflow passes `github.event_name`; `local` from a laptop). */
export type TriggerEvent = "push" | "pull_request" | "workflow_dispatch" | "local"

const EVENTS: readonly TriggerEvent[] = ["push", "pull_request", "workflow_dispatch", "local"]

/**
 * What started a deployAks run, as the CLI takes it (`--event PUSH`; enum values cannot contain "-").
 * The workflow maps `github.event_name` onto it.
 */
export enum DeployEvent {
  /** a push to the deployment branch: publishes :<tag> and :latest */
  PUSH = "PUSH",
  /** a pull request: builds only (dryRun), never publishes */
  PULL_REQUEST = "PULL_REQUEST",
  /** a manual dispatch: publishes :<tag> and :latest */
  WORKFLOW_DISPATCH = "WORKFLOW_DISPATCH",
  /** a laptop: publishes :<tag> only */
  LOCAL = "LOCAL",
}

export function parseTriggerEvent(value: string): TriggerEvent {
  const v = value.trim().toLowerCase()
  if ((EVENTS as readonly string[]).includes(v)) {
    return v as TriggerEvent
  }
  throw new Error(`event: one of ${EVENTS.join(", ")} (got "${v}")`)
}

/** Image names shared with the Dockerfiles, Compose and the kustomize base (docs/contracts.md §5). */
export const IMAGE_NAMES = { backend: "mydocs-backend", ui: "mydocs-ui" } as const

/**
 * The tags one run pushes. A pull request pushes nothing (it only builds): asking for tags of a
 * pull request is an error, so `:latest` can never come from one. Pushes and manual dispatches
 * publish the tag and `latest`; a laptop (`local`) publishes the tag only.
 */
export function publishTags(event: TriggerEvent, tag: string): string[] {
  const t = validateImageTag(tag)
  switch (event) {
    case "pull_request":
      throw new Error("refusing to push images for a pull request: pull requests only build (use dryRun)")
    case "push":
    case "workflow_dispatch":
      return [t, "latest"]
    case "local":
      return [t]
  }
}

/** `<acr>.azurecr.io` for a validated registry name. */
export function acrLoginServer(acrName: string): string {
  return `${validateAcrName(acrName)}.azurecr.io`
}

/** `<acr>.azurecr.io/<image>` */
export function acrRepository(acrName: string, image: string): string {
  return `${acrLoginServer(acrName)}/${image}`
}

export interface PublishedRef {
  /** e.g. `mydocsacr.azurecr.io/mydocs-backend` */
  repository: string
  /** the tag that was pushed, when the reference names one */
  tag: string | null
  /** `sha256:<64 hex>` */
  digest: string
}

/** Parses the `repo[:tag]@sha256:…` that `Container.publish` returns. */
export function parsePublishedRef(ref: string): PublishedRef {
  const at = ref.lastIndexOf("@")
  if (at <= 0) {
    throw new Error(`published reference has no digest: "${ref}"`)
  }
  const digest = ref.slice(at + 1)
  if (!/^sha256:[a-f0-9]{64}$/.test(digest)) {
    throw new Error(`published reference has a malformed digest: "${ref}"`)
  }
  const name = ref.slice(0, at)
  const slash = name.lastIndexOf("/")
  const colon = name.lastIndexOf(":")
  let repository = name
  let tag: string | null = null
  if (colon > slash) {
    repository = name.slice(0, colon)
    tag = name.slice(colon + 1)
  }
  if (repository === "" || /\s/.test(repository) || (tag !== null && !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(tag))) {
    throw new Error(`published reference is malformed: "${ref}"`)
  }
  return { repository, tag, digest }
}
