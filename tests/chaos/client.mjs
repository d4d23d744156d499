// One chaos client process: drives the booking mix for a few users against the server until the
// server goes away (kill -9), and appends every attempt and every acknowledged reply to a JSON-lines
// log that the crash-loop test audits against the database.
//
// usage: node client.mjs '<json: {url, secret, users, cycle, scheduleId, seatCount, logFile, maxMs}>'
import { createHmac } from "node:crypto";
import { closeSync, openSync, readFileSync, writeSync } from "node:fs";

const options = JSON.parse(process.argv[2]);
const { url, secret, users, cycle, scheduleId, seatCount, logFile, maxMs = 30_000 } = options;
const log = openSync(logFile, "a");
/** Written synchronously: the line is on disk before the next request goes out. */
const record = (entry) => writeSync(log, `${JSON.stringify({ cycle, at: Date.now(), ...entry })}\n`);

const b64 = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
function jwt(sub) {
  const now = Math.floor(Date.now() / 1000);
  const head = `${b64({ alg: "HS256", typ: "JWT" })}.${b64({ sub, iat: now, exp: now + 3600 })}`;
  return `${head}.${createHmac("sha256", secret).update(head).digest("base64url")}`;
}

const CONTRACT = JSON.parse(readFileSync(new URL("../helpers/contract-errors.json", import.meta.url), "utf8"));
/** Codes a correct server may answer in this mix; anything else is a finding. */
const EXPECTED_CODES = new Set([
  "SEAT_UNAVAILABLE",
  "HOLD_LIMIT",
  "HOLD_EXPIRED",
  "ALREADY_PAID",
  "INSUFFICIENT_BALANCE",
  "TOKEN_INVALID",
  "UNAVAILABLE",
]);

class ServerGone extends Error {}
let stopped = false;
const deadline = Date.now() + maxMs;

async function call(user, method, path, { body, queueToken, key } = {}) {
  const headers = { authorization: `Bearer ${jwt(user.id)}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (queueToken) headers["queue-token"] = queueToken;
  if (key) headers["idempotency-key"] = key;
  let response;
  let text;
  try {
    response = await fetch(url + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      // A request to a server killed mid-exchange can be left unsettled by fetch on a loaded
      // machine (the client then exited 13, its top-level await unsettled): give up after 10 s.
      signal: AbortSignal.timeout(10_000),
    });
    text = await response.text();
  } catch {
    stopped = true;
    throw new ServerGone();
  }
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = text;
  }
  const code = parsed?.error?.code;
  if (response.status >= 400 && !(EXPECTED_CODES.has(code) && CONTRACT[code] === response.status)) {
    record({ t: "unexpected", user: user.id, method, path, body, status: response.status, reply: text.slice(0, 300) });
  }
  return { status: response.status, body: parsed, code };
}

const pick = (list) => list[Math.floor(Math.random() * list.length)];
let keyCounter = 0;
const newKey = (user) => `${user.id}:c${cycle}:${process.pid}:${++keyCounter}`;

async function queueCheck(user) {
  const reply = await call(user, "POST", "/v1/queue/check");
  if (reply.status === 200) user.queueToken = reply.body.token;
}

async function charge(user) {
  const amount = 1 + Math.floor(Math.random() * 5000);
  const key = newKey(user);
  record({ t: "sent", op: "charge", user: user.id, key, amount });
  const reply = await call(user, "POST", "/v1/balance/charge", { body: { amount }, key });
  if (reply.status === 200) {
    record({ t: "ack", op: "charge", user: user.id, key, req: { amount }, status: 200, reply: reply.body });
    user.acked.push({ op: "charge", key, req: { amount }, status: 200, reply: reply.body });
  }
}

async function hold(user) {
  const seatNo = 1 + Math.floor(Math.random() * seatCount);
  const reply = await call(user, "POST", "/v1/reservations", {
    body: { scheduleId, seatNo },
    queueToken: user.queueToken,
  });
  if (reply.status === 201) {
    record({ t: "ack", op: "hold", user: user.id, reply: reply.body });
    user.holds.push(reply.body);
  } else if (reply.code === "TOKEN_INVALID") {
    await queueCheck(user);
  }
}

async function release(user) {
  if (user.holds.length === 0) return hold(user);
  const target = user.holds.splice(Math.floor(Math.random() * user.holds.length), 1)[0];
  const reply = await call(user, "DELETE", `/v1/reservations/${target.reservationId}`);
  if (reply.status === 200) record({ t: "ack", op: "release", user: user.id, reply: reply.body });
}

async function pay(user) {
  if (user.holds.length === 0) return hold(user);
  const ids = user.holds.slice(0, 1 + Math.floor(Math.random() * 2)).map((x) => x.reservationId);
  const key = newKey(user);
  const req = { reservationIds: ids };
  record({ t: "sent", op: "pay", user: user.id, key, req });
  const reply = await call(user, "POST", "/v1/payments", { body: req, key });
  if (reply.status === 201) {
    record({ t: "ack", op: "pay", user: user.id, key, req, status: 201, reply: reply.body });
    user.acked.push({ op: "pay", key, req, status: 201, reply: reply.body });
    user.holds = user.holds.filter((x) => !ids.includes(x.reservationId));
    await queueCheck(user); // a payment expires the payer's queue token
  } else if (reply.code === "INSUFFICIENT_BALANCE") {
    await charge(user);
  } else if (reply.code === "HOLD_EXPIRED" || reply.code === "ALREADY_PAID") {
    user.holds = user.holds.filter((x) => !ids.includes(x.reservationId));
  }
}

/** Replays an earlier acknowledged charge or payment with its key: the original reply must come back. */
async function replay(user) {
  if (user.acked.length === 0) return charge(user);
  const original = pick(user.acked);
  const path = original.op === "charge" ? "/v1/balance/charge" : "/v1/payments";
  const reply = await call(user, "POST", path, { body: original.req, key: original.key });
  const same = reply.status === original.status && JSON.stringify(reply.body) === JSON.stringify(original.reply);
  record({ t: same ? "replayOk" : "replayMismatch", user: user.id, key: original.key, got: reply.body });
}

async function drive(user) {
  await queueCheck(user);
  while (!stopped && Date.now() < deadline) {
    const r = Math.random();
    if (r < 0.25) await charge(user);
    else if (r < 0.55) await hold(user);
    else if (r < 0.65) await release(user);
    else if (r < 0.85) await pay(user);
    else if (r < 0.95) await replay(user);
    else await queueCheck(user);
  }
}

const states = users.map((id) => ({ id, queueToken: undefined, holds: [], acked: [] }));
// AbortSignal.timeout's timers do not keep the process alive: this does, until every user is done.
const keepAlive = setInterval(() => {}, 1000);
await Promise.all(
  states.map((user) =>
    drive(user).catch((error) => {
      if (!(error instanceof ServerGone)) record({ t: "crash", user: user.id, error: String(error?.stack ?? error) });
    }),
  ),
);
clearInterval(keepAlive);
closeSync(log);
