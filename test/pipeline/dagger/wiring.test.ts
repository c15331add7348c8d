// The wiring in .dagger/src/index.ts with the real SDK (@dagger.io/dagger 0.21.8) and no engine:
// builder chains construct lazily, and every argument is validated before anything would execute.
// Anything that needs the engine rejects with the SDK's "GraphQL client is not set",
// so a validation message proves the check ran first.
import { Container, dag } from "@dagger.io/dagger"
import { describe, expect, it } from "vitest"
import { Mydocs } from "../../../.dagger/src/index.js"

const mod = () => new Mydocs(dag.directory())

describe("Mydocs without an engine", () => {
  it("builds the image pipelines lazily (without a CA bundle, nothing is asked of the engine)", async () => {
    expect(await mod().buildBackend()).toBeInstanceOf(Container)
    expect(await mod().buildUi()).toBeInstanceOf(Container)
    expect(
      await mod().buildUi("/api/v1", "11111111-2222-3333-4444-555555555555", "https://login.microsoftonline.com/t"),
    ).toBeInstanceOf(Container)
  })
  it("validates build arguments before building", async () => {
    await expect(mod().buildUi("/api/v1", "not-a-guid", "https://login.microsoftonline.com/t")).rejects.toThrow(/GUID/)
    await expect(mod().buildUi("/api/v1", "", "https://login.microsoftonline.com/t")).rejects.toThrow(/both/)
    await expect(mod().buildBackend("python")).rejects.toThrow(/pythonImage: pin/)
  })
  it("deployAks validates every argument before touching the engine", async () => {
    const m = mod()
    const sha = "0123456789abcdef0123456789abcdef01234567"
    await expect(m.deployAks("bad-acr", "aks", "rg", sha)).rejects.toThrow(/acrName/)
    await expect(m.deployAks("mydocsacr", "-aks", "rg", sha)).rejects.toThrow(/aksCluster/)
    await expect(m.deployAks("mydocsacr", "aks", "rg.", sha)).rejects.toThrow(/resourceGroup/)
    await expect(m.deployAks("mydocsacr", "aks", "rg", "latest")).rejects.toThrow(/latest/)
    await expect(m.deployAks("mydocsacr", "aks", "rg", sha, "schedule")).rejects.toThrow(/event/)
    await expect(m.deployAks("mydocsacr", "aks", "rg", sha, "push", undefined, undefined, undefined, undefined, "", "", "300s",
      false, "", true, true, "https://user:pw@mydocs.example.com")).rejects.toThrow(/smokeUrl: no credentials/)
    await expect(m.deployAks("mydocsacr", "aks", "rg", sha, "push", undefined, undefined, undefined, undefined, "", "", "2h"))
      .rejects.toThrow(/rolloutTimeout/)
  })
  it("deployAks never pushes for a pull request, and needs credentials to deploy", async () => {
    const m = mod()
    const sha = "0123456789abcdef0123456789abcdef01234567"
    await expect(m.deployAks("mydocsacr", "aks", "rg", sha, "pull_request")).rejects.toThrow(/pull request/)
    await expect(m.deployAks("mydocsacr", "aks", "rg", sha, "push")).rejects.toThrow(/acrToken and kubeconfig are required/)
  })
  it("testOnK3d validates its timeout first", async () => {
    await expect(mod().testOnK3d("forever")).rejects.toThrow(/rolloutTimeout/)
  })
  it("an engine call fails without an engine (the tests above never reached one)", async () => {
    await expect(mod().renderManifests()).rejects.toThrow(/GraphQL client is not set/)
  })
})
