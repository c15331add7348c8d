import { describe, expect, it } from "vitest"
import {
  acrLoginServer,
  acrRepository,
  parsePublishedRef,
  parseTriggerEvent,
  publishTags,
} from "../../../.dagger/src/tags.js"

const SHA = "3f2c1d0e9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e"
const DIGEST = `sha256:${"0123456789abcdef".repeat(4)}`

describe("publishTags", () => {
  it("pushes the SHA and latest on a push and on a manual dispatch", () => {
    expect(publishTags("push", SHA)).toEqual([SHA, "latest"])
    expect(publishTags("workflow_dispatch", "v1.0.0")).toEqual(["v1.0.0", "latest"])
  })
  it("pushes only the tag from a laptop", () => {
    expect(publishTags("local", SHA)).toEqual([SHA])
  })
  it("never pushes anything, let alone latest, for a pull request", () => {
    expect(() => publishTags("pull_request", SHA)).toThrow(/pull request/)
  })
  it("refuses latest or a malformed tag as the tag", () => {
    expect(() => publishTags("push", "latest")).toThrow(/latest/)
    expect(() => publishTags("push", "a b")).toThrow(/tag/)
  })
})

describe("parseTriggerEvent", () => {
  it("accepts the four events", () => {
    for (const e of ["push", "pull_request", "workflow_dispatch", "local"]) expect(parseTriggerEvent(e)).toBe(e)
  })
  it("refuses others", () => {
    expect(() => parseTriggerEvent("pull_request_target")).toThrow(/event: one of/)
    expect(() => parseTriggerEvent("")).toThrow()
  })
})

describe("ACR names", () => {
  it("builds the login server and repositories from a validated name", () => {
    expect(acrLoginServer("MyDocsAcr")).toBe("mydocsacr.azurecr.io")
    expect(acrRepository("mydocsacr", "mydocs-ui")).toBe("mydocsacr.azurecr.io/mydocs-ui")
    expect(() => acrRepository("bad-name", "mydocs-ui")).toThrow(/acrName/)
  })
})

describe("parsePublishedRef", () => {
  it("splits repository, tag and digest", () => {
    expect(parsePublishedRef(`mydocsacr.azurecr.io/mydocs-backend:${SHA}@${DIGEST}`)).toEqual({
      repository: "mydocsacr.azurecr.io/mydocs-backend",
      tag: SHA,
      digest: DIGEST,
    })
  })
  it("handles a registry port and a missing tag", () => {
    expect(parsePublishedRef(`localhost:5000/mydocs-ui@${DIGEST}`)).toEqual({
      repository: "localhost:5000/mydocs-ui",
      tag: null,
      digest: DIGEST,
    })
  })
  it("refuses references without a proper digest", () => {
    expect(() => parsePublishedRef("mydocsacr.azurecr.io/mydocs-ui:latest")).toThrow(/no digest/)
    expect(() => parsePublishedRef("x/y:1@sha256:abc")).toThrow(/malformed digest/)
    expect(() => parsePublishedRef(`@${DIGEST}`)).toThrow()
    expect(() => parsePublishedRef(`x y:1@${DIGEST}`)).toThrow(/malformed/)
  })
})
