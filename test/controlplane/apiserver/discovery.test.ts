// Discovery documents: resources with verbs, short names, categories and their subresources.

import { describe, expect, it } from "vitest";
import { apiGroupList, apiResourceList } from "../../../src/controlplane/apiserver/discovery.ts";
import { ResourceRegistry } from "../../../src/controlplane/apiserver/resources.ts";
import { stubDefinitions } from "./stub-definitions.ts";

describe("discovery", () => {
  const registry = new ResourceRegistry(stubDefinitions);

  it("lists core resources and their subresources with upstream's kinds and verbs", () => {
    const list = apiResourceList(registry, "", "v1");
    expect(list).toMatchObject({ kind: "APIResourceList", groupVersion: "v1" });
    const byName = Object.fromEntries(list.resources.map((r) => [r.name, r]));
    expect(byName.pods).toMatchObject({
      singularName: "pod",
      namespaced: true,
      kind: "Pod",
      shortNames: ["po"],
      categories: ["all"],
    });
    expect(byName["pods/status"]).toMatchObject({ kind: "Pod", verbs: ["get", "patch", "update"] });
    expect(byName["pods/binding"]).toMatchObject({ kind: "Binding", verbs: ["create"] });
    expect(byName["pods/exec"]).toMatchObject({ kind: "PodExecOptions", verbs: ["create", "get"] });
    expect(byName["pods/log"]).toMatchObject({ kind: "Pod", verbs: ["get"] });
    expect(byName["namespaces/finalize"]).toMatchObject({ kind: "Namespace", verbs: ["update"] });
  });

  it("describes scale as autoscaling/v1 Scale and lists groups with preferred versions", () => {
    const apps = apiResourceList(registry, "apps", "v1");
    expect(apps.resources.find((r) => r.name === "replicasets/scale")).toMatchObject({
      group: "autoscaling",
      version: "v1",
      kind: "Scale",
      verbs: ["get", "patch", "update"],
    });
    expect(apiGroupList(registry).groups).toEqual([
      {
        name: "apps",
        versions: [{ groupVersion: "apps/v1", version: "v1" }],
        preferredVersion: { groupVersion: "apps/v1", version: "v1" },
      },
    ]);
  });
});
