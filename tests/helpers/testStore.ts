// Which store the integration, crash and fuzz suites run on: SQLite (the default) or PostgreSQL,
// chosen per vitest project (vitest.config.ts) through TEST_STORE.
export type TestStore = "sqlite" | "postgres";

export function testStore(): TestStore {
  return process.env.TEST_STORE === "postgres" ? "postgres" : "sqlite";
}

/** The admin URL of the run's private cluster (set in each worker by postgresWorkerSetup.ts). */
export function postgresAdminUrl(): string {
  const url = process.env.TEST_POSTGRES_ADMIN_URL;
  if (!url) throw new Error("TEST_STORE=postgres but no cluster: run through vitest's postgres project");
  return url;
}
