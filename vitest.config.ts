import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Tests start servers on loopback ports and child processes; two cores, so keep parallelism modest.
    maxWorkers: 2,
  },
});
