// vitest for the pipeline suite (`npx vitest run --root test/pipeline`): every *.test.ts below this
// folder. Tests here spawn real tools (kubectl kustomize, the backend CLI, validators), hence the
// generous timeouts; files run one at a time to stay frugal on shared machines.
import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["**/*.test.ts"],
    // *.docker.test.ts run the built images (scripts/test-e2e.sh names them in MYDOCS_POD_RUN_IMAGES)
    // *.cluster.test.ts need the live cluster (scripts/test-cluster.sh: MYDOCS_CLUSTER_NODE and KUBECONFIG)
    exclude: [
      "**/node_modules/**",
      ...(process.env.MYDOCS_POD_RUN_IMAGES ? [] : ["**/*.docker.test.ts"]),
      ...(process.env.MYDOCS_CLUSTER_NODE ? [] : ["**/*.cluster.test.ts"]),
    ],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
})
