import { describe, expect, it } from "vitest"
import { backendBuildArgs, uiBuildArgs, validateApiBaseUrl } from "../../../.dagger/src/buildargs.js"

const CLIENT = "11111111-2222-3333-4444-555555555555"
const AUTHORITY = "https://login.microsoftonline.com/66666666-7777-8888-9999-000000000000"

describe("uiBuildArgs", () => {
  it("passes the three VITE_ args of spec 2.2, sign-in off by default", () => {
    expect(uiBuildArgs({ apiBaseUrl: "/api/v1", entraClientId: "", entraAuthority: "" })).toEqual([
      { name: "VITE_API_BASE_URL", value: "/api/v1" },
      { name: "VITE_ENTRA_CLIENT_ID", value: "" },
      { name: "VITE_ENTRA_AUTHORITY", value: "" },
    ])
  })
  it("passes the Entra values (trailing slash of the authority dropped) and base-image overrides", () => {
    const args = uiBuildArgs({
      apiBaseUrl: "https://api.example.com/api/v1",
      entraClientId: CLIENT,
      entraAuthority: `${AUTHORITY}/`,
      nodeImage: "node:22.11-alpine",
      nginxImage: "nginx:1.27-alpine",
    })
    expect(args).toEqual([
      { name: "VITE_API_BASE_URL", value: "https://api.example.com/api/v1" },
      { name: "VITE_ENTRA_CLIENT_ID", value: CLIENT },
      { name: "VITE_ENTRA_AUTHORITY", value: AUTHORITY },
      { name: "NODE_IMAGE", value: "node:22.11-alpine" },
      { name: "NGINX_IMAGE", value: "nginx:1.27-alpine" },
    ])
  })
  it("refuses half an Entra configuration", () => {
    expect(() => uiBuildArgs({ apiBaseUrl: "/api/v1", entraClientId: CLIENT, entraAuthority: "" })).toThrow(/both/)
    expect(() => uiBuildArgs({ apiBaseUrl: "/api/v1", entraClientId: "", entraAuthority: AUTHORITY })).toThrow(/both/)
  })
  it("refuses a client ID that is not a GUID and a non-https authority", () => {
    expect(() => uiBuildArgs({ apiBaseUrl: "/api/v1", entraClientId: "my-app", entraAuthority: AUTHORITY })).toThrow(/GUID/)
    expect(() =>
      uiBuildArgs({ apiBaseUrl: "/api/v1", entraClientId: CLIENT, entraAuthority: "http://login.microsoftonline.com/x" }),
    ).toThrow(/https/)
  })
  it("refuses floating base images", () => {
    expect(() =>
      uiBuildArgs({ apiBaseUrl: "/api/v1", entraClientId: "", entraAuthority: "", nginxImage: "nginx" }),
    ).toThrow(/nginxImage/)
  })
})

describe("validateApiBaseUrl", () => {
  it("accepts paths and http(s) URLs", () => {
    expect(validateApiBaseUrl("/api/v1")).toBe("/api/v1")
    expect(validateApiBaseUrl("http://localhost:8000/api/v1")).toBe("http://localhost:8000/api/v1")
  })
  it("refuses relative paths, other schemes and quotes", () => {
    expect(() => validateApiBaseUrl("api/v1")).toThrow(/apiBaseUrl/)
    expect(() => validateApiBaseUrl("javascript:alert(1)")).toThrow()
    expect(() => validateApiBaseUrl('/api"; x')).toThrow()
  })
})

describe("backendBuildArgs", () => {
  it("is empty by default and carries PYTHON_IMAGE when given", () => {
    expect(backendBuildArgs()).toEqual([])
    expect(backendBuildArgs("python:3.13-slim")).toEqual([{ name: "PYTHON_IMAGE", value: "python:3.13-slim" }])
  })
  it("refuses an unpinned base", () => {
    expect(() => backendBuildArgs("python:latest")).toThrow(/pythonImage/)
  })
})
