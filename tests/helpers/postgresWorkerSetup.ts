// The postgres project's setup in each test file: the cluster's admin URL where startServer reads it,
// and every database a cleanup() began to drop dropped before the file ends.
import { afterAll, inject } from "vitest";
import { settleDatabaseDrops } from "./server.js";

process.env.TEST_POSTGRES_ADMIN_URL = inject("postgresAdminUrl");

afterAll(() => settleDatabaseDrops());
