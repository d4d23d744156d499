// The boundary of the group commit: something that applies batches of write units, in order.
import type { Committed, WriteUnit } from "./writeStatements.js";

/**
 * Applies batches in the order given, each in one transaction; resolves once it is committed,
 * with the units its guards declined (undone alone). Rejects when the batch did not commit.
 */
export interface Writer {
  write(units: WriteUnit[]): Promise<Committed>;
  /** Waits for the batches already given, then stops (shutdown). */
  close(): Promise<void>;
}
