// Property-based fuzzing of the API server's decoding and validation over HTTP against a real control plane:
// random and mutated JSON/YAML/protobuf bodies, JSON/merge/strategic/apply patch documents, label and field
// selectors and query strings.
// "Nothing lost" here: the server never crashes (its process stays up and /readyz answers 200 afterwards),
// never hangs (each request has a bound), and answers every request with 2xx, or 4xx carrying a
// Kubernetes Status whose code equals the HTTP status; no 5xx.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify as stringifyYaml } from "yaml";
import { startControlPlane, type TestControlPlane } from "../support/controlplane.ts";
import { uniqueName } from "../support/names.ts";
import { fuzzRuns, reportCases } from "./support/fuzz.ts";

/** A request that takes longer than this counts as a hang (generous: the machine is shared and loaded). */
const REQUEST_BOUND_MS = 15_000;

interface Outcome {
  status: number;
  body: string;
}

describe("API server fuzzing", () => {
  let cp: TestControlPlane;
  let ns: string;
  const seenStatuses = new Map<number, number>();
  const slowest = { ms: 0, what: "" };

  beforeAll(async () => {
    cp = await startControlPlane({ controllers: false });
    ns = uniqueName("fuzz");
    const res = await cp.fetch("/api/v1/namespaces", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ metadata: { name: ns } }),
    });
    expect(res.status).toBe(201);
    // Objects that patches and reads aim at.
    for (const [path, body] of seedObjects()) {
      const seeded = await cp.fetch(path, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      expect(seeded.status, await seeded.text()).toBe(201);
    }
  });

  afterAll(async () => {
    console.log(`API server fuzzing: HTTP statuses seen ${JSON.stringify(Object.fromEntries(seenStatuses))}`);
    console.log(`API server fuzzing: slowest request ${slowest.ms} ms, ${slowest.what}`);
    await cp?.stop();
  });

  const seedObjects = (): Array<[string, unknown]> => [
    [`/api/v1/namespaces/${ns}/pods`, validPod("target")],
    [`/api/v1/namespaces/${ns}/configmaps`, { metadata: { name: "target" }, data: { a: "b" } }],
    [`/api/v1/namespaces/${ns}/services`, validService("target")],
    [`/apis/apps/v1/namespaces/${ns}/deployments`, validDeployment("target")],
  ];

  /** Sends one request and checks the invariant; returns the outcome for property-specific checks. */
  const send = async (
    method: string,
    path: string,
    body: string | Uint8Array | undefined,
    contentType?: string,
  ): Promise<Outcome> => {
    let res: Response;
    const started = performance.now();
    try {
      res = await cp.fetch(path, {
        method,
        headers: contentType ? { "Content-Type": contentType } : {},
        body: body as RequestInit["body"],
        signal: AbortSignal.timeout(REQUEST_BOUND_MS),
      });
    } catch (error) {
      throw new Error(
        `${method} ${path} (${contentType}) failed or hung: ${(error as Error).message}\nbody: ${preview(body)}\ncontrol plane log tail:\n${cp.logs().slice(-2000)}`,
      );
    }
    const text = await res.text();
    const took = performance.now() - started;
    if (took > slowest.ms)
      Object.assign(slowest, {
        ms: Math.round(took),
        what: `${method} ${path} → ${res.status}: ${preview(body).slice(0, 120)}`,
      });
    seenStatuses.set(res.status, (seenStatuses.get(res.status) ?? 0) + 1);
    const context = `${method} ${path} (${contentType}) → ${res.status}\nrequest body: ${preview(body)}\nresponse: ${text.slice(0, 500)}`;
    expect(
      res.status >= 200 && (res.status < 500 || isTooLargeResourceVersion(res.status, text)),
      context,
    ).toBe(true);
    if (res.status >= 400) {
      let status: { kind?: string; apiVersion?: string; code?: number; status?: string; message?: string };
      try {
        status = JSON.parse(text);
      } catch {
        throw new Error(`a ${res.status} answer without a JSON Status body: ${context}`);
      }
      expect(status, context).toMatchObject({ kind: "Status", apiVersion: "v1", status: "Failure" });
      expect(status.code, context).toBe(res.status);
      expect(typeof status.message, context).toBe("string");
    }
    return { status: res.status, body: text };
  };

  const collections = () => [
    `/api/v1/namespaces/${ns}/pods`,
    `/api/v1/namespaces/${ns}/configmaps`,
    `/api/v1/namespaces/${ns}/services`,
    `/apis/apps/v1/namespaces/${ns}/deployments`,
    "/api/v1/namespaces",
    "/api/v1/nodes",
  ];
  const targets = () => [
    `/api/v1/namespaces/${ns}/pods/target`,
    `/api/v1/namespaces/${ns}/configmaps/target`,
    `/api/v1/namespaces/${ns}/services/target`,
    `/apis/apps/v1/namespaces/${ns}/deployments/target`,
  ];

  it("random JSON, YAML and protobuf bodies on create and update", async () => {
    const bodyArb = fc.oneof(
      fc.jsonValue().map((v) => ({ text: JSON.stringify(v), type: "application/json" })),
      fc.string({ unit: "binary", maxLength: 200 }).map((s) => ({ text: s, type: "application/json" })),
      fc.jsonValue().map((v) => ({ text: stringifyYaml(v), type: "application/yaml" })),
      fc.string({ unit: "binary", maxLength: 200 }).map((s) => ({ text: s, type: "application/yaml" })),
      fc
        .uint8Array({ maxLength: 300 })
        .map((bytes) => ({ text: bytes, type: "application/vnd.kubernetes.protobuf" })),
      // A protobuf envelope ("k8s\0") with a random payload reaches the decoder proper.
      fc.uint8Array({ maxLength: 300 }).map((bytes) => ({
        text: new Uint8Array([0x6b, 0x38, 0x73, 0x00, ...bytes]),
        type: "application/vnd.kubernetes.protobuf",
      })),
    );
    let cases = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...collections(), ...targets()), bodyArb, async (path, body) => {
        cases++;
        const method = targets().includes(path) ? "PUT" : "POST";
        await send(method, path, body.text, body.type);
      }),
      { numRuns: fuzzRuns(250) },
    );
    reportCases("API server: random bodies", cases);
  }, 300_000);

  it("valid objects with random mutations (wrong types, deep values, odd names, unknown fields)", async () => {
    let cases = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<[string, unknown]>(
          [`/api/v1/namespaces/${ns}/pods`, validPod("m")],
          [`/api/v1/namespaces/${ns}/services`, validService("m")],
          [`/apis/apps/v1/namespaces/${ns}/deployments`, validDeployment("m")],
          [`/api/v1/namespaces/${ns}/configmaps`, { metadata: { name: "m" }, data: { k: "v" } }],
        ),
        fc.array(mutationArb(), { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        fc.constantFrom("", "?dryRun=All", "?fieldValidation=Strict", "?fieldValidation=Warn"),
        async ([path, valid], mutations, asYaml, query) => {
          cases++;
          const obj = structuredClone(valid) as Record<string, unknown>;
          (obj.metadata as Record<string, unknown>).name = uniqueName("m");
          for (const mutation of mutations) applyMutation(obj, mutation);
          // Deep documents go as flow YAML (JSON text, which YAML reads too): block YAML of a 1,000-level
          // document is quadratic to print and would spend the test's time in the test itself.
          const deep = mutations.some((m) => m.kind === "deep");
          const text = asYaml && !deep ? stringifyYaml(obj) : JSON.stringify(obj);
          await send("POST", `${path}${query}`, text, asYaml ? "application/yaml" : "application/json");
        },
      ),
      { numRuns: fuzzRuns(250) },
    );
    reportCases("API server: mutated objects", cases);
  }, 300_000);

  it("patch documents of every patch type", async () => {
    const opArb = fc.record({
      op: fc.oneof(fc.constantFrom("add", "remove", "replace", "move", "copy", "test"), fc.string()),
      path: fc.oneof(pointerArb(), fc.string()),
      from: fc.option(pointerArb(), { nil: undefined }),
      value: fc.option(fc.jsonValue(), { nil: undefined }),
    });
    const patchArb = fc.oneof(
      fc.array(opArb, { maxLength: 4 }).map((ops) => ({
        text: JSON.stringify(ops),
        type: "application/json-patch+json",
      })),
      fc.jsonValue().map((v) => ({ text: JSON.stringify(v), type: "application/merge-patch+json" })),
      mergeDocArb().map((v) => ({ text: JSON.stringify(v), type: "application/merge-patch+json" })),
      mergeDocArb().map((v) => ({ text: JSON.stringify(v), type: "application/strategic-merge-patch+json" })),
      fc
        .jsonValue()
        .map((v) => ({ text: JSON.stringify(v), type: "application/strategic-merge-patch+json" })),
      mergeDocArb().map((v) => ({ text: stringifyYaml(v), type: "application/apply-patch+yaml" })),
      fc
        .string({ unit: "binary", maxLength: 200 })
        .chain((s) =>
          fc.constantFrom(
            { text: s, type: "application/json-patch+json" },
            { text: s, type: "application/merge-patch+json" },
            { text: s, type: "application/strategic-merge-patch+json" },
            { text: s, type: "application/apply-patch+yaml" },
          ),
        ),
    );
    let cases = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...targets()),
        patchArb,
        fc.constantFrom(
          "",
          "?fieldManager=fuzz",
          "?fieldManager=fuzz&force=true",
          "?dryRun=All&fieldManager=x",
        ),
        async (path, patch, query) => {
          cases++;
          await send("PATCH", `${path}${query}`, patch.text, patch.type);
        },
      ),
      { numRuns: fuzzRuns(300) },
    );
    reportCases("API server: patch documents", cases);
  }, 300_000);

  it("label selectors, field selectors and query strings on list and get", async () => {
    const selectorText = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.string({ unit: "binary", maxLength: 40 }),
      fc
        .array(
          fc.tuple(
            fc.oneof(labelKeyArb(), fc.string({ maxLength: 10 })),
            fc.constantFrom("=", "==", "!=", " in ", " notin ", "", "!", " in (", ")", ","),
            fc.oneof(fc.string({ maxLength: 10 }), fc.constant("(a,b)"), fc.constant("()")),
          ),
          { maxLength: 4 },
        )
        .map((reqs) => reqs.map(([k, op, v]) => `${k}${op}${v}`).join(",")),
    );
    const queryKey = fc.constantFrom(
      "labelSelector",
      "fieldSelector",
      "limit",
      "continue",
      "resourceVersion",
      "resourceVersionMatch",
      "timeoutSeconds",
      "allowWatchBookmarks",
      "sendInitialEvents",
      "pretty",
      "includeObject",
      "fieldManager",
      "propagationPolicy",
    );
    const queryValue = fc.oneof(
      selectorText,
      fc.integer({ min: -5, max: 1_000_000_000 }).map(String),
      fc.constantFrom("0", "-1", "true", "false", "1e3", "NaN", "", "NotOlderThan", "Exact", "%"),
    );
    const queryArb = fc.array(fc.tuple(queryKey, queryValue), { maxLength: 5 });
    let cases = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...collections(), ...targets()),
        queryArb,
        fc.boolean(),
        async (path, params, raw) => {
          cases++;
          // Raw: the query as typed, unencoded, so that the server's own URL decoding is exercised too.
          const query = raw
            ? params.map(([k, v]) => `${k}=${v}`).join("&")
            : new URLSearchParams(params).toString();
          await send(
            "GET",
            `${path}?${query}`.replace(/[#\s]/g, (c) => encodeURIComponent(c)),
            undefined,
          );
        },
      ),
      { numRuns: fuzzRuns(300) },
    );
    // A watch with a random query either fails at once or streams; either way it answers and is bounded.
    let watches = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...collections()), queryArb, async (path, params) => {
        watches++;
        const query = new URLSearchParams([...params, ["watch", "true"], ["timeoutSeconds", "1"]]);
        // The last timeoutSeconds wins on the server only if it reads the last value; read the head only.
        const res = await cp.fetch(`${path}?${query}`, { signal: AbortSignal.timeout(REQUEST_BOUND_MS) });
        seenStatuses.set(res.status, (seenStatuses.get(res.status) ?? 0) + 1);
        const text = res.status >= 400 ? await res.text() : "";
        expect(
          res.status >= 200 && (res.status < 500 || isTooLargeResourceVersion(res.status, text)),
          `watch ${path}?${query} → ${res.status} ${text}`,
        ).toBe(true);
        await res.body?.cancel().catch(() => {});
      }),
      { numRuns: fuzzRuns(40) },
    );
    reportCases("API server: selectors and query strings", cases + watches);
  }, 300_000);

  it("found by fuzzing: an exact list ahead of the store is upstream's 504 Too large resource version", async () => {
    const res = await cp.fetch(`/api/v1/namespaces/${ns}/pods?limit=1&resourceVersion=999999999`);
    expect(res.status).toBe(504);
    expect(await res.json()).toMatchObject({
      kind: "Status",
      reason: "Timeout",
      details: { causes: [{ reason: "ResourceVersionTooLarge" }], retryAfterSeconds: 1 },
    });
  });

  it("is still up and ready after all of it", async () => {
    const ready = await cp.fetch("/readyz");
    expect(ready.status).toBe(200);
    expect(cp.pid()).toBeDefined();
    expect(cp.logs()).not.toMatch(/unhandled|uncaught/i);
  });
});

function validPod(name: string) {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, labels: { app: "fuzz" } },
    spec: { containers: [{ name: "main", image: "busybox:1.35", ports: [{ containerPort: 80 }] }] },
  };
}

function validService(name: string) {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name },
    spec: { selector: { app: "fuzz" }, ports: [{ name: "http", port: 80, targetPort: 8080 }] },
  };
}

function validDeployment(name: string) {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: "main", image: "busybox:1.35" }] },
      },
    },
  };
}

/**
 * The one 5xx upstream answers on purpose: a resourceVersion newer than the store's, after waiting for it
 * (504 Timeout with cause ResourceVersionTooLarge and Retry-After, storage.NewTooLargeResourceVersionError).
 */
function isTooLargeResourceVersion(status: number, body: string): boolean {
  return status === 504 && body.includes('"ResourceVersionTooLarge"') && body.includes('"reason":"Timeout"');
}

function preview(body: string | Uint8Array | undefined): string {
  if (body === undefined) return "(none)";
  if (typeof body === "string") return JSON.stringify(body.slice(0, 300));
  return `bytes ${Buffer.from(body).toString("hex").slice(0, 300)}`;
}

type Mutation =
  | { kind: "set"; path: string[]; value: unknown }
  | { kind: "delete"; path: string[] }
  | { kind: "deep"; path: string[]; depth: number };

const FIELD_NAMES = [
  "metadata",
  "name",
  "namespace",
  "labels",
  "annotations",
  "spec",
  "containers",
  "0",
  "image",
  "ports",
  "port",
  "containerPort",
  "targetPort",
  "selector",
  "replicas",
  "template",
  "resources",
  "limits",
  "cpu",
  "memory",
  "env",
  "value",
  "apiVersion",
  "kind",
  "data",
  "type",
  "clusterIP",
  "nodePort",
  "protocol",
  "__proto__",
  "constructor",
  "x-unknown",
];

function fieldPathArb() {
  return fc.array(fc.oneof(fc.constantFrom(...FIELD_NAMES), fc.string({ maxLength: 8 })), {
    minLength: 1,
    maxLength: 5,
  });
}

function oddValueArb() {
  return fc.oneof(
    fc.jsonValue({ maxDepth: 2 }),
    fc.constantFrom(
      "",
      "a".repeat(300),
      "-1",
      "1Ei",
      "1e400",
      "999999999999999999999",
      "NaN",
      "../../etc",
      "a\nb",
      'x"y',
      "UPPER",
      "10.0.0.1",
      "None",
    ),
    fc.constantFrom(-1, 0, 2 ** 31, 2 ** 53, -(2 ** 63), 1.5, 1e308),
  );
}

function mutationArb(): fc.Arbitrary<Mutation> {
  return fc.oneof(
    fc.record({ kind: fc.constant("set" as const), path: fieldPathArb(), value: oddValueArb() }),
    fc.record({ kind: fc.constant("delete" as const), path: fieldPathArb() }),
    fc.record({
      kind: fc.constant("deep" as const),
      path: fieldPathArb(),
      depth: fc.integer({ min: 50, max: 2000 }),
    }),
  );
}

/** Applies one mutation along `path`, creating objects where the path leads nowhere yet. */
function applyMutation(root: Record<string, unknown>, mutation: Mutation): void {
  let node: Record<string, unknown> = root;
  const path = mutation.path;
  for (const key of path.slice(0, -1)) {
    const next = Object.hasOwn(node, key) ? node[key] : undefined;
    if (typeof next !== "object" || next === null) {
      const created: Record<string, unknown> = {};
      Object.defineProperty(node, key, {
        value: created,
        enumerable: true,
        writable: true,
        configurable: true,
      });
      node = created;
    } else node = next as Record<string, unknown>;
  }
  const last = path[path.length - 1] as string;
  if (mutation.kind === "delete") {
    delete node[last];
    return;
  }
  let value: unknown = mutation.kind === "set" ? mutation.value : "bottom";
  if (mutation.kind === "deep")
    for (let i = 0; i < mutation.depth; i++) value = i % 2 ? [value] : { a: value };
  Object.defineProperty(node, last, { value, enumerable: true, writable: true, configurable: true });
}

function pointerArb() {
  return fc
    .array(fc.oneof(fc.constantFrom(...FIELD_NAMES, "-", "~0", "~1", "999"), fc.string({ maxLength: 5 })), {
      maxLength: 5,
    })
    .map((parts) => (parts.length ? `/${parts.join("/")}` : ""));
}

/** Merge-patch-shaped documents that reach into real fields, with SMP directives now and then. */
function mergeDocArb() {
  const leaf = oddValueArb();
  return fc
    .array(fc.tuple(fieldPathArb(), fc.oneof(leaf, fc.constant(null))), { minLength: 1, maxLength: 4 })
    .chain((entries) =>
      fc
        .option(
          fc.constantFrom(
            { $patch: "replace" },
            { $patch: "delete" },
            { $patch: "bogus" },
            { $retainKeys: ["x"] },
            { "$setElementOrder/containers": [{ name: "main" }] },
            { $deleteFromPrimitiveList: 1 },
          ),
          { nil: undefined },
        )
        .map((directive) => {
          const doc: Record<string, unknown> = {};
          for (const [path, value] of entries) applyMutation(doc, { kind: "set", path, value });
          if (directive) Object.assign((doc.spec as object | undefined) ?? doc, directive);
          return doc;
        }),
    );
}

function labelKeyArb() {
  return fc.constantFrom(
    "app",
    "tier",
    "example.com/key",
    "a.b/c-d",
    "metadata.name",
    "spec.nodeName",
    "status.phase",
  );
}
