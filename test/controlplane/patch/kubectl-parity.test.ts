// Differential test against the real thing: `kubectl patch --local` runs upstream's own strategic merge
// patch (with the Go types' merge metadata), JSON patch and merge patch libraries on a file, without a
// server. Every case here must give the same object as our engines, or fail in both with the same message.

import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PatchError } from "../../../src/controlplane/apiserver/patch/errors.ts";
import { applyJsonPatch, decodeJsonPatch } from "../../../src/controlplane/apiserver/patch/json-patch.ts";
import type { JsonObject, JsonValue } from "../../../src/controlplane/apiserver/patch/json-value.ts";
import { applyMergePatch, decodeMergePatch } from "../../../src/controlplane/apiserver/patch/merge-patch.ts";
import {
  applyStrategicMergePatch,
  decodeStrategicMergePatch,
} from "../../../src/controlplane/apiserver/patch/strategic-merge-patch.ts";
import { requirePrerequisite } from "../../support/env.ts";
import { run } from "../../support/run.ts";
import {
  type FixtureKind,
  liveConfigMap,
  liveDeployment,
  livePod,
  liveService,
  schemaFor,
} from "./fixtures.ts";

const KUBECTL_CANDIDATES = [
  process.env.DECKHAND_KUBECTL,
  "/usr/lib/google-cloud-sdk/bin/kubectl.1.32",
  "/usr/bin/kubectl",
].filter((p): p is string => typeof p === "string" && p !== "");

type PatchKind = "strategic" | "json" | "merge";

interface Case {
  name: string;
  kind: FixtureKind;
  type: PatchKind;
  patch: JsonValue;
  live?: JsonObject;
}

const LIVE: Record<FixtureKind, () => JsonObject> = {
  Pod: livePod,
  Deployment: liveDeployment,
  Service: liveService,
  ConfigMap: liveConfigMap,
};

const tpl = (spec: JsonObject) => ({ spec: { template: { spec } } });

const cases: Case[] = [
  // Strategic merge patch: what kubectl apply / edit / label / patch send.
  {
    name: "apply: change one image",
    kind: "Deployment",
    type: "strategic",
    patch: tpl({
      "$setElementOrder/containers": [{ name: "web" }, { name: "sidecar" }],
      containers: [{ image: "nginx:1.27", name: "web" }],
    }),
  },
  {
    name: "apply: delete a container",
    kind: "Deployment",
    type: "strategic",
    patch: tpl({
      "$setElementOrder/containers": [{ name: "web" }],
      containers: [{ $patch: "delete", name: "sidecar" }],
    }),
  },
  {
    name: "apply: add a container in the middle",
    kind: "Deployment",
    type: "strategic",
    patch: tpl({
      "$setElementOrder/containers": [{ name: "web" }, { name: "metrics" }, { name: "sidecar" }],
      containers: [{ image: "exporter:1", name: "metrics" }],
    }),
  },
  {
    name: "apply: reorder containers",
    kind: "Deployment",
    type: "strategic",
    patch: tpl({ "$setElementOrder/containers": [{ name: "sidecar" }, { name: "web" }] }),
  },
  {
    name: "apply: env change, addition and deletion",
    kind: "Deployment",
    type: "strategic",
    patch: tpl({
      "$setElementOrder/containers": [{ name: "web" }, { name: "sidecar" }],
      containers: [
        {
          "$setElementOrder/env": [{ name: "C" }, { name: "B" }],
          env: [
            { name: "C", value: "3" },
            { name: "B", value: "two" },
            { $patch: "delete", name: "A" },
          ],
          name: "web",
        },
      ],
    }),
  },
  {
    name: "apply: env value → valueFrom (null clears value)",
    kind: "Deployment",
    type: "strategic",
    patch: tpl({
      "$setElementOrder/containers": [{ name: "web" }, { name: "sidecar" }],
      containers: [
        {
          env: [{ name: "A", value: null, valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }],
          name: "web",
        },
      ],
    }),
  },
  {
    name: "apply: replicas, label removal and annotation update",
    kind: "Deployment",
    type: "strategic",
    patch: {
      metadata: {
        annotations: { "kubectl.kubernetes.io/last-applied-configuration": "{}\n" },
        labels: { app: null, team: "a" },
      },
      spec: { replicas: 5 },
    },
  },
  {
    name: "apply: strategy to Recreate ($retainKeys)",
    kind: "Deployment",
    type: "strategic",
    patch: { spec: { strategy: { $retainKeys: ["type"], rollingUpdate: null, type: "Recreate" } } },
  },
  {
    name: "apply: volume source switch ($retainKeys)",
    kind: "Pod",
    type: "strategic",
    patch: {
      spec: {
        "$setElementOrder/volumes": [{ name: "data" }],
        volumes: [
          {
            $retainKeys: ["configMap", "name"],
            configMap: { name: "settings" },
            emptyDir: null,
            name: "data",
          },
        ],
      },
    },
  },
  {
    name: "finalizers: delete list + additions + order",
    kind: "Pod",
    type: "strategic",
    patch: {
      metadata: {
        "$deleteFromPrimitiveList/finalizers": ["example.com/a"],
        "$setElementOrder/finalizers": ["example.com/c", "example.com/b"],
        finalizers: ["example.com/c"],
      },
    },
  },
  {
    name: "finalizers: set merge",
    kind: "Pod",
    type: "strategic",
    patch: { metadata: { finalizers: ["example.com/z", "example.com/a"] } },
  },
  {
    name: "ports: merge by containerPort, delete one, order",
    kind: "Pod",
    type: "strategic",
    patch: {
      spec: {
        "$setElementOrder/containers": [{ name: "web" }, { name: "sidecar" }],
        containers: [
          {
            "$setElementOrder/ports": [{ containerPort: 8080 }, { containerPort: 80 }],
            name: "web",
            ports: [
              { containerPort: 8080, name: "metrics" },
              { $patch: "delete", containerPort: 443 },
            ],
          },
        ],
      },
    },
  },
  {
    name: "volumeMounts: merge by mountPath",
    kind: "Pod",
    type: "strategic",
    patch: {
      spec: {
        containers: [
          {
            name: "web",
            volumeMounts: [
              { mountPath: "/data", readOnly: true },
              { mountPath: "/cache", name: "cache" },
            ],
          },
        ],
      },
    },
  },
  {
    name: "tolerations: replaced (no strategy)",
    kind: "Pod",
    type: "strategic",
    patch: { spec: { tolerations: [{ key: "a", operator: "Exists" }] } },
  },
  {
    name: "args: replaced",
    kind: "Pod",
    type: "strategic",
    patch: { spec: { containers: [{ name: "sidecar", args: ["sleep", "1"] }] } },
  },
  {
    name: "ownerReferences: merge by uid",
    kind: "Pod",
    type: "strategic",
    patch: {
      metadata: {
        ownerReferences: [
          { apiVersion: "v1", kind: "Node", name: "n", uid: "node-uid" },
          { apiVersion: "apps/v1", kind: "ReplicaSet", name: "web-1", uid: "rs-uid-1", controller: false },
        ],
      },
    },
  },
  {
    name: "conditions: merge by type",
    kind: "Pod",
    type: "strategic",
    patch: {
      status: {
        conditions: [
          { type: "Ready", status: "False" },
          { type: "PodScheduled", status: "True" },
        ],
      },
    },
  },
  {
    name: "imagePullSecrets: merge by name",
    kind: "Pod",
    type: "strategic",
    patch: { spec: { imagePullSecrets: [{ name: "b" }, { name: "regcred" }, { name: "a" }] } },
  },
  {
    name: "new containers without $setElementOrder go first",
    kind: "Pod",
    type: "strategic",
    patch: {
      spec: {
        containers: [
          { name: "z", image: "z" },
          { name: "sidecar", image: "bb" },
          { name: "y", image: "y" },
        ],
      },
    },
  },
  {
    name: "$patch: replace in a list",
    kind: "Pod",
    type: "strategic",
    patch: { spec: { containers: [{ name: "solo", image: "x" }, { $patch: "replace" }] } },
  },
  {
    name: "$patch: replace on a map",
    kind: "Pod",
    type: "strategic",
    patch: { metadata: { labels: { $patch: "replace", only: "this" } } },
  },
  {
    name: "$patch: delete on a map",
    kind: "Pod",
    type: "strategic",
    patch: { metadata: { annotations: { $patch: "delete" } } },
  },
  {
    name: "label via null",
    kind: "Pod",
    type: "strategic",
    patch: { metadata: { labels: { tier: null, new: "x" } } },
  },
  {
    name: "service ports by port",
    kind: "Service",
    type: "strategic",
    patch: {
      spec: {
        "$setElementOrder/ports": [{ port: 53 }, { port: 80 }],
        ports: [{ port: 80, targetPort: 9090 }],
      },
    },
  },
  {
    name: "service selector replaced as a map merge",
    kind: "Service",
    type: "strategic",
    patch: { spec: { selector: { app: "api", tier: null } } },
  },
  {
    name: "service port deleted and another added",
    kind: "Service",
    type: "strategic",
    patch: {
      spec: {
        "$setElementOrder/ports": [{ port: 443 }, { port: 80 }],
        ports: [
          { port: 443, targetPort: 8443 },
          { $patch: "delete", port: 53 },
        ],
      },
    },
  },
  {
    name: "volume added with its mount",
    kind: "Pod",
    type: "strategic",
    patch: {
      spec: {
        "$setElementOrder/containers": [{ name: "web" }, { name: "sidecar" }],
        "$setElementOrder/volumes": [{ name: "data" }, { name: "cache" }],
        containers: [
          {
            "$setElementOrder/volumeMounts": [{ mountPath: "/data" }, { mountPath: "/cache" }],
            name: "web",
            volumeMounts: [{ mountPath: "/cache", name: "cache" }],
          },
        ],
        volumes: [{ emptyDir: { medium: "Memory" }, name: "cache" }],
      },
    },
  },
  {
    name: "owner reference deleted by uid",
    kind: "Pod",
    type: "strategic",
    patch: { metadata: { ownerReferences: [{ $patch: "delete", uid: "rs-uid-1" }] } },
  },
  {
    name: "finalizers: deletion without additions",
    kind: "Pod",
    type: "strategic",
    patch: { metadata: { "$deleteFromPrimitiveList/finalizers": ["example.com/b", "nope"] } },
  },
  {
    name: "nested maps merge (resources)",
    kind: "Pod",
    type: "strategic",
    patch: {
      spec: {
        containers: [{ name: "web", resources: { limits: { cpu: "500m" }, requests: { memory: "64Mi" } } }],
      },
    },
  },
  {
    name: "configmap data",
    kind: "ConfigMap",
    type: "strategic",
    patch: { data: { mode: null, extra: "1" }, binaryData: { b: "Zm9v" } },
  },
  {
    name: "error: missing merge key",
    kind: "Pod",
    type: "strategic",
    patch: { spec: { containers: [{ image: "c" }] } },
  },
  {
    name: "error: $patch merge on a map",
    kind: "Pod",
    type: "strategic",
    patch: { metadata: { labels: { $patch: "merge" } } },
  },
  {
    name: "error: $patch merge in a list",
    kind: "Pod",
    type: "strategic",
    patch: { spec: { containers: [{ name: "web", $patch: "merge" }] } },
  },
  {
    name: "error: bogus list directive",
    kind: "Pod",
    type: "strategic",
    patch: { spec: { containers: [{ name: "web", $patch: "bogus" }] } },
  },
  {
    name: "error: $setElementOrder mismatch",
    kind: "Pod",
    type: "strategic",
    patch: {
      spec: { "$setElementOrder/containers": [{ name: "web" }], containers: [{ name: "q", image: "c" }] },
    },
  },
  {
    name: "error: $retainKeys not a list",
    kind: "Pod",
    type: "strategic",
    patch: { spec: { $retainKeys: "x" } },
  },
  {
    name: "error: $retainKeys missing key",
    kind: "Pod",
    type: "strategic",
    patch: { spec: { $retainKeys: ["containers"], nodeName: "n" } },
  },
  {
    name: "error: mixed element types",
    kind: "Pod",
    type: "strategic",
    patch: { metadata: { finalizers: [1] } },
  },

  // JSON patch.
  {
    name: "json: add/replace/remove",
    kind: "Pod",
    type: "json",
    patch: [
      { op: "add", path: "/metadata/labels/a~1b", value: "v" },
      { op: "replace", path: "/spec/containers/0/image", value: "x" },
      { op: "remove", path: "/metadata/finalizers/0" },
    ],
  },
  {
    name: "json: move/copy/test",
    kind: "Pod",
    type: "json",
    patch: [
      { op: "test", path: "/metadata/resourceVersion", value: "42" },
      { op: "copy", from: "/metadata/labels", path: "/metadata/annotations/copied" },
      { op: "move", from: "/spec/nodeName", path: "/spec/hostname" },
    ],
  },
  {
    name: "json: append with - and negative index",
    kind: "Pod",
    type: "json",
    patch: [
      { op: "add", path: "/metadata/finalizers/-", value: "z" },
      { op: "add", path: "/metadata/finalizers/-1", value: "y" },
    ],
  },
  {
    name: "json: copy an array element, test an object regardless of key order",
    kind: "Pod",
    type: "json",
    patch: [
      { op: "copy", from: "/spec/containers/1", path: "/spec/initContainers" },
      { op: "test", path: "/metadata/labels", value: { tier: "frontend", app: "web" } },
    ],
  },
  {
    name: "json: replace of a missing member",
    kind: "Pod",
    type: "json",
    patch: [{ op: "replace", path: "/spec/serviceAccountName", value: "sa" }],
  },
  {
    name: "json: error test failed",
    kind: "Pod",
    type: "json",
    patch: [{ op: "test", path: "/metadata/name", value: "other" }],
  },
  {
    name: "json: error missing path",
    kind: "Pod",
    type: "json",
    patch: [{ op: "add", path: "/metadata/nope/x", value: 1 }],
  },
  {
    name: "json: error bad index",
    kind: "Pod",
    type: "json",
    patch: [{ op: "add", path: "/metadata/finalizers/9", value: 1 }],
  },
  {
    name: "json: error nonexistent key",
    kind: "Pod",
    type: "json",
    patch: [{ op: "remove", path: "/metadata/nope" }],
  },
  { name: "json: error unknown op", kind: "Pod", type: "json", patch: [{ op: "bogus", path: "/a" }] },

  // Merge patch.
  {
    name: "merge: nested merge and null",
    kind: "Deployment",
    type: "merge",
    patch: {
      metadata: { labels: { app: null, x: "y" } },
      spec: { replicas: 3, strategy: { rollingUpdate: null } },
    },
  },
  {
    name: "merge: new nested object with nulls",
    kind: "ConfigMap",
    type: "merge",
    patch: { metadata: { labels: { a: "1", b: null } }, binaryData: null },
  },
  {
    name: "merge: lists replaced",
    kind: "Pod",
    type: "merge",
    patch: { spec: { containers: [{ name: "only", image: "x" }] } },
  },
];

let kubectl = "";
let dir = "";
let kubeconfig = "";

beforeAll(async () => {
  kubectl = KUBECTL_CANDIDATES.find((p) => existsSync(p)) ?? "";
  requirePrerequisite(
    kubectl !== "",
    `kubectl (looked for ${KUBECTL_CANDIDATES.join(", ")})`,
    "install kubectl (the Google Cloud SDK's kubectl component provides /usr/bin/kubectl) or set DECKHAND_KUBECTL",
  );
  dir = await mkdtemp(join(tmpdir(), "deckhand-patch-parity-"));
  kubeconfig = join(dir, "kubeconfig");
  await writeFile(kubeconfig, "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n");
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

type Outcome = { object: JsonValue } | { error: string };

async function upstream(c: Case, index: number): Promise<Outcome> {
  const file = join(dir, `case-${index}.json`);
  await writeFile(file, JSON.stringify(c.live ?? LIVE[c.kind]()));
  const args = [
    "--kubeconfig",
    kubeconfig,
    "patch",
    "--local",
    "-f",
    file,
    "-o",
    "json",
    "--type",
    c.type,
    "-p",
    JSON.stringify(c.patch),
  ];
  const result = await run(kubectl, args, { allowFailure: true, timeoutMs: 30_000 });
  if (result.code === 0) return { object: JSON.parse(result.stdout) as JsonValue };
  return { error: result.stderr.replace(/^error: /i, "").trimEnd() };
}

function ours(c: Case): Outcome {
  const live = c.live ?? LIVE[c.kind]();
  const body = JSON.stringify(c.patch);
  try {
    if (c.type === "json") return { object: applyJsonPatch(live, decodeJsonPatch(body)) };
    if (c.type === "merge") return { object: applyMergePatch(live, decodeMergePatch(body)) };
    return { object: applyStrategicMergePatch(live, decodeStrategicMergePatch(body), schemaFor(c.kind)) };
  } catch (error) {
    if (!(error instanceof PatchError)) throw error;
    const explanation = c.type === "json" ? error.details?.causes?.[0]?.message : error.message;
    return { error: (explanation ?? error.message).trimEnd() };
  }
}

describe("parity with upstream's patch libraries (kubectl patch --local)", () => {
  it.each(cases.map((c, i) => [c.name, c, i] as const))("%s", async (_name, c, index) => {
    const expected = await upstream(c, index);
    expect(ours(c)).toEqual(expected);
  });
});
