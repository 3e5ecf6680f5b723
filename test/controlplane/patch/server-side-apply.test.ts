import { describe, expect, it } from "vitest";
import { PatchError } from "../../../src/controlplane/apiserver/patch/errors.ts";
import type { JsonObject, JsonValue } from "../../../src/controlplane/apiserver/patch/json-value.ts";
import {
  LAST_APPLIED_ANNOTATION,
  recordUpdate,
} from "../../../src/controlplane/apiserver/patch/managed-fields.ts";
import {
  type ApplyOptions,
  decodeApplyPatch,
  serverSideApply,
} from "../../../src/controlplane/apiserver/patch/server-side-apply.ts";
import { deploymentConfig, GVKS, LATER, livePod, liveService, NOW, schemaFor } from "./fixtures.ts";

const deployment = (overrides: Partial<ApplyOptions> = {}): ApplyOptions => ({
  schema: schemaFor("Deployment"),
  gvk: GVKS.Deployment,
  manager: "kubectl",
  force: false,
  now: NOW,
  ...overrides,
});

const meta = (o: JsonObject) => o.metadata as JsonObject;
const managed = (o: JsonObject) => meta(o).managedFields as JsonObject[];
const entry = (o: JsonObject, manager: string) => managed(o).find((m) => m.manager === manager);
const spec = (o: JsonObject) => o.spec as JsonObject;
const podSpecOf = (o: JsonObject) => (spec(o).template as JsonObject).spec as JsonObject;
const containers = (o: JsonObject) => podSpecOf(o).containers as JsonObject[];

function mutate(config: JsonObject, edit: (c: JsonObject) => void): JsonObject {
  const copy = structuredClone(config);
  edit(copy);
  return copy;
}

function applyError(live: JsonObject | undefined, config: JsonObject, options: ApplyOptions): PatchError {
  try {
    serverSideApply(live, config, options);
  } catch (error) {
    if (error instanceof PatchError) return error;
    throw error;
  }
  throw new Error("expected the apply to fail");
}

describe("apply to nothing (create)", () => {
  it("returns the configuration with one Apply entry owning exactly what was applied", () => {
    const created = serverSideApply(undefined, deploymentConfig(), deployment());
    const { managedFields, ...rest } = meta(created);
    expect({ ...created, metadata: rest }).toEqual(deploymentConfig());
    expect(managedFields).toEqual([
      {
        manager: "kubectl",
        operation: "Apply",
        apiVersion: "apps/v1",
        time: "2025-06-01T12:00:00Z",
        fieldsType: "FieldsV1",
        fieldsV1: {
          "f:metadata": { "f:labels": { "f:app": {} } },
          "f:spec": {
            "f:replicas": {},
            "f:selector": {},
            "f:template": {
              "f:metadata": { "f:labels": { "f:app": {} } },
              "f:spec": {
                "f:containers": {
                  'k:{"name":"sidecar"}': { "f:args": {}, "f:image": {}, "f:name": {}, ".": {} },
                  'k:{"name":"web"}': {
                    "f:env": {
                      'k:{"name":"A"}': { "f:name": {}, "f:value": {}, ".": {} },
                      'k:{"name":"B"}': { "f:name": {}, "f:value": {}, ".": {} },
                    },
                    "f:image": {},
                    "f:name": {},
                    "f:ports": {
                      'k:{"containerPort":80,"protocol":"TCP"}': { "f:containerPort": {}, ".": {} },
                    },
                    ".": {},
                  },
                },
              },
            },
          },
        },
      },
    ]);
  });

  it("drops nulls from the configuration and does not own them", () => {
    const config = mutate(deploymentConfig(), (c) => {
      (meta(c).labels as JsonObject).gone = null;
    });
    const created = serverSideApply(undefined, config, deployment());
    expect(meta(created).labels).toEqual({ app: "web" });
  });
});

describe("apply to an existing object", () => {
  const created = () => serverSideApply(undefined, deploymentConfig(), deployment());

  it("re-applying the same configuration changes nothing, not even the timestamp", () => {
    const live = created();
    expect(serverSideApply(live, deploymentConfig(), deployment({ now: LATER }))).toEqual(live);
  });

  it("a changed field is updated and the timestamp moves", () => {
    const live = created();
    const next = serverSideApply(
      live,
      mutate(deploymentConfig(), (c) => {
        spec(c).replicas = 3;
      }),
      deployment({ now: LATER }),
    );
    expect(spec(next).replicas).toBe(3);
    expect(entry(next, "kubectl")?.time).toBe("2025-06-01T12:05:00Z");
  });

  it("fields dropped from the configuration are removed when nobody else owns them", () => {
    const live = created();
    const config = mutate(deploymentConfig(), (c) => {
      delete meta(c).labels;
      const list = ((spec(c).template as JsonObject).spec as JsonObject).containers as JsonObject[];
      list.pop();
      delete (list[0] as JsonObject).env;
    });
    const next = serverSideApply(live, config, deployment({ now: LATER }));
    expect(meta(next).labels).toBeUndefined();
    expect(containers(next).map((c) => c.name)).toEqual(["web"]);
    expect(containers(next)[0]).toEqual({ name: "web", image: "nginx:1.25", ports: [{ containerPort: 80 }] });
    const fields = JSON.stringify(entry(next, "kubectl")?.fieldsV1);
    expect(fields).not.toContain("sidecar");
    expect(fields).not.toContain("f:env");
  });

  it("fields another manager set are kept when the applier stops applying its own", () => {
    const live = created();
    const labelled = recordUpdate(
      live,
      mutate(live, (o) => {
        (meta(o).labels as JsonObject).team = "a";
      }),
      { schema: schemaFor("Deployment"), manager: "kubectl-label", apiVersion: "apps/v1", now: LATER },
    );
    const next = serverSideApply(
      labelled,
      mutate(deploymentConfig(), (c) => void delete meta(c).labels),
      deployment({ now: LATER }),
    );
    expect(meta(next).labels).toEqual({ team: "a" });
  });

  it("never modifies its inputs", () => {
    const live = recordUpdate(
      created(),
      mutate(created(), (o) => {
        (meta(o).labels as JsonObject).team = "a";
        meta(o).annotations = { [LAST_APPLIED_ANNOTATION]: "{}" };
      }),
      { schema: schemaFor("Deployment"), manager: "kubectl-label", apiVersion: "apps/v1", now: LATER },
    );
    const liveCopy = structuredClone(live);
    const config = mutate(deploymentConfig(), (c) => {
      delete meta(c).labels;
      (((spec(c).template as JsonObject).spec as JsonObject).containers as JsonObject[]).pop();
    });
    const configCopy = structuredClone(config);
    const next = serverSideApply(live, config, deployment({ now: LATER }));
    expect(meta(next).labels).toEqual({ team: "a" });
    expect(live).toEqual(liveCopy);
    expect(config).toEqual(configCopy);
  });

  it("a field co-owned by another applier survives when one applier drops it", () => {
    const live = created();
    const other = serverSideApply(live, deploymentConfig(), deployment({ manager: "ci" }));
    const next = serverSideApply(
      other,
      mutate(deploymentConfig(), (c) => void delete spec(c).replicas),
      deployment({ now: LATER }),
    );
    expect(spec(next).replicas).toBe(2);
    expect(JSON.stringify(entry(next, "kubectl")?.fieldsV1)).not.toContain("f:replicas");
    expect(JSON.stringify(entry(next, "ci")?.fieldsV1)).toContain("f:replicas");
  });

  it("merges lists by their keys: the applied order wins, live-only elements stay where upstream puts them", () => {
    const live = created();
    const withExtra = recordUpdate(
      live,
      mutate(live, (o) => {
        const web = containers(o)[0] as JsonObject;
        (web.env as JsonValue[]).push({ name: "INJECTED", value: "x" });
        (meta(o).labels as JsonObject).injected = "yes";
      }),
      { schema: schemaFor("Deployment"), manager: "webhook", apiVersion: "apps/v1", now: NOW },
    );
    const config = mutate(deploymentConfig(), (c) => {
      const list = ((spec(c).template as JsonObject).spec as JsonObject).containers as JsonObject[];
      list.reverse();
      (list[1] as JsonObject).env = [
        { name: "B", value: "two" },
        { name: "A", value: "1" },
      ];
    });
    const next = serverSideApply(withExtra, config, deployment({ now: LATER }));
    expect(containers(next).map((c) => c.name)).toEqual(["sidecar", "web"]);
    // structured-merge-diff's merge walks both lists: B (shared, first in the applied order), then the
    // live-only INJECTED it passes on the way, then A.
    expect((containers(next)[1] as JsonObject).env).toEqual([
      { name: "B", value: "two" },
      { name: "INJECTED", value: "x" },
      { name: "A", value: "1" },
    ]);
    expect(meta(next).labels).toEqual({ app: "web", injected: "yes" });
  });

  it("atomic values (selector, args) are replaced, not merged", () => {
    const live = created();
    const next = serverSideApply(
      live,
      mutate(deploymentConfig(), (c) => {
        spec(c).selector = { matchLabels: { tier: "x" } };
        const list = ((spec(c).template as JsonObject).spec as JsonObject).containers as JsonObject[];
        (list[1] as JsonObject).args = ["sleep"];
      }),
      deployment({ now: LATER }),
    );
    expect(spec(next).selector).toEqual({ matchLabels: { tier: "x" } });
    expect((containers(next)[1] as JsonObject).args).toEqual(["sleep"]);
  });
});

describe("conflicts", () => {
  const created = () => serverSideApply(undefined, deploymentConfig(), deployment());

  it("another applier changing an owned field gets upstream's 409", () => {
    const error = applyError(
      created(),
      mutate(deploymentConfig(), (c) => {
        spec(c).replicas = 5;
      }),
      deployment({ manager: "ci" }),
    );
    expect(error.code).toBe(409);
    expect(error.reason).toBe("Conflict");
    expect(error.message).toBe('Apply failed with 1 conflict: conflict with "kubectl": .spec.replicas');
    expect(error.details?.causes).toEqual([
      { reason: "FieldManagerConflict", message: 'conflict with "kubectl"', field: ".spec.replicas" },
    ]);
  });

  it("several conflicts are listed per manager", () => {
    const live = recordUpdate(
      created(),
      mutate(created(), (o) => {
        (containers(o)[0] as JsonObject).image = "nginx:edited";
      }),
      { schema: schemaFor("Deployment"), manager: "kubectl-edit", apiVersion: "apps/v1", now: NOW },
    );
    const config = mutate(deploymentConfig(), (c) => {
      spec(c).replicas = 9;
      (
        (((spec(c).template as JsonObject).spec as JsonObject).containers as JsonObject[])[0] as JsonObject
      ).image = "nginx:9";
    });
    const error = applyError(live, config, deployment({ manager: "ci" }));
    expect(error.message).toBe(
      'Apply failed with 2 conflicts: conflicts with "kubectl":\n- .spec.replicas\nconflicts with "kubectl-edit" using apps/v1:\n- .spec.template.spec.containers[name="web"].image',
    );
  });

  it("force takes the fields over", () => {
    const next = serverSideApply(
      created(),
      mutate(deploymentConfig(), (c) => {
        spec(c).replicas = 5;
      }),
      deployment({ manager: "ci", force: true, now: LATER }),
    );
    expect(spec(next).replicas).toBe(5);
    expect(JSON.stringify(entry(next, "kubectl")?.fieldsV1)).not.toContain("f:replicas");
    expect(JSON.stringify(entry(next, "ci")?.fieldsV1)).toContain("f:replicas");
    expect(managed(next).map((m) => m.manager)).toEqual(["kubectl", "ci"]);
  });

  it("applying the same value another manager owns is not a conflict (shared ownership)", () => {
    const next = serverSideApply(created(), deploymentConfig(), deployment({ manager: "ci", now: LATER }));
    expect(
      managed(next)
        .map((m) => m.manager)
        .sort(),
    ).toEqual(["ci", "kubectl"]);
  });
});

describe("kubectl apply --server-side after client-side apply", () => {
  const clientSideCreated = () => {
    const config = deploymentConfig();
    const sent = mutate(config, (c) => {
      meta(c).annotations = { [LAST_APPLIED_ANNOTATION]: `${JSON.stringify(config)}\n` };
    });
    return recordUpdate(undefined, sent, {
      schema: schemaFor("Deployment"),
      manager: "kubectl-client-side-apply",
      apiVersion: "apps/v1",
      now: NOW,
    });
  };

  it("the same manifest applies cleanly and both managers co-own it", () => {
    const next = serverSideApply(clientSideCreated(), deploymentConfig(), deployment({ now: LATER }));
    expect(managed(next).map((m) => [m.manager, m.operation])).toEqual([
      ["kubectl", "Apply"],
      ["kubectl-client-side-apply", "Update"],
    ]);
  });

  it("manager kubectl may change fields recorded in last-applied, and the annotation follows", () => {
    const config = mutate(deploymentConfig(), (c) => {
      spec(c).replicas = 4;
    });
    const next = serverSideApply(clientSideCreated(), config, deployment({ now: LATER }));
    expect(spec(next).replicas).toBe(4);
    expect(JSON.parse((meta(next).annotations as JsonObject)[LAST_APPLIED_ANNOTATION] as string)).toEqual(
      config,
    );
    expect(JSON.stringify(entry(next, "kubectl-client-side-apply")?.fieldsV1)).not.toContain("f:replicas");
  });

  it("another manager still conflicts", () => {
    const config = mutate(deploymentConfig(), (c) => {
      spec(c).replicas = 4;
    });
    const error = applyError(clientSideCreated(), config, deployment({ manager: "ci" }));
    expect(error.message).toBe(
      'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas',
    );
  });

  it("kubectl conflicts on fields that drifted from last-applied", () => {
    const live = clientSideCreated();
    const scaled = recordUpdate(
      live,
      mutate(live, (o) => {
        spec(o).replicas = 7;
      }),
      {
        schema: schemaFor("Deployment"),
        manager: "kubectl-scale",
        apiVersion: "apps/v1",
        subresource: "scale",
        now: NOW,
      },
    );
    const error = applyError(
      scaled,
      mutate(deploymentConfig(), (c) => {
        spec(c).replicas = 4;
      }),
      deployment(),
    );
    expect(error.message).toBe(
      'Apply failed with 1 conflict: conflict with "kubectl-scale" with subresource "scale" using apps/v1: .spec.replicas',
    );
  });
});

describe("objects without managedFields", () => {
  it("are attributed to before-first-apply first", () => {
    const live = livePod();
    const config = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "web", labels: { app: "other" } },
    };
    const options = {
      schema: schemaFor("Pod"),
      gvk: GVKS.Pod,
      manager: "ci",
      force: false,
      now: LATER,
      resetFields: [["status"]],
    };
    const error = applyError(live, config, options);
    expect(error.message).toBe(
      'Apply failed with 1 conflict: conflict with "before-first-apply" using v1: .metadata.labels.app',
    );
    const forced = serverSideApply(live, config, { ...options, force: true });
    expect(managed(forced).map((m) => m.manager)).toEqual(["ci", "before-first-apply"]);
    expect(JSON.stringify(entry(forced, "before-first-apply")?.fieldsV1)).not.toContain("f:status");
  });
});

describe("the status subresource", () => {
  it("a status applier owns its conditions (merged by type) and nothing in spec", () => {
    const live = recordUpdate(undefined, livePod(), {
      schema: schemaFor("Pod"),
      manager: "creator",
      apiVersion: "v1",
      now: NOW,
      resetFields: [["status"]],
    });
    const next = serverSideApply(
      live,
      {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "web" },
        spec: { nodeName: "ignored" },
        status: { conditions: [{ type: "Ready", status: "False", reason: "ContainersNotReady" }] },
      },
      {
        schema: schemaFor("Pod"),
        gvk: GVKS.Pod,
        manager: "deckhand-agent",
        force: false,
        now: LATER,
        subresource: "status",
        resetFields: [["spec"], ["metadata"]],
      },
    );
    expect((next.status as JsonObject).conditions).toEqual([
      { type: "Initialized", status: "True" },
      { type: "Ready", status: "False", reason: "ContainersNotReady" },
    ]);
    const agent = managed(next).find((m) => m.manager === "deckhand-agent");
    expect(agent).toMatchObject({ operation: "Apply", subresource: "status", time: "2025-06-01T12:05:00Z" });
    expect(agent?.fieldsV1).toEqual({
      "f:status": {
        "f:conditions": {
          'k:{"type":"Ready"}': { ".": {}, "f:reason": {}, "f:status": {}, "f:type": {} },
        },
      },
    });
  });
});

describe("lists keyed by several fields and sets", () => {
  it("service ports are keyed by port+protocol, the protocol defaulted from the schema", () => {
    const options = {
      schema: schemaFor("Service"),
      gvk: GVKS.Service,
      manager: "ci",
      force: false,
      now: NOW,
    };
    const config: JsonObject = {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "web" },
      spec: {
        ports: [
          { port: 53, protocol: "UDP", targetPort: 5353 },
          { port: 80, targetPort: 8081 },
        ],
      },
    };
    const live = recordUpdate(undefined, liveService(), {
      schema: schemaFor("Service"),
      manager: "creator",
      apiVersion: "v1",
      now: NOW,
    });
    const next = serverSideApply(live, config, { ...options, force: true });
    expect((next.spec as JsonObject).ports).toEqual([
      { name: "dns", protocol: "UDP", port: 53, targetPort: 5353, nodePort: 30053 },
      { name: "http", protocol: "TCP", port: 80, targetPort: 8081, nodePort: 30080 },
    ]);
    expect(JSON.stringify(entry(next, "ci")?.fieldsV1)).toContain(
      'k:{\\"port\\":80,\\"protocol\\":\\"TCP\\"}',
    );
  });

  it("finalizers are a set: applied values join the live ones", () => {
    const live = recordUpdate(undefined, livePod(), {
      schema: schemaFor("Pod"),
      manager: "creator",
      apiVersion: "v1",
      now: NOW,
    });
    const next = serverSideApply(
      live,
      {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "web", finalizers: ["example.com/z", "example.com/a"] },
      },
      { schema: schemaFor("Pod"), gvk: GVKS.Pod, manager: "ci", force: false, now: NOW },
    );
    expect(meta(next).finalizers).toEqual(["example.com/z", "example.com/a", "example.com/b"]);
    expect(entry(next, "ci")?.fieldsV1).toEqual({
      "f:metadata": { "f:finalizers": { 'v:"example.com/a"': {}, 'v:"example.com/z"': {} } },
    });
  });
});

describe("bad configurations", () => {
  const cases: [string, JsonObject, number, string][] = [
    [
      "another kind",
      { apiVersion: "apps/v1", kind: "ReplicaSet", metadata: { name: "web" } },
      400,
      "invalid object type: apps/v1, Kind=ReplicaSet",
    ],
    [
      "another version",
      { apiVersion: "apps/v1beta1", kind: "Deployment", metadata: { name: "web" } },
      400,
      "invalid object type: apps/v1beta1, Kind=Deployment",
    ],
    ["no apiVersion", { kind: "Deployment" }, 400, "invalid object type: /, Kind=Deployment"],
    [
      "managedFields",
      { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", managedFields: [] } },
      400,
      "metadata.managedFields must be nil",
    ],
    [
      "duplicate list keys",
      mutate(deploymentConfig(), (c) => {
        const list = ((spec(c).template as JsonObject).spec as JsonObject).containers as JsonObject[];
        (list[1] as JsonObject).name = "web";
      }),
      422,
      '.spec.template.spec.containers: duplicate entries for key [name="web"]',
    ],
    [
      "a list element without its key",
      mutate(deploymentConfig(), (c) => {
        const list = ((spec(c).template as JsonObject).spec as JsonObject).containers as JsonObject[];
        delete (list[1] as JsonObject).name;
      }),
      422,
      '.spec.template.spec.containers: element 1: associative list with keys has an element that omits key field "name" (and doesn\'t have default value)',
    ],
  ];
  it.each(cases)("%s", (_name, config, code, message) => {
    const error = applyError(undefined, config, deployment());
    expect([error.code, error.message]).toEqual([code, message]);
  });

  it("decodes YAML and JSON bodies; rejects what is not an object", () => {
    expect(decodeApplyPatch("apiVersion: v1\nkind: ConfigMap\ndata:\n  a: '1'\n")).toEqual({
      apiVersion: "v1",
      kind: "ConfigMap",
      data: { a: "1" },
    });
    expect(decodeApplyPatch('{"apiVersion":"v1"}')).toEqual({ apiVersion: "v1" });
    expect(decodeApplyPatch("")).toEqual({});
    expect(() => decodeApplyPatch("- a\n- b\n")).toThrow(
      "error decoding YAML: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal array into Go value of type map[string]interface {}",
    );
    expect(() => decodeApplyPatch("a: 1\na: 2\n")).toThrow(/^error decoding YAML: /);
    expect(() => decodeApplyPatch("---\na: 1\n---\nb: 2\n")).toThrow(/^error decoding YAML: /);
  });
});
