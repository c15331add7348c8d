// Times one buildBackend through the engine (the module's own function, a client session) and prints
// `seconds=<n>`. Used by test/bench/dagger_bench.sh; SOURCE=<dir> builds another copy of the repository.
import { connection, dag } from "@dagger.io/dagger"
import { readFileSync } from "node:fs"

import { Mydocs } from "../../.dagger/src/index.js"
import { moduleIntrospection } from "../dagger/lib/introspect.js"

const root = process.env.SOURCE ?? process.cwd()
const ignore = (await moduleIntrospection()).objects["Mydocs"]!.constructor!.arguments["source"]!.ignore!
await connection(async () => {
  const t0 = performance.now()
  // as docker build gets it: the CA bundle of this machine's proxy as the ca_bundle build secret
  const ca = dag.setSecret("bench-ca", readFileSync(process.env.MYDOCS_CA_BUNDLE ?? "/etc/ssl/certs/ca-certificates.crt", "utf8"))
  await (await new Mydocs(dag.host().directory(root, { exclude: ignore }), ca).buildBackend()).sync()
  console.log(`seconds=${((performance.now() - t0) / 1000).toFixed(1)}`)
})
