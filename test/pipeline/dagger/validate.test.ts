import { describe, expect, it } from "vitest"
import {
  validateAcrName,
  validateAksClusterName,
  validateImageTag,
  validateMongoUrl,
  validatePinnedImageRef,
  validateResourceGroup,
  validateSmokeUrl,
  validateTimeout,
  smokeUrlOf,
} from "../../../.dagger/src/validate.js"

describe("validateAcrName", () => {
  it("accepts 5-50 alphanumerics and lower-cases them", () => {
    expect(validateAcrName("MyDocsAcr01")).toBe("mydocsacr01")
    expect(validateAcrName(" abcde ")).toBe("abcde")
  })
  it("refuses the login server, short, long and non-alphanumeric names", () => {
    expect(() => validateAcrName("mydocs.azurecr.io")).toThrow(/without ".azurecr.io"/)
    expect(() => validateAcrName("abcd")).toThrow(/5 to 50/)
    expect(() => validateAcrName("a".repeat(51))).toThrow(/5 to 50/)
    expect(() => validateAcrName("my-docs")).toThrow(/letters or digits/)
    expect(() => validateAcrName("mydocs;rm")).toThrow()
    expect(() => validateAcrName("")).toThrow()
  })
})

describe("validateAksClusterName", () => {
  it("accepts letters, digits, - and _", () => {
    expect(validateAksClusterName("mydocs-aks_1")).toBe("mydocs-aks_1")
    expect(validateAksClusterName("a")).toBe("a")
  })
  it("refuses bad edges, length and characters", () => {
    expect(() => validateAksClusterName("-aks")).toThrow(/aksCluster/)
    expect(() => validateAksClusterName("aks-")).toThrow()
    expect(() => validateAksClusterName("a".repeat(64))).toThrow()
    expect(() => validateAksClusterName("aks cluster")).toThrow()
    expect(() => validateAksClusterName("")).toThrow()
  })
})

describe("validateResourceGroup", () => {
  it("accepts the Azure alphabet", () => {
    expect(validateResourceGroup("mydocs-rg.prod_(eu)")).toBe("mydocs-rg.prod_(eu)")
  })
  it("refuses a trailing period, spaces, shell characters and >90 chars", () => {
    expect(() => validateResourceGroup("rg.")).toThrow(/not ending/)
    expect(() => validateResourceGroup("my rg")).toThrow()
    expect(() => validateResourceGroup("rg$(id)")).toThrow()
    expect(() => validateResourceGroup("r".repeat(91))).toThrow()
  })
})

describe("validateImageTag", () => {
  it("accepts a commit SHA and release tags", () => {
    const sha = "0123456789abcdef0123456789abcdef01234567"
    expect(validateImageTag(sha)).toBe(sha)
    expect(validateImageTag("v1.2.3_rc-1")).toBe("v1.2.3_rc-1")
  })
  it("refuses latest, bad starts, bad characters and 129 chars", () => {
    expect(() => validateImageTag("latest")).toThrow(/set by the pipeline/)
    expect(() => validateImageTag("-x")).toThrow()
    expect(() => validateImageTag(".x")).toThrow()
    expect(() => validateImageTag("a/b")).toThrow()
    expect(() => validateImageTag("a b")).toThrow()
    expect(() => validateImageTag("a".repeat(129))).toThrow()
    expect(() => validateImageTag("")).toThrow()
  })
})

describe("validatePinnedImageRef", () => {
  it("accepts tags and digests, with registries and ports", () => {
    expect(validatePinnedImageRef("x", "python:3.13-slim")).toBe("python:3.13-slim")
    expect(validatePinnedImageRef("x", "localhost:5000/base/python:3.13")).toBe("localhost:5000/base/python:3.13")
    const d = `nginx@sha256:${"a".repeat(64)}`
    expect(validatePinnedImageRef("x", d)).toBe(d)
  })
  it("refuses floating and malformed references", () => {
    expect(() => validatePinnedImageRef("pythonImage", "python")).toThrow(/pythonImage: pin the image/)
    expect(() => validatePinnedImageRef("x", "python:latest")).toThrow(/pin/)
    expect(() => validatePinnedImageRef("x", "Python:3.13")).toThrow(/not an image reference/)
    expect(() => validatePinnedImageRef("x", "python:3.13 --privileged")).toThrow()
    expect(() => validatePinnedImageRef("x", "nginx@sha256:abc")).toThrow()
  })
})

describe("validateTimeout", () => {
  it("accepts seconds and minutes within bounds", () => {
    expect(validateTimeout("t", "300s")).toBe("300s")
    expect(validateTimeout("t", "5m")).toBe("5m")
    expect(validateTimeout("t", "60m")).toBe("60m")
  })
  it("refuses other units, out-of-range and garbage", () => {
    expect(() => validateTimeout("rolloutTimeout", "5h")).toThrow(/rolloutTimeout/)
    expect(() => validateTimeout("t", "5s")).toThrow(/between/)
    expect(() => validateTimeout("t", "61m")).toThrow(/between/)
    expect(() => validateTimeout("t", "300")).toThrow()
    expect(() => validateTimeout("t", "1s; rm -rf /")).toThrow()
  })
})

describe("validateMongoUrl", () => {
  it("accepts mongodb and mongodb+srv URLs", () => {
    expect(validateMongoUrl("mongodb://u:p@db:27017/x")).toBe("mongodb://u:p@db:27017/x")
    expect(validateMongoUrl("mongodb+srv://cluster.example.net")).toBe("mongodb+srv://cluster.example.net")
  })
  it("refuses other schemes without echoing the value", () => {
    let msg = ""
    try {
      validateMongoUrl("postgres://user:hunter2@db/x")
    } catch (e) {
      msg = (e as Error).message
    }
    expect(msg).toMatch(/mongodb:\/\//)
    expect(msg).not.toContain("hunter2")
  })
})

describe("validateSmokeUrl / smokeUrlOf (deployAks's smoke test)", () => {
  it("accepts http(s) URLs, dropping a trailing slash; derives https://<first Ingress host>", () => {
    expect(validateSmokeUrl("https://mydocs.example.com/")).toBe("https://mydocs.example.com")
    expect(validateSmokeUrl(" http://10.0.0.5:8080/docs/ ")).toBe("http://10.0.0.5:8080/docs")
    expect(smokeUrlOf(["mydocs.example.com", "other.example.com"])).toBe("https://mydocs.example.com")
  })
  it("refuses non-URLs, other schemes, credentials, queries and an Ingress without a host", () => {
    expect(() => validateSmokeUrl("mydocs.example.com")).toThrow(/not a URL/)
    expect(() => validateSmokeUrl("ftp://mydocs.example.com")).toThrow(/http:\/\/ or https:\/\//)
    expect(() => validateSmokeUrl("https://u:p@mydocs.example.com")).toThrow(/no credentials/)
    expect(() => validateSmokeUrl("https://mydocs.example.com/?x=1")).toThrow(/no query/)
    expect(() => smokeUrlOf([])).toThrow(/--smoke-url, or --smoke-test=false/)
  })
})
