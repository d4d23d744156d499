// HTTP/1.1 over a plain TCP socket, for what fetch hides: the exact bytes after a HEAD reply's
// headers, repeated headers, and several requests pipelined on one connection.
import { connect } from "node:net";

export interface RawRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
}

export interface RawResponse {
  status: number;
  /** Lower-cased names; a header sent twice has two values. */
  headers: Record<string, string[]>;
  body: Buffer;
}

function requestBytes({ method, path, headers = {} }: RawRequest, last: boolean): string {
  const lines = [`${method} ${path} HTTP/1.1`, "host: 127.0.0.1"];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  if (last) lines.push("connection: close");
  return `${lines.join("\r\n")}\r\n\r\n`;
}

/**
 * Sends `requests` pipelined on one connection and splits what comes back into responses: a HEAD
 * reply ends with its headers, any other at its Content-Length. Throws when bytes are left over
 * (a body after a HEAD reply would be read as the start of the next response and fail here).
 */
export async function exchange(port: number, requests: RawRequest[]): Promise<RawResponse[]> {
  const data = await new Promise<Buffer>((done, fail) => {
    const chunks: Buffer[] = [];
    const socket = connect(port, "127.0.0.1", () => {
      // No half-close: a server may take a request whose reply is asynchronous (a database read)
      // for abandoned when the client ends its side first. The last request asks for the close.
      socket.write(requests.map((request, i) => requestBytes(request, i === requests.length - 1)).join(""));
    });
    const timer = setTimeout(() => {
      socket.destroy();
      done(Buffer.concat(chunks));
    }, 5000);
    socket.on("data", (chunk) => chunks.push(chunk));
    socket.on("error", fail);
    socket.on("close", () => {
      clearTimeout(timer);
      done(Buffer.concat(chunks));
    });
  });
  const responses: RawResponse[] = [];
  let offset = 0;
  for (const request of requests) {
    const end = data.indexOf("\r\n\r\n", offset);
    if (end < 0) throw new Error(`no complete response to ${request.method} ${request.path}`);
    const [statusLine, ...lines] = data.subarray(offset, end).toString("latin1").split("\r\n");
    const status = /^HTTP\/1\.1 (\d{3})/.exec(statusLine ?? "")?.[1];
    if (!status) throw new Error(`not a status line: ${JSON.stringify(statusLine)}`);
    const headers: Record<string, string[]> = {};
    for (const line of lines) {
      const colon = line.indexOf(":");
      const name = line.slice(0, colon).trim().toLowerCase();
      (headers[name] ??= []).push(line.slice(colon + 1).trim());
    }
    const length = request.method === "HEAD" ? 0 : Number(headers["content-length"]?.[0] ?? 0);
    const bodyStart = end + 4;
    responses.push({ status: Number(status), headers, body: data.subarray(bodyStart, bodyStart + length) });
    offset = bodyStart + length;
  }
  if (offset !== data.length) {
    throw new Error(
      `${data.length - offset} bytes after the last response: ${JSON.stringify(data.subarray(offset, offset + 80).toString("latin1"))}`,
    );
  }
  return responses;
}
