// The ordered list of schema migrations; the database's user_version is the number applied.
import * as initial from "./001-initial.js";

export const migrations: readonly { version: number; up: string }[] = [{ version: 1, up: initial.up }];
