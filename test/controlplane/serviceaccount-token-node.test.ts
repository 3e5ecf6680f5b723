// NodeRestriction for service account tokens against a real control plane: a node (client certificate
// CN=system:node:<name>, O=system:nodes) gets a token only bound, by UID, to a pod scheduled on it — as the
// agent asks for the kube-api-access volume — and the Node authorizer refuses accounts no pod of it uses.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueKeyAndCertificate } from "../../src/pki/certificates.ts";
import { startControlPlane, type TestControlPlane } from "../support/controlplane.ts";
import { uniqueName } from "../support/names.ts";
import { waitFor } from "../support/wait.ts";

describe("service account tokens requested by nodes", () => {
  let cp: TestControlPlane;
  const ns = uniqueName("sa-node");
  const nodeA = uniqueName("sa-node-a");
  const nodeB = uniqueName("sa-node-b");
  let certA: { certPem: string; keyPem: string };
  const uids: Record<string, string> = {};

  const createPod = async (name: string, nodeName: string, serviceAccountName?: string) => {
    const res = await cp.fetch(`/api/v1/namespaces/${ns}/pods`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name },
        spec: {
          nodeName,
          ...(serviceAccountName ? { serviceAccountName } : {}),
          containers: [{ name: "c", image: "busybox" }],
        },
      }),
    });
    expect(res.status, await res.clone().text()).toBe(201);
    uids[name] = ((await res.json()) as { metadata: { uid: string } }).metadata.uid;
  };

  const requestToken = async (account: string, boundObjectRef?: Record<string, string>) => {
    const res = await cp.fetchAs(certA, `/api/v1/namespaces/${ns}/serviceaccounts/${account}/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenRequest",
        spec: { audiences: [], expirationSeconds: 3607, ...(boundObjectRef ? { boundObjectRef } : {}) },
      }),
    });
    return {
      status: res.status,
      body: (await res.json()) as { message?: string; status?: { token?: string } },
    };
  };

  beforeAll(async () => {
    cp = await startControlPlane({ controllers: ["serviceaccount"] });
    const ca = {
      certPem: readFileSync(join(cp.dataDir, "pki", "ca.crt"), "utf8"),
      keyPem: readFileSync(join(cp.dataDir, "pki", "ca.key"), "utf8"),
    };
    certA = await issueKeyAndCertificate(ca, {
      commonName: `system:node:${nodeA}`,
      organizations: ["system:nodes"],
      usage: "client",
    });
    await cp.kubectl(["create", "namespace", ns]);
    await cp.kubectl(["create", "serviceaccount", "other", "-n", ns]);
    await createPod("on-a", nodeA);
    await createPod("on-b", nodeB);
  }, 120_000);

  afterAll(async () => {
    await cp?.stop();
  });

  it("issues a token bound to a pod on the node (the node binding added by the server)", async () => {
    const ref = { kind: "Pod", apiVersion: "v1", name: "on-a", uid: uids["on-a"] ?? "" };
    // The Node authorizer's graph follows the pod a moment after it is written.
    const answer = await waitFor(
      async () => {
        const r = await requestToken("default", ref);
        return r.status === 201 ? r : undefined;
      },
      { what: "a token for the node's pod", timeoutMs: 30_000 },
    );
    const token = answer.body.status?.token ?? "";
    const claims = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString());
    expect(claims["kubernetes.io"]).toMatchObject({
      namespace: ns,
      pod: { name: "on-a", uid: uids["on-a"] },
      serviceaccount: { name: "default" },
    });
  });

  it("refuses tokens not bound to one of its pods, with upstream's messages", async () => {
    const forbidden = (why: string) => ({
      status: 403,
      body: expect.objectContaining({ message: `serviceaccounts "default" is forbidden: ${why}` }),
    });
    expect(await requestToken("default")).toEqual(forbidden("node requested token not bound to a pod"));
    expect(await requestToken("default", { kind: "Pod", apiVersion: "v1", name: "on-a" })).toEqual(
      forbidden("node requested token with a pod binding without a uid"),
    );
    expect(
      await requestToken("default", { kind: "Pod", apiVersion: "v1", name: "on-b", uid: uids["on-b"] ?? "" }),
    ).toEqual(forbidden("node requested token bound to a pod scheduled on a different node"));
    expect(
      await requestToken("default", { kind: "Pod", apiVersion: "v1", name: "on-a", uid: "stale" }),
    ).toEqual(
      forbidden(
        "the UID in the bound object reference (stale) does not match the UID in record. The object might have been deleted and then recreated",
      ),
    );
    // No pod of this node runs as "other": the Node authorizer says no before the handler is reached.
    expect(
      (await requestToken("other", { kind: "Pod", apiVersion: "v1", name: "on-a", uid: uids["on-a"] ?? "" }))
        .status,
    ).toBe(403);
  });
});
