import { describe, expect, it } from "vitest";
import { prepareForCreate, prepareForUpdate } from "../../src/api/schema/index.ts";
import { created, def, meta, podSpec, template } from "./helpers.ts";

describe("prepareForCreate / prepareForUpdate", () => {
  it("answers 400 for undecodable bodies and strict unknown fields, warns under Warn, ignores under Ignore", () => {
    const pods = def("", "pods");
    const body = { metadata: meta("x"), spec: { ...podSpec(), foo: 1 } };
    expect(prepareForCreate(pods, body, { fieldValidation: "Strict" }).badRequest).toBe(
      'Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec.foo"',
    );
    const warned = prepareForCreate(pods, body, { fieldValidation: "Warn" });
    expect(warned.badRequest).toBeUndefined();
    expect(warned.warnings).toEqual(['unknown field "spec.foo"']);
    expect((warned.obj.spec as Record<string, unknown>).foo).toBeUndefined();
    expect(prepareForCreate(pods, body, { fieldValidation: "Ignore" }).warnings).toEqual([]);
    expect(prepareForCreate(pods, { metadata: meta("x"), spec: { containers: "no" } }).badRequest).toBe(
      'Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal string into Go struct field PodSpec.spec.containers of type []v1.Container',
    );
    expect(prepareForCreate(pods, [1, 2]).badRequest).toContain(
      "cannot unmarshal array into Go value of type v1.Pod",
    );
  });

  it("sets apiVersion and kind", () => {
    const d = created("apps", "deployments", {
      metadata: meta("d"),
      spec: { selector: { matchLabels: { a: "b" } }, template: template({ a: "b" }) },
    });
    expect(d.apiVersion).toBe("apps/v1");
    expect(d.kind).toBe("Deployment");
  });

  it("keeps status on main-resource updates and everything else on status updates", () => {
    const pods = def("", "pods");
    const pod = created("", "pods", { metadata: { ...meta("p"), labels: { a: "1" } }, spec: podSpec() });
    pod.status = { phase: "Running", podIP: "10.0.0.5" };
    const viaMain = structuredClone(pod);
    viaMain.status = { phase: "Failed" };
    viaMain.metadata.labels = { a: "2" };
    const main = prepareForUpdate(pods, viaMain, pod);
    expect(main.errors).toEqual([]);
    expect(main.obj.status).toEqual({ phase: "Running", podIP: "10.0.0.5" });
    expect(main.obj.metadata?.labels).toEqual({ a: "2" });

    const viaStatus = structuredClone(pod);
    viaStatus.status = { phase: "Succeeded" };
    viaStatus.metadata.labels = { a: "3" };
    viaStatus.spec.containers[0].image = "other";
    const status = prepareForUpdate(pods, viaStatus, pod, { subresource: "status" });
    expect(status.errors).toEqual([]);
    expect(status.obj.status).toEqual({ phase: "Succeeded" });
    expect(status.obj.metadata?.labels).toEqual({ a: "1" });
    expect((status.obj.spec as { containers: { image: string }[] }).containers[0]?.image).toBe(
      "busybox:1.35",
    );
  });

  it("bumps generation only when the spec changes", () => {
    const deployments = def("apps", "deployments");
    const d = created("apps", "deployments", {
      metadata: meta("d"),
      spec: { selector: { matchLabels: { a: "b" } }, template: template({ a: "b" }) },
    });
    expect(d.metadata.generation).toBe(1);
    const labelsOnly = structuredClone(d);
    labelsOnly.metadata.labels = { x: "y" };
    expect(prepareForUpdate(deployments, labelsOnly, d).obj.metadata?.generation).toBe(1);
    const scaled = structuredClone(d);
    scaled.spec.replicas = 3;
    expect(prepareForUpdate(deployments, scaled, d).obj.metadata?.generation).toBe(2);
  });
});
