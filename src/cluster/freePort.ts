// A free TCP port on the loopback interface, for private services and servers started on one machine.
import { createServer } from "node:net";

/** A port free right now (bind 0, read it, close): the caller's process takes it a moment later. */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}
