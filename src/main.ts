// Entry point: reads the configuration, starts the server, stops it cleanly on SIGTERM/SIGINT.
import { type RunningApp, startApp } from "./app.js";
import { type Config, ConfigError, loadConfig } from "./config.js";
import { createLogger } from "./log.js";
import { StartupError } from "./startupError.js";

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  const log = createLogger(config.logLevel);
  // Handled from before the "listening" line: a supervisor may stop the server the moment it
  // reads it, and a signal without a handler would kill the process mid-start, uncleanly.
  let app: RunningApp | undefined;
  let stopSignal: string | undefined;
  const shutdown = (running: RunningApp, signal: string) => {
    log.info({ signal }, "shutting down");
    running.close().then(
      () => process.exit(0),
      (error) => {
        log.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  const onSignal = (signal: string) => {
    stopSignal ??= signal;
    if (app) shutdown(app, signal);
  };
  process.once("SIGTERM", () => onSignal("SIGTERM"));
  process.once("SIGINT", () => onSignal("SIGINT"));
  app = await startApp(config, log, { onFatal: () => setTimeout(() => process.exit(1), 50) });
  if (stopSignal !== undefined) shutdown(app, stopSignal);
}

main().catch((error) => {
  if (error instanceof StartupError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(error.exitCode);
  }
  process.stderr.write(`failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
