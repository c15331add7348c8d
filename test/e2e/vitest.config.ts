// The e2e suite against any deployment: `BASE_URL=http://localhost:8080 npx vitest run` (docs/e2e.md).
// Files run one at a time (uploads of 100 MiB and a browser are heavy on a shared machine), and a JUnit
// report lands beside the screenshots in E2E_ARTIFACTS.
import path from "node:path"
import { defineConfig } from "vitest/config"
import { ConfigError, loadConfig } from "./lib/env.js"

let artifacts: string
let baseUrl: string
try {
  ;({ artifactsDir: artifacts, baseUrl } = loadConfig())
} catch (e) {
  if (!(e instanceof ConfigError)) throw e
  console.error(`e2e: bad configuration:\n${e.message}\nSee docs/e2e.md.`)
  process.exit(2)
}

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    env: { E2E_RESOLVED_BASE_URL: baseUrl },
    globalSetup: ["./tests/global-setup.ts"],
    testTimeout: 300_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    sequence: { concurrent: false },
    reporters: ["default", "junit"],
    outputFile: { junit: path.join(artifacts, "junit.xml") },
  },
})
