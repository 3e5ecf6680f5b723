// ClusterRole aggregation (table of roles in, aggregated rules out) and the default policy's admin/edit/view
// chain.

import { describe, expect, it } from "vitest";
import type { ClusterRole } from "../../../src/api/schema/rbac/rbac.ts";
import { aggregate } from "../../../src/controlplane/apiserver/authz/aggregation.ts";
import { CLUSTER_ROLES } from "../../../src/controlplane/apiserver/authz/bootstrap-policy.ts";

const role = (
  name: string,
  labels: Record<string, string>,
  resources: string[],
  selector?: string,
): ClusterRole => ({
  metadata: { name, labels },
  rules: resources.map((r) => ({ verbs: ["get"], apiGroups: [""], resources: [r] })),
  ...(selector
    ? { aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [selector]: "true" } }] } }
    : {}),
});

describe("aggregate", () => {
  it("collects matching roles' rules in name order without duplicates, through chains", () => {
    const updates = aggregate([
      role("top", {}, [], "to-top"),
      role("middle", { "to-top": "true" }, ["stale"], "to-middle"),
      role("b-part", { "to-middle": "true" }, ["pods", "secrets"]),
      role("a-part", { "to-middle": "true" }, ["secrets"]),
      role("direct", { "to-top": "true" }, ["nodes"]),
      role("unlabelled", {}, ["everything"]),
    ]);
    const names = (name: string) => updates.get(name)?.map((r) => r.resources?.[0]);
    expect(names("middle")).toEqual(["secrets", "pods"]);
    expect(names("top")).toEqual(["nodes", "secrets", "pods"]);
  });

  it("changes nothing that is already aggregated", () => {
    const parts = [role("part", { x: "true" }, ["pods"])];
    const whole = { ...role("whole", {}, ["pods"], "x") };
    expect(aggregate([...parts, whole]).size).toBe(0);
  });

  it("builds the default admin ⊇ edit ⊇ view", () => {
    const updates = aggregate(CLUSTER_ROLES as ClusterRole[]);
    const has = (name: string, verb: string, resource: string) =>
      (updates.get(name) ?? []).some((r) => r.verbs.includes(verb) && r.resources?.includes(resource));
    expect(has("view", "list", "pods")).toBe(true);
    expect(has("view", "get", "secrets")).toBe(false);
    expect(has("edit", "list", "pods")).toBe(true);
    expect(has("edit", "create", "pods")).toBe(true);
    expect(has("edit", "create", "roles")).toBe(false);
    expect(has("admin", "list", "pods")).toBe(true);
    expect(has("admin", "create", "pods")).toBe(true);
    expect(has("admin", "create", "roles")).toBe(true);
  });
});
