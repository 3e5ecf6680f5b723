// Property-based fuzzing of the agent's file loaders: the static-pod manifest loader and the kubelet config
// loader, with random text, random YAML documents and valid files with random mutations.
// "Nothing lost" here: a loader never throws anything but its own precise error (a ManifestProblem string /
// a ConfigError naming the field), never returns a pod without a name, namespace, UID and node, and the
// same input always gives the same answer (a static pod's UID depends on its content only).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { stringify as stringifyYaml } from "yaml";
import { ConfigError, defaultConfig, finishConfig, parseConfigFile } from "../../src/agent/config.ts";
import { staticPodFromManifest } from "../../src/agent/static-pod-manifest.ts";
import { fuzzRuns, reportCases } from "./support/fuzz.ts";

const NODE = "fuzz-node";

const validManifest = {
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "web", namespace: "kube-system", labels: { app: "web" } },
  spec: {
    containers: [
      {
        name: "web",
        image: "busybox:1.35",
        command: ["httpd", "-f"],
        ports: [{ containerPort: 80 }],
        livenessProbe: { httpGet: { path: "/", port: 80 } },
        resources: { limits: { cpu: "100m", memory: "64Mi" } },
      },
    ],
    volumes: [{ name: "data", emptyDir: {} }],
  },
};

const validConfig = {
  apiVersion: "kubelet.config.k8s.io/v1beta1",
  kind: "KubeletConfiguration",
  maxPods: 50,
  clusterDNS: ["10.96.0.10"],
  clusterDomain: "cluster.local",
  staticPodPath: "/etc/deckhand/manifests",
  fileCheckFrequency: "20s",
  evictionHard: { "memory.available": "100Mi" },
  systemReserved: { cpu: "100m" },
  registerWithTaints: [{ key: "a", value: "b", effect: "NoSchedule" }],
  nodeLabels: { zone: "a" },
  port: 10250,
  proxyMode: "none",
};

/** Values a hand-edited file gets wrong: types, ranges, YAML's odd scalars. */
function oddValue(): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.jsonValue({ maxDepth: 2 }),
    fc.constantFrom(
      "",
      "-1",
      "1e400",
      "NaN",
      "yes",
      "0x10",
      "10s",
      "-5m",
      "1.2.3.4/33",
      "../x",
      "a\nb",
      null,
    ),
    fc.constantFrom(-1, 0, 65_536, 1.5, 2 ** 53, -(2 ** 63)),
  );
}

const KEYS = [
  ...Object.keys(validConfig),
  "apiVersion",
  "kind",
  "metadata",
  "spec",
  "containers",
  "name",
  "namespace",
  "image",
  "0",
  "ports",
  "volumes",
  "livenessProbe",
  "httpGet",
  "port",
  "resources",
  "limits",
  "__proto__",
  "constructor",
  "toString",
];

function mutate(root: unknown, path: string[], value: unknown, remove: boolean): unknown {
  const copy = structuredClone(root) as Record<string, unknown>;
  let node = copy;
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
  const last = path.at(-1) as string;
  if (remove) delete node[last];
  else Object.defineProperty(node, last, { value, enumerable: true, writable: true, configurable: true });
  return copy;
}

function mutatedText(valid: unknown): fc.Arbitrary<string> {
  return fc
    .tuple(
      fc.array(
        fc.tuple(
          fc.array(fc.oneof(fc.constantFrom(...KEYS), fc.string({ maxLength: 6 })), {
            minLength: 1,
            maxLength: 4,
          }),
          oddValue(),
          fc.boolean(),
        ),
        { minLength: 1, maxLength: 3 },
      ),
      fc.constantFrom("yaml", "json", "truncated"),
    )
    .map(([mutations, form]) => {
      let doc = valid;
      for (const [path, value, remove] of mutations) doc = mutate(doc, path, value, remove);
      const text = form === "json" ? JSON.stringify(doc) : stringifyYaml(doc);
      return form === "truncated" ? text.slice(0, Math.floor(text.length / 2)) : text;
    });
}

function anyText(valid: unknown): fc.Arbitrary<string> {
  return fc.oneof(
    fc.string({ maxLength: 200 }),
    fc.string({ unit: "binary", maxLength: 200 }),
    fc.jsonValue().map((v) => stringifyYaml(v)),
    fc
      .array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 })
      .map((docs) => docs.map((d) => stringifyYaml(d)).join("---\n")),
    fc.constantFrom(
      "&a [*a]",
      "a: &x {b: *x}",
      "!!binary AAAA",
      "? [a]\n: b",
      "%YAML 1.1\n---\na: b",
      `${"- ".repeat(500)}x`,
      "a: !!js/function 'function(){}'",
      "<<: *undefined",
    ),
    mutatedText(valid),
  );
}

describe("agent file loaders under fuzzed input", () => {
  it("the static-pod manifest loader answers a pod or a problem, never throws", () => {
    let cases = 0;
    let pods = 0;
    fc.assert(
      fc.property(anyText(validManifest), fc.constantFrom("/etc/m/a.yaml", "/etc/m/b.json"), (text, file) => {
        cases++;
        const first = staticPodFromManifest(text, file, NODE, "2026-01-01T00:00:00Z");
        if ("problem" in first) {
          expect(typeof first.problem).toBe("string");
          expect(first.problem.length).toBeGreaterThan(0);
        } else {
          pods++;
          const meta = first.pod.metadata ?? {};
          expect(meta.name?.endsWith(`-${NODE}`), JSON.stringify(meta)).toBe(true);
          expect(meta.namespace).toBeTruthy();
          expect(meta.uid).toMatch(/^[0-9a-f]{32}$/);
          expect(first.pod.spec?.nodeName).toBe(NODE);
          // Same content, same file: same pod (UID), whenever it is seen.
          const again = staticPodFromManifest(text, file, NODE, "2026-02-02T00:00:00Z");
          expect("pod" in again && again.pod.metadata?.uid).toBe(meta.uid);
        }
      }),
      { numRuns: fuzzRuns(1_500) },
    );
    reportCases(`static-pod manifest loader (${pods} accepted)`, cases);
    expect(pods).toBeGreaterThan(0);
  }, 300_000);

  it("the kubelet config loader answers a config or a ConfigError naming a field, never anything else", () => {
    let cases = 0;
    let accepted = 0;
    fc.assert(
      fc.property(anyText(validConfig), (text) => {
        cases++;
        try {
          const fromFile = parseConfigFile(text, "/etc/deckhand/config.yaml");
          finishConfig({ ...defaultConfig(), nodeName: NODE, ...fromFile });
          accepted++;
        } catch (error) {
          if (!(error instanceof ConfigError)) throw error;
          expect(error.message.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: fuzzRuns(1_500) },
    );
    reportCases(`kubelet config loader (${accepted} accepted)`, cases);
    expect(accepted).toBeGreaterThan(0);
  }, 300_000);
});
