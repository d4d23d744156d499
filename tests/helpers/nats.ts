// A private, throw-away nats-server for the suites and benchmarks. The code lives in
// src/cluster/localNats.ts, which `npm run cluster` uses as well; this keeps the tests' imports.
export { type NatsOptions, type NatsServer, natsBinary, startNats } from "../../src/cluster/localNats.js";
