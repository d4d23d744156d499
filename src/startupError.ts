// A refusal to start: the one-line reason main prints on stderr, and the exit code it exits with.
export class StartupError extends Error {
  constructor(
    message: string,
    /** 2: this server must not run here (another one owns DATA_DIR); 1: the data cannot be trusted or written. */
    readonly exitCode: 1 | 2,
  ) {
    super(message);
    this.name = "StartupError";
  }
}
