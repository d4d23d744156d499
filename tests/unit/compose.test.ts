// compose.yaml (the three-node cluster) against the code: its node services set only variables that
// src/config.ts reads, and every one a cluster node needs; their URLs name the compose services;
// ports, node ids and data volumes are distinct; the secrets come from the environment, required.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ENV_VARIABLES } from "../../src/config.js";

interface Service {
  image?: string;
  build?: unknown;
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: (string | { published?: string | number; target?: number })[];
  volumes?: (string | { type?: string; source?: string; target?: string })[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: unknown };
}

const compose = parse(readFileSync(new URL("../../compose.yaml", import.meta.url), "utf8")) as {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
};
const services = compose.services;
/** The services built from the repository's Dockerfile: the nodes. */
const nodes = Object.entries(services).filter(([, service]) => service.build !== undefined);

/** A service's environment as a map, whichever of compose's two forms it uses. */
function environment(service: Service): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(env.map((entry) => [entry.split("=")[0]!, entry.split("=").slice(1).join("=")]));
  }
  return Object.fromEntries(Object.entries(env).map(([key, value]) => [key, String(value ?? "")]));
}

/** Compose's interpolation resolved as if every variable were set to `value` (`${X:-default}` gives the default). */
function interpolated(text: string, value = "set"): string {
  return text.replace(/\$\{([A-Z0-9_]+)(?::?-([^}]*)|:?\?[^}]*)?\}/g, (_, _name, fallback) => fallback ?? value);
}

/** The named volume mounted at `path`, if any (a bind mount or none: undefined). */
function volumeAt(service: Service, path: string): string | undefined {
  for (const volume of service.volumes ?? []) {
    const [source, target] = typeof volume === "string" ? volume.split(":") : [volume.source, volume.target];
    if (target === path && source !== undefined && !source.startsWith(".") && !source.startsWith("/")) return source;
  }
  return undefined;
}

describe("compose.yaml", () => {
  it("has the services nats, postgres and the nodes node1, node2, node3 built from the Dockerfile", () => {
    expect(Object.keys(services)).toEqual(expect.arrayContaining(["nats", "postgres", "node1", "node2", "node3"]));
    expect(nodes.map(([name]) => name).sort()).toEqual(["node1", "node2", "node3"]);
    expect(services.postgres!.image).toMatch(/^postgres:16/);
    expect(services.nats!.image).toMatch(/^nats:2\./);
  });

  it("sets only variables src/config.ts reads on the nodes, and every one a cluster node needs", () => {
    const known = new Set(ENV_VARIABLES);
    expect(known.has("NATS_URL") && known.has("NODE_ID")).toBe(true);
    for (const [name, service] of nodes) {
      const env = environment(service);
      expect(
        Object.keys(env).filter((key) => !known.has(key)),
        `${name} sets variables the server does not read`,
      ).toEqual([]);
      for (const needed of ["NATS_URL", "DATABASE_URL", "NODE_ID", "AUTH_SECRET", "ADMIN_TOKEN"]) {
        expect(env[needed], `${name} must set ${needed}`).toBeTruthy();
      }
    }
  });

  it("points DATABASE_URL at the postgres service and NATS_URL at the nats service", () => {
    for (const [name, service] of nodes) {
      const env = environment(service);
      const database = new URL(interpolated(env.DATABASE_URL!));
      expect(database.protocol, name).toBe("postgres:");
      expect(database.hostname, name).toBe("postgres");
      expect(database.pathname, name).toBe(`/${environment(services.postgres!).POSTGRES_DB}`);
      expect(database.username, name).toBe(environment(services.postgres!).POSTGRES_USER);
      const nats = new URL(interpolated(env.NATS_URL!));
      expect(nats.protocol, name).toBe("nats:");
      expect(nats.hostname, name).toBe("nats");
    }
  });

  it("takes the shared secrets from the environment, refusing to start without them", () => {
    for (const variable of ["AUTH_SECRET", "ADMIN_TOKEN"]) {
      const values = nodes.map(([, service]) => environment(service)[variable]!);
      for (const value of values) expect(value).toMatch(new RegExp(`^\\$\\{${variable}:\\?[^}]+\\}$`));
    }
    expect(environment(services.postgres!).POSTGRES_PASSWORD).toMatch(/^\$\{POSTGRES_PASSWORD:\?[^}]+\}$/);
  });

  it("gives each node its own NODE_ID, published port and DATA_DIR volume", () => {
    const ids = nodes.map(([, service]) => environment(service).NODE_ID!);
    expect(new Set(ids).size).toBe(nodes.length);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9._:-]{1,64}$/);

    const published = nodes.flatMap(([name, service]) => {
      expect(service.ports, `${name} publishes a port`).toHaveLength(1);
      return (service.ports ?? []).map((port) => {
        // "8081:8080" or "127.0.0.1:8081:8080": the host port is the one before the container's.
        const text = typeof port === "string" ? interpolated(port) : String(port.published);
        const parts = text.split(":");
        return parts.length > 1 ? parts[parts.length - 2] : undefined;
      });
    });
    expect(published.every((port) => port !== undefined && /^\d+$/.test(port))).toBe(true);
    expect(new Set(published).size).toBe(nodes.length);

    const dataVolumes = nodes.map(([name, service]) => {
      const dataDir = environment(service).DATA_DIR;
      expect(dataDir, `${name} sets DATA_DIR`).toBeTruthy();
      const volume = volumeAt(service, dataDir!);
      expect(volume, `${name} mounts a named volume at its DATA_DIR ${dataDir}`).toBeDefined();
      return volume!;
    });
    expect(new Set(dataVolumes).size).toBe(nodes.length);
    for (const volume of dataVolumes) expect(Object.keys(compose.volumes ?? {})).toContain(volume);
  });

  it("starts the nodes only once NATS and PostgreSQL are healthy, and checks both", () => {
    expect(services.nats!.healthcheck?.test).toBeDefined();
    expect(services.postgres!.healthcheck?.test).toBeDefined();
    for (const [name, service] of nodes) {
      const dependsOn = service.depends_on as Record<string, { condition?: string }>;
      expect(dependsOn?.nats?.condition, name).toBe("service_healthy");
      expect(dependsOn?.postgres?.condition, name).toBe("service_healthy");
    }
  });
});
