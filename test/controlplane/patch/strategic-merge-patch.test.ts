import { describe, expect, it } from "vitest";
import { PatchError } from "../../../src/controlplane/apiserver/patch/errors.ts";
import type { JsonObject, JsonValue } from "../../../src/controlplane/apiserver/patch/json-value.ts";
import { NO_SCHEMA } from "../../../src/controlplane/apiserver/patch/schema.ts";
import {
  applyStrategicMergePatch,
  decodeStrategicMergePatch,
} from "../../../src/controlplane/apiserver/patch/strategic-merge-patch.ts";
import {
  type FixtureKind,
  liveConfigMap,
  liveDeployment,
  livePod,
  liveService,
  schemaFor,
} from "./fixtures.ts";

const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

function smp(kind: FixtureKind, live: JsonObject, patch: JsonValue): JsonObject {
  return applyStrategicMergePatch(live, patch as JsonObject, schemaFor(kind));
}

function smpError(kind: FixtureKind, live: JsonObject, patch: JsonValue): PatchError {
  try {
    smp(kind, live, patch);
  } catch (error) {
    if (error instanceof PatchError) return error;
    throw error;
  }
  throw new Error("expected the patch to fail");
}

const podSpec = (o: JsonObject) => o.spec as JsonObject;
const templateSpec = (o: JsonObject) => (podSpec(o).template as JsonObject).spec as JsonObject;
const containers = (spec: JsonObject) => spec.containers as JsonObject[];
const names = (list: JsonValue) => (list as JsonObject[]).map((c) => c.name);

describe("what kubectl apply sends (three-way patches)", () => {
  it("changes the image of one of two containers, keeping order", () => {
    const patch = {
      metadata: { annotations: { [LAST_APPLIED]: '{"changed":true}\n' } },
      spec: {
        template: {
          spec: {
            "$setElementOrder/containers": [{ name: "web" }, { name: "sidecar" }],
            containers: [{ image: "nginx:1.27", name: "web" }],
          },
        },
      },
    };
    const out = smp("Deployment", liveDeployment(), patch);
    const expected = liveDeployment();
    (containers(templateSpec(expected))[0] as JsonObject).image = "nginx:1.27";
    ((expected.metadata as JsonObject).annotations as JsonObject)[LAST_APPLIED] = '{"changed":true}\n';
    expect(out).toEqual(expected);
  });

  it("deletes a container with $patch: delete and $setElementOrder", () => {
    const out = smp("Deployment", liveDeployment(), {
      spec: {
        template: {
          spec: {
            "$setElementOrder/containers": [{ name: "web" }],
            containers: [{ $patch: "delete", name: "sidecar" }],
          },
        },
      },
    });
    expect(names(templateSpec(out).containers as JsonValue)).toEqual(["web"]);
    expect(containers(templateSpec(out))[0]).toEqual(containers(templateSpec(liveDeployment()))[0]);
  });

  it("adds a container in the middle as $setElementOrder says", () => {
    const out = smp("Deployment", liveDeployment(), {
      spec: {
        template: {
          spec: {
            "$setElementOrder/containers": [{ name: "web" }, { name: "metrics" }, { name: "sidecar" }],
            containers: [{ image: "prom/exporter:1", name: "metrics" }],
          },
        },
      },
    });
    expect(names(templateSpec(out).containers as JsonValue)).toEqual(["web", "metrics", "sidecar"]);
    expect(containers(templateSpec(out))[1]).toEqual({ image: "prom/exporter:1", name: "metrics" });
  });

  it("reorders containers with $setElementOrder alone", () => {
    const out = smp("Deployment", liveDeployment(), {
      spec: { template: { spec: { "$setElementOrder/containers": [{ name: "sidecar" }, { name: "web" }] } } },
    });
    expect(names(templateSpec(out).containers as JsonValue)).toEqual(["sidecar", "web"]);
  });

  it("changes one env var and adds another ($setElementOrder/env)", () => {
    const out = smp("Deployment", liveDeployment(), {
      spec: {
        template: {
          spec: {
            "$setElementOrder/containers": [{ name: "web" }, { name: "sidecar" }],
            containers: [
              {
                "$setElementOrder/env": [{ name: "A" }, { name: "C" }, { name: "B" }],
                env: [
                  { name: "C", value: "3" },
                  { name: "B", value: "two" },
                ],
                name: "web",
              },
            ],
          },
        },
      },
    });
    expect((containers(templateSpec(out))[0] as JsonObject).env).toEqual([
      { name: "A", value: "1" },
      { name: "C", value: "3" },
      { name: "B", value: "two" },
    ]);
  });

  it("removes an env var ($patch: delete) and a field of another (null)", () => {
    const out = smp("Deployment", liveDeployment(), {
      spec: {
        template: {
          spec: {
            "$setElementOrder/containers": [{ name: "web" }, { name: "sidecar" }],
            containers: [
              {
                "$setElementOrder/env": [{ name: "B" }],
                env: [
                  { name: "B", value: null, valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
                  { $patch: "delete", name: "A" },
                ],
                name: "web",
              },
            ],
          },
        },
      },
    });
    expect((containers(templateSpec(out))[0] as JsonObject).env).toEqual([
      { name: "B", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
    ]);
  });

  it("adds an init container (initContainers merge by name too)", () => {
    const live = livePod();
    podSpec(live).initContainers = [{ name: "migrate", image: "app:1" }];
    const out = smp("Pod", live, {
      spec: {
        "$setElementOrder/initContainers": [{ name: "migrate" }, { name: "warm" }],
        initContainers: [
          { image: "app:2", name: "migrate" },
          { image: "cache:1", name: "warm" },
        ],
      },
    });
    expect(podSpec(out).initContainers).toEqual([
      { name: "migrate", image: "app:2" },
      { name: "warm", image: "cache:1" },
    ]);
  });

  it("removes a label via null and adds another", () => {
    const out = smp("Pod", livePod(), { metadata: { labels: { tier: null, track: "stable" } } });
    expect((out.metadata as JsonObject).labels).toEqual({ app: "web", track: "stable" });
  });

  it("replaces atomic lists (args, tolerations) instead of merging them", () => {
    const out = smp("Pod", livePod(), {
      spec: {
        "$setElementOrder/containers": [{ name: "web" }, { name: "sidecar" }],
        containers: [{ args: ["sleep", "60"], name: "sidecar" }],
        tolerations: [{ key: "dedicated", operator: "Equal", value: "web", effect: "NoSchedule" }],
      },
    });
    expect((containers(podSpec(out))[1] as JsonObject).args).toEqual(["sleep", "60"]);
    expect(podSpec(out).tolerations).toEqual([
      { key: "dedicated", operator: "Equal", value: "web", effect: "NoSchedule" },
    ]);
  });

  it("switches a volume source with $retainKeys (volumes are merge,retainKeys)", () => {
    const out = smp("Pod", livePod(), {
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
    });
    expect(podSpec(out).volumes).toEqual([{ name: "data", configMap: { name: "settings" } }]);
  });

  it("switches a Deployment to Recreate with $retainKeys on strategy", () => {
    const out = smp("Deployment", liveDeployment(), {
      spec: { strategy: { $retainKeys: ["type"], rollingUpdate: null, type: "Recreate" } },
    });
    expect(podSpec(out).strategy).toEqual({ type: "Recreate" });
  });

  it("updates finalizers: $deleteFromPrimitiveList, additions and $setElementOrder", () => {
    const out = smp("Pod", livePod(), {
      metadata: {
        "$deleteFromPrimitiveList/finalizers": ["example.com/a"],
        "$setElementOrder/finalizers": ["example.com/c", "example.com/b"],
        finalizers: ["example.com/c"],
      },
    });
    expect((out.metadata as JsonObject).finalizers).toEqual(["example.com/c", "example.com/b"]);
  });

  it("applies a deletion list after additions to the same list, whatever the key order", () => {
    const deleteFirst = {
      "$deleteFromPrimitiveList/finalizers": ["example.com/a"],
      finalizers: ["example.com/c"],
    };
    const addFirst = {
      finalizers: ["example.com/c"],
      "$deleteFromPrimitiveList/finalizers": ["example.com/a"],
    };
    for (const metadata of [deleteFirst, addFirst]) {
      expect((smp("Pod", livePod(), { metadata }).metadata as JsonObject).finalizers).toEqual([
        "example.com/c",
        "example.com/b",
      ]);
    }
  });

  it("merges container ports by containerPort and removes one", () => {
    const out = smp("Pod", livePod(), {
      spec: {
        "$setElementOrder/containers": [{ name: "web" }, { name: "sidecar" }],
        containers: [
          {
            "$setElementOrder/ports": [{ containerPort: 80 }, { containerPort: 8080 }],
            name: "web",
            ports: [
              { containerPort: 8080, name: "metrics" },
              { $patch: "delete", containerPort: 443 },
            ],
          },
        ],
      },
    });
    expect((containers(podSpec(out))[0] as JsonObject).ports).toEqual([
      { containerPort: 80, protocol: "TCP", name: "http" },
      { containerPort: 8080, name: "metrics" },
    ]);
  });

  it("merges Service ports by port", () => {
    const out = smp("Service", liveService(), {
      spec: {
        "$setElementOrder/ports": [{ port: 80 }, { port: 53 }],
        ports: [{ port: 80, targetPort: 9090 }],
      },
    });
    expect((out.spec as JsonObject).ports).toEqual([
      { name: "http", protocol: "TCP", port: 80, targetPort: 9090, nodePort: 30080 },
      { name: "dns", protocol: "UDP", port: 53, targetPort: 53, nodePort: 30053 },
    ]);
  });

  it("updates a ConfigMap key and removes another", () => {
    const out = smp("ConfigMap", liveConfigMap(), { data: { mode: null, "new.key": "v" } });
    expect(out.data).toEqual({ "app.properties": "color=blue\n", "new.key": "v" });
  });
});

describe("what kubectl label / annotate / patch send", () => {
  const cases: [string, FixtureKind, () => JsonObject, JsonValue, (o: JsonObject) => void][] = [
    [
      "kubectl label --overwrite",
      "Pod",
      livePod,
      { metadata: { labels: { app: "api" } } },
      (o) => {
        ((o.metadata as JsonObject).labels as JsonObject).app = "api";
      },
    ],
    [
      "kubectl annotate key-",
      "Pod",
      livePod,
      { metadata: { annotations: { "example.com/owner": null } } },
      (o) => {
        (o.metadata as JsonObject).annotations = {};
      },
    ],
    [
      "a new owner reference merges by uid",
      "Pod",
      livePod,
      {
        metadata: { ownerReferences: [{ apiVersion: "v1", kind: "Node", name: "node-1", uid: "node-uid" }] },
      },
      (o) => {
        ((o.metadata as JsonObject).ownerReferences as JsonValue[]).unshift({
          apiVersion: "v1",
          kind: "Node",
          name: "node-1",
          uid: "node-uid",
        });
      },
    ],
    [
      "a condition merges by type (status patch)",
      "Pod",
      livePod,
      { status: { conditions: [{ type: "Ready", status: "False", reason: "ContainersNotReady" }] } },
      (o) => {
        ((o.status as JsonObject).conditions as JsonObject[])[1] = {
          type: "Ready",
          status: "False",
          reason: "ContainersNotReady",
        };
      },
    ],
    [
      "imagePullSecrets merge by name (a new one goes first, as upstream)",
      "Pod",
      livePod,
      { spec: { imagePullSecrets: [{ name: "other" }] } },
      (o) => {
        podSpec(o).imagePullSecrets = [{ name: "other" }, { name: "regcred" }];
      },
    ],
    [
      "finalizers merge as a set (no duplicates)",
      "Pod",
      livePod,
      { metadata: { finalizers: ["example.com/b", "example.com/z"] } },
      (o) => {
        (o.metadata as JsonObject).finalizers = ["example.com/a", "example.com/b", "example.com/z"];
      },
    ],
    [
      "$patch: replace on a list replaces it",
      "Pod",
      livePod,
      { spec: { containers: [{ name: "solo", image: "x" }, { $patch: "replace" }] } },
      (o) => {
        podSpec(o).containers = [{ name: "solo", image: "x" }];
      },
    ],
    [
      "$patch: replace on an object replaces it",
      "Pod",
      livePod,
      { metadata: { labels: { $patch: "replace", only: "this" } } },
      (o) => {
        (o.metadata as JsonObject).labels = { only: "this" };
      },
    ],
    [
      "$patch: delete on an object empties it (as upstream)",
      "Pod",
      livePod,
      { metadata: { labels: { $patch: "delete" } } },
      (o) => {
        (o.metadata as JsonObject).labels = {};
      },
    ],
    ["a null for a missing field changes nothing", "Pod", livePod, { spec: { hostNetwork: null } }, () => {}],
    [
      "$deleteFromPrimitiveList for an absent list changes nothing",
      "Pod",
      livePod,
      { spec: { "$deleteFromPrimitiveList/unknownList": ["x"] } },
      () => {},
    ],
    [
      "a value of another type replaces",
      "Pod",
      livePod,
      { spec: { containers: { name: "x" } } },
      (o) => {
        podSpec(o).containers = { name: "x" };
      },
    ],
    [
      "an unknown field is merged generically",
      "Pod",
      livePod,
      { spec: { future: { a: 1 } } },
      (o) => {
        podSpec(o).future = { a: 1 };
      },
    ],
  ];
  it.each(cases)("%s", (_name, kind, make, patch, edit) => {
    const live = make();
    const expected = make();
    edit(expected);
    expect(smp(kind, live, patch)).toEqual(expected);
    expect(live).toEqual(make());
  });

  it("new elements are cleaned of directives and nulls", () => {
    const out = smp("Pod", livePod(), {
      spec: {
        containers: [
          {
            name: "debug",
            image: "busybox",
            env: [{ name: "X", value: null }],
            ports: [{ $patch: "delete", containerPort: 1 }],
          },
        ],
      },
    });
    expect(containers(podSpec(out))[0]).toEqual({
      name: "debug",
      image: "busybox",
      env: [{ name: "X" }],
      ports: [],
    });
  });

  it("without a schema, lists are replaced and objects merged", () => {
    const out = applyStrategicMergePatch(
      livePod(),
      { spec: { containers: [{ name: "x" }] }, metadata: { labels: { a: "b" } } },
      NO_SCHEMA,
    );
    expect(podSpec(out).containers).toEqual([{ name: "x" }]);
    expect(((out.metadata as JsonObject).labels as JsonObject).a).toBe("b");
  });
});

describe("errors (upstream's messages)", () => {
  const cases: [string, JsonValue, number, string][] = [
    [
      "missing merge key",
      { spec: { containers: [{ image: "c" }] } },
      422,
      "map: map[image:c] does not contain declared merge key: name",
    ],
    [
      "unknown object directive",
      { metadata: { labels: { $patch: "merge" } } },
      422,
      "unknown patch type: merge in map: map[$patch:merge]",
    ],
    [
      "merge directive in a list",
      { spec: { containers: [{ name: "web", $patch: "merge" }] } },
      422,
      "merging lists cannot yet be specified in the patch",
    ],
    [
      "unknown list directive",
      { spec: { containers: [{ name: "web", $patch: "bogus" }] } },
      422,
      "unknown patch type: bogus in map: map[$patch:bogus name:web]",
    ],
    [
      "$setElementOrder disagreeing with the patch list",
      { spec: { "$setElementOrder/containers": [{ name: "web" }], containers: [{ name: "q", image: "c" }] } },
      422,
      "The order in patch list:\n[map[image:c name:q]]\n doesn't match $setElementOrder list:\n[map[name:web]]\n",
    ],
    ["$retainKeys not a list", { spec: { $retainKeys: "x" } }, 400, "invalid patch format of retainKeys"],
    [
      "$retainKeys missing a patched key",
      { spec: { $retainKeys: ["containers"], nodeName: "n" } },
      400,
      "invalid patch format of retainKeys",
    ],
    [
      "malformed $deleteFromPrimitiveList",
      { metadata: { $deleteFromPrimitiveList: ["x"] } },
      400,
      "invalid patch format of primitive list",
    ],
    [
      "mixed element types",
      { metadata: { finalizers: [["x"]] } },
      422,
      "list element types are not identical: [[example.com/a example.com/b] [[x]]]",
    ],
  ];
  it.each(cases)("%s", (_name, patch, code, message) => {
    const error = smpError("Pod", livePod(), patch);
    expect(error.code).toBe(code);
    expect(error.message).toBe(message);
  });

  it("lists of lists", () => {
    const live = livePod();
    (live.metadata as JsonObject).finalizers = [];
    const error = smpError("Pod", live, { metadata: { finalizers: [["x"]] } });
    expect([error.code, error.message]).toEqual([422, "lists of lists are not supported"]);
  });

  it("decoding: not an object is a 400 as upstream", () => {
    expect(() => decodeStrategicMergePatch("[1]")).toThrow(
      "json: cannot unmarshal array into Go value of type map[string]interface {}",
    );
    expect(() => decodeStrategicMergePatch("{")).toThrow(PatchError);
    expect(decodeStrategicMergePatch("null")).toEqual({});
  });
});
