// The boundary of the group commit: something that applies batches of writes, in order.
import type { WriteOp } from "./writeStatements.js";

/** Applies batches in the order given, each in one transaction; resolves with its commit time in seconds. */
export interface Writer {
  write(ops: WriteOp[]): Promise<number>;
  /** Waits for the batches already given, then stops (shutdown). */
  close(): Promise<void>;
}
