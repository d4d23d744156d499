// A private, throw-away PostgreSQL cluster for the suites and benchmarks. The code lives in
// src/cluster/localPostgres.ts, which `npm run cluster` uses as well; this keeps the tests' imports.
export { freePort } from "../../src/cluster/freePort.js";
export {
  createDatabase,
  databaseUrl,
  dropDatabase,
  type PostgresCluster,
  type PostgresOptions,
  postgresBinDir,
  startPostgres,
} from "../../src/cluster/localPostgres.js";
