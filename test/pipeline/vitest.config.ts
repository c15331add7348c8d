// vitest for the pipeline suite (`npx vitest run --root test/pipeline`): every *.test.ts below this
// folder. Tests here spawn real tools (kubectl kustomize, the backend CLI, validators), hence the
// generous timeouts; files run one at a time to stay frugal on shared machines.
import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["**/*.test.ts"],
    exclude: ["**/node_modules/**"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
})
