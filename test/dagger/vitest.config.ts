import { defineConfig } from "vitest/config"

// The module's functions on a real Dagger engine (scripts/test-dagger.sh starts it). One file at a time:
// they share one engine and its cache, and several build the same images.
export default defineConfig({
  test: {
    include: ["**/*.test.ts"],
    // *.cluster.test.ts need the live test cluster (scripts/test-cluster.sh sets MYDOCS_CLUSTER_NODE)
    exclude: ["**/node_modules/**", ...(process.env.MYDOCS_CLUSTER_NODE ? [] : ["**/*.cluster.test.ts"])],
    fileParallelism: false,
    testTimeout: 20 * 60_000,
    hookTimeout: 10 * 60_000,
    reporters: ["default"],
  },
})
