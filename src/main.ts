// Entry point: reads the configuration, starts the server, stops it cleanly on SIGTERM/SIGINT.
import { startApp } from "./app.js";
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
  const app = await startApp(config, log, { onFatal: () => setTimeout(() => process.exit(1), 50) });
  const shutdown = (signal: string) => {
    log.info({ signal }, "shutting down");
    app.close().then(
      () => process.exit(0),
      (error) => {
        log.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  process.once("SIGINT", () => shutdown("SIGINT"));
}

main().catch((error) => {
  if (error instanceof StartupError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(error.exitCode);
  }
  process.stderr.write(`failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
