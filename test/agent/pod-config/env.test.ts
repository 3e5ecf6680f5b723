import { afterEach, describe, expect, it } from "vitest";
import { makeEnvironment } from "../../../src/agent/pod-config/env.ts";
import { PodConfigError } from "../../../src/agent/pod-config/index.ts";
import type { Container } from "../../../src/api/schema/core/container.ts";
import { container, pod, service, type TestContext, testContext } from "./fixtures.ts";

let t: TestContext;
afterEach(() => t?.cleanup());

async function envOf(c: Partial<Container>, podExtra: Parameters<typeof pod>[0] = {}) {
  const app = container("app", c);
  const p = pod({ ...podExtra, spec: { containers: [app], ...podExtra.spec } });
  const env = await makeEnvironment({
    pod: p,
    container: app,
    podIP: "10.89.0.7",
    podIPs: ["10.89.0.7"],
    ctx: t.ctx,
  });
  return env;
}

async function rejection(promise: Promise<unknown>): Promise<PodConfigError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PodConfigError);
  return error as PodConfigError;
}

describe("makeEnvironment", () => {
  it("resolves every source in declaration order, env overriding envFrom", async () => {
    t = await testContext();
    t.api.setConfigMap("ns1", "cfg", { MODE: "from-cm", SHARED: "cm" });
    t.api.setSecret("ns1", "creds", { PASSWORD: "s3cret", SHARED: "secret" });
    const env = await envOf({
      envFrom: [
        { configMapRef: { name: "cfg" } },
        { prefix: "S_", secretRef: { name: "creds" } },
        { secretRef: { name: "creds" } },
      ],
      env: [
        { name: "PLAIN", value: "v" },
        { name: "MODE", value: "override-$(PLAIN)" },
        { name: "POD", valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "metadata.name" } } },
        { name: "IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
        { name: "CPU", valueFrom: { resourceFieldRef: { resource: "limits.cpu", divisor: "1m" } } },
        { name: "KEY", valueFrom: { configMapKeyRef: { name: "cfg", key: "MODE" } } },
        { name: "PW", valueFrom: { secretKeyRef: { name: "creds", key: "PASSWORD" } } },
        { name: "EMPTY" },
      ],
    });
    expect(env).toEqual([
      { key: "MODE", value: "override-v" },
      { key: "SHARED", value: "secret" }, // the later envFrom source wins
      { key: "S_PASSWORD", value: "s3cret" },
      { key: "S_SHARED", value: "secret" },
      { key: "PASSWORD", value: "s3cret" },
      { key: "PLAIN", value: "v" },
      { key: "POD", value: "web" },
      { key: "IP", value: "10.89.0.7" },
      { key: "CPU", value: "3500" }, // no limit: node allocatable
      { key: "KEY", value: "from-cm" },
      { key: "PW", value: "s3cret" },
      { key: "EMPTY", value: "" },
    ]);
    // Each object is read once per build.
    expect(t.api.calls.filter((c) => c.startsWith("secret"))).toEqual(["secret ns1/creds"]);
  });

  it("expands only over variables declared earlier and the service variables", async () => {
    t = await testContext();
    t.api.services.push(service("ns1", "db", "10.96.5.5", [{ port: 5432 }]));
    const env = await envOf({
      env: [
        { name: "URL", value: "postgres://$(DB_SERVICE_HOST):$(DB_SERVICE_PORT)/$(NAME)" },
        { name: "NAME", value: "app" },
        { name: "ESCAPED", value: "$$(NAME)" },
        { name: "DB_SERVICE_PORT", value: "overridden" },
      ],
    });
    const map = new Map(env.map((e) => [e.key, e.value]));
    expect(map.get("URL")).toBe("postgres://10.96.5.5:5432/$(NAME)");
    expect(map.get("ESCAPED")).toBe("$(NAME)");
    // Declared variables replace service ones; the rest of the service variables follow the declared ones.
    expect(map.get("DB_SERVICE_PORT")).toBe("overridden");
    expect(env.slice(0, 4).map((e) => e.key)).toEqual(["URL", "NAME", "ESCAPED", "DB_SERVICE_PORT"]);
    expect(map.get("DB_PORT_5432_TCP_ADDR")).toBe("10.96.5.5");
  });

  it("skips what is optional and missing", async () => {
    t = await testContext();
    t.api.setConfigMap("ns1", "cfg", { A: "1" });
    const env = await envOf({
      envFrom: [
        { configMapRef: { name: "absent", optional: true } },
        { secretRef: { name: "absent", optional: true } },
      ],
      env: [
        { name: "X", valueFrom: { configMapKeyRef: { name: "cfg", key: "nope", optional: true } } },
        { name: "Y", valueFrom: { configMapKeyRef: { name: "absent", key: "A", optional: true } } },
        { name: "Z", valueFrom: { secretKeyRef: { name: "absent", key: "A", optional: true } } },
      ],
    });
    expect(env).toEqual([]);
  });

  it.each([
    [{ envFrom: [{ configMapRef: { name: "cfg2" } }] }, 'configmap "cfg2" not found'],
    [{ envFrom: [{ secretRef: { name: "s2" } }] }, 'secret "s2" not found'],
    [
      { env: [{ name: "X", valueFrom: { configMapKeyRef: { name: "cfg", key: "missing" } } }] },
      "couldn't find key missing in ConfigMap ns1/cfg",
    ],
    [
      { env: [{ name: "X", valueFrom: { secretKeyRef: { name: "creds", key: "missing" } } }] },
      "couldn't find key missing in Secret ns1/creds",
    ],
    [
      { env: [{ name: "X", valueFrom: { fieldRef: { fieldPath: "spec.restartPolicy" } } }] },
      'container "app": env X: valueFrom.fieldRef: unsupported fieldPath: spec.restartPolicy',
    ],
    [
      { env: [{ name: "X", valueFrom: { resourceFieldRef: { resource: "limits.gpu" } } }] },
      'container "app": env X: valueFrom.resourceFieldRef: unsupported container resource : limits.gpu',
    ],
  ] as Array<[Partial<Container>, string]>)(
    "fails with CreateContainerConfigError: %#",
    async (c, message) => {
      t = await testContext();
      t.api.setConfigMap("ns1", "cfg", { A: "1" });
      t.api.setSecret("ns1", "creds", { A: "1" });
      const error = await rejection(envOf(c));
      expect(error.reason).toBe("CreateContainerConfigError");
      expect(error.message).toBe(message);
    },
  );

  it("turns API failures into CreateContainerConfigError naming the object", async () => {
    t = await testContext();
    t.api.fail = true;
    const error = await rejection(envOf({}));
    expect(error.message).toMatch(/^failed to list services when setting up env vars: connect ECONNREFUSED/);
    t.api.fail = false;
    const failing = t.api;
    failing.getConfigMap = async () => {
      throw new Error("etcdserver: request timed out");
    };
    const error2 = await rejection(envOf({ envFrom: [{ configMapRef: { name: "cfg" } }] }));
    expect(error2.message).toBe("couldn't get configMap ns1/cfg: etcdserver: request timed out");
  });

  it("skips envFrom keys that are not environment variable names and warns once per source", async () => {
    t = await testContext();
    t.api.setConfigMap("ns1", "cfg", { "ok.key-1": "1", GOOD: "2" });
    const env = await envOf({
      envFrom: [{ prefix: "A=", configMapRef: { name: "cfg" } }, { configMapRef: { name: "cfg" } }],
    });
    // Relaxed validation (1.32 default): dots and dashes are fine, '=' is not.
    expect(env).toEqual([
      { key: "ok.key-1", value: "1" },
      { key: "GOOD", value: "2" },
    ]);
    expect(t.warnings).toEqual([
      {
        reason: "InvalidEnvironmentVariableNames",
        message:
          "Keys [A=GOOD, A=ok.key-1] from the EnvFrom configMap ns1/cfg were skipped since they are considered invalid environment variable names.",
      },
    ]);
  });
});
