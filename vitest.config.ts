import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration files each start their own server process; two cores, so keep it modest.
    maxWorkers: 2,
  },
});
