// Times one buildBackend through the engine (the module's own function, a client session, given this
// machine's CA bundle as docker build is) and prints `seconds=<n>`. Used by test/bench/dagger_bench.sh;
// SOURCE=<dir> builds another copy of the repository.
import { connection } from "@dagger.io/dagger"

import { moduleSource, mydocs } from "../dagger/lib/engine.js"

await connection(async () => {
  const m = await mydocs(await moduleSource(process.env.SOURCE ?? process.cwd()))
  const t0 = performance.now()
  await (await m.buildBackend()).sync()
  console.log(`seconds=${((performance.now() - t0) / 1000).toFixed(1)}`)
})
