// The root CA publisher against a real control plane: kube-root-ca.crt holds the cluster CA in every
// namespace, new ones included, and comes back when deleted or edited.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startControlPlane, type TestControlPlane } from "../support/controlplane.ts";
import { uniqueName } from "../support/names.ts";
import { waitFor } from "../support/wait.ts";

describe("root-ca-cert-publisher", () => {
  let cp: TestControlPlane;
  const ns = uniqueName("rootca");

  const caOf = async (namespace: string) => {
    const res = await cp.fetch(`/api/v1/namespaces/${namespace}/configmaps/kube-root-ca.crt`);
    if (res.status === 404) return undefined;
    const cm = (await res.json()) as {
      data?: Record<string, string>;
      metadata?: { annotations?: Record<string, string> };
    };
    return cm;
  };
  const published = (namespace: string, what: string) =>
    waitFor(
      async () => {
        const cm = await caOf(namespace);
        return cm?.data?.["ca.crt"] === cp.caPem && Object.keys(cm.data ?? {}).length === 1 ? cm : undefined;
      },
      { what, timeoutMs: 30_000 },
    );

  beforeAll(async () => {
    cp = await startControlPlane({ controllers: ["root-ca-cert-publisher"] });
  }, 120_000);

  afterAll(async () => {
    await cp?.stop();
  });

  it("publishes the cluster CA in every namespace and keeps it as published", async () => {
    for (const existing of ["default", "kube-system", "kube-public"])
      await published(existing, `kube-root-ca.crt in ${existing}`);
    await cp.kubectl(["create", "namespace", ns]);
    const cm = await published(ns, "kube-root-ca.crt in a new namespace");
    expect(cm.metadata?.annotations?.["kubernetes.io/description"]).toContain("CA bundle");

    await cp.kubectl(["delete", "configmap", "kube-root-ca.crt", "-n", ns]);
    await published(ns, "kube-root-ca.crt recreated after its deletion");

    await cp.kubectl([
      "patch",
      "configmap",
      "kube-root-ca.crt",
      "-n",
      ns,
      "-p",
      '{"data":{"ca.crt":"forged","extra":"x"}}',
    ]);
    await published(ns, "kube-root-ca.crt reset after an edit");
  });
});
