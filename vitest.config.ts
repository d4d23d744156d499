import { configDefaults, defineConfig, type TestProjectInlineConfiguration } from "vitest/config";
import { postgresBinDir } from "./tests/helpers/postgres.js";

// Every suite runs on SQLite; the ones that start the real server (integration, crash, fuzz) run a
// second time on PostgreSQL, against one private cluster the postgres project starts for the run.
const inCi = process.env.CI === "true" || process.env.CI === "1";
const postgresAvailable = postgresBinDir() !== undefined;
if (!postgresAvailable && !inCi) {
  console.warn("PostgreSQL suites skipped: no PostgreSQL binaries (apt-get install postgresql)");
}

const sqlite: TestProjectInlineConfiguration = {
  extends: true,
  test: { name: "sqlite", include: ["tests/**/*.test.ts"], env: { TEST_STORE: "sqlite" } },
};

// Under CI=true the project stays even without binaries, so its global setup fails the run.
const postgres: TestProjectInlineConfiguration = {
  extends: true,
  test: {
    name: "postgres",
    include: ["tests/integration/**/*.test.ts", "tests/chaos/**/*.test.ts", "tests/fuzz/**/*.test.ts"],
    // The NATS bus involves no store: once, in the sqlite project, is enough.
    exclude: [...configDefaults.exclude, "tests/integration/natsBus.test.ts"],
    env: { TEST_STORE: "postgres" },
    globalSetup: ["tests/helpers/postgresGlobalSetup.ts"],
    setupFiles: ["tests/helpers/postgresWorkerSetup.ts"],
  },
};

// The contract suites once more, against the gateway node of a three-node cluster (startServer
// under TEST_CLUSTER=1, tests/helpers/cluster.ts): same answers from a node that owns nothing.
const CLUSTER_CONTRACT = [
  "tests/integration/http.*.test.ts",
  "tests/integration/ws.*.test.ts",
  "tests/integration/onsale.test.ts",
  "tests/integration/reservations.list.test.ts",
];
const cluster: TestProjectInlineConfiguration = {
  extends: true,
  test: {
    name: "cluster",
    include: CLUSTER_CONTRACT,
    env: { TEST_STORE: "postgres", TEST_CLUSTER: "1" },
    globalSetup: ["tests/helpers/postgresGlobalSetup.ts"],
    setupFiles: ["tests/helpers/postgresWorkerSetup.ts"],
  },
};

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration files each start their own server process; two cores, so keep it modest (both projects share it).
    maxWorkers: 2,
    projects: postgresAvailable || inCi ? [sqlite, postgres, cluster] : [sqlite],
  },
});
