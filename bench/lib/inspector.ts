// A full garbage collection in the server under test, asked for over the V8 inspector (the server
// is started with --inspect=127.0.0.1:0): RSS read right after it is what the process retains,
// not what garbage happened to be lying around at the moment of reading.
import WebSocket from "ws";

export interface Inspector {
  collectGarbage(): Promise<void>;
  close(): void;
}

/** The inspector flag for the server's node arguments: a free port on loopback. */
export const INSPECT_ARG = "--inspect=127.0.0.1:0";

/** Connects to the inspector whose address the server printed ("Debugger listening on ws://..."). */
export async function connectInspector(logs: string[]): Promise<Inspector> {
  const url = logs.map((line) => /ws:\/\/\S+/.exec(line)?.[0]).find((found) => found !== undefined);
  if (!url) throw new Error("the server printed no inspector address (started without --inspect?)");
  const socket = new WebSocket(url);
  await new Promise<void>((done, fail) => {
    socket.once("open", () => done());
    socket.once("error", fail);
  });
  let nextId = 1;
  const call = (method: string) =>
    new Promise<void>((done) => {
      const id = nextId++;
      const onMessage = (data: Buffer) => {
        if ((JSON.parse(data.toString()) as { id?: number }).id !== id) return;
        socket.off("message", onMessage);
        done();
      };
      socket.on("message", onMessage);
      socket.send(JSON.stringify({ id, method }));
    });
  return {
    collectGarbage: () => call("HeapProfiler.collectGarbage"),
    close: () => socket.close(),
  };
}
