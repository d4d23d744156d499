// Lets a suite that only makes sense on one store (tickets.db files, backups, DATA_DIR locks) skip
// itself on the other, visibly: the skipped suite's name says why.
import { describe, it, type SuiteFactory, type TestFunction, type TestOptions } from "vitest";
import { type TestStore, testStore } from "./testStore.js";

type TestArgs = [fn?: TestFunction, timeout?: number] | [options: TestOptions, fn?: TestFunction];

/**
 * `onlyOn("sqlite", "deletes tickets.db under the server").describe("...", () => {...})`, or `.test`
 * for one test (same arguments as vitest's). On the other store it is reported as skipped, its name
 * ending in "(sqlite only: deletes tickets.db under the server)".
 */
export function onlyOn(store: TestStore, reason: string) {
  const skip = testStore() !== store;
  const title = (name: string) => (skip ? `${name} (${store} only: ${reason})` : name);
  return {
    /** True where the suite does not run: for a skipIf that also has other conditions (with title()). */
    skip,
    /** The name with the reason appended where the suite is skipped. */
    title,
    describe: (name: string, body: SuiteFactory) => describe.skipIf(skip)(title(name), body),
    test: (name: string, ...args: TestArgs) => (it.skipIf(skip) as (...a: unknown[]) => void)(title(name), ...args),
  };
}
