// API.md's error table, written down for the tests on their own (contract-errors.json) rather than
// imported from src/errors.ts, so a wrong status in the server cannot also be the tests' oracle.
import table from "./contract-errors.json" with { type: "json" };

export const CONTRACT_ERRORS: Readonly<Record<string, number>> = table;
