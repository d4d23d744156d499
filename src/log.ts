// The process logger: pino JSON lines on stdout.
import { writeSync } from "node:fs";
import { type Logger, pino } from "pino";

export type { Logger };

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * pino's lines, each written to stdout at once (as pino's default destination does). A line stdout
 * cannot take is dropped rather than kept: with the default (sonic-boom 4.2), a log reader that went
 * away (EPIPE) left the line buffered, and pino's flush at exit retried it every 100 ms forever, so
 * the process never stopped on SIGTERM. A full pipe (EAGAIN) is waited on for up to a second.
 */
export const stdoutLines = {
  write(line: string): void {
    let rest = Buffer.from(line);
    const giveUpAt = Date.now() + 1000;
    while (rest.length > 0) {
      try {
        rest = rest.subarray(writeSync(1, rest));
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if ((code !== "EAGAIN" && code !== "EBUSY") || Date.now() > giveUpAt) return;
        Atomics.wait(pause, 0, 0, 10);
      }
    }
  },
};

export function createLogger(level: string): Logger {
  return pino(
    {
      level,
      base: undefined,
      // Never let a credential reach the log, whatever a caller passes in.
      redact: ["authorization", "*.authorization", "headers.authorization", "token", "*.secret"],
    },
    stdoutLines,
  );
}
