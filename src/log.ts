// The process logger: pino JSON lines on stdout.
import { type Logger, pino } from "pino";

export type { Logger };

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: undefined,
    // Never let a credential reach the log, whatever a caller passes in.
    redact: ["authorization", "*.authorization", "headers.authorization", "token", "*.secret"],
  });
}
