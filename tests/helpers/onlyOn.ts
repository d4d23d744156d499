// Lets a suite that only makes sense on one store (tickets.db files, backups, DATA_DIR locks) skip
// itself on the other, visibly: the skipped suite's name says why.
import { describe, it } from "vitest";
import { type TestStore, testStore } from "./testStore.js";

/**
 * `onlyOn("sqlite", "deletes tickets.db under the server").describe("...", () => {...})`; `.it` for
 * one test. Elsewhere the suite is reported as skipped, with "(sqlite only: reason)" in its name.
 */
export function onlyOn(store: TestStore, reason: string) {
  const skip = testStore() !== store;
  const name = (title: string) => (skip ? `${title} (${store} only: ${reason})` : title);
  return {
    skip,
    describe: (title: string, body: () => void) => describe.skipIf(skip)(name(title), body),
    it: (title: string, body: () => unknown, timeout?: number) => it.skipIf(skip)(name(title), body, timeout),
  };
}
