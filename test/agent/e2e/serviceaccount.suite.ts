// Service account tokens in pods through the whole stack, on one real runtime: the ServiceAccount admission
// adds the kube-api-access-* projected volume, the agent requests a token bound to the pod (TokenRequest)
// and writes it with the cluster CA (kube-root-ca.crt, from the root CA publisher) and the namespace; the
// API server accepts the token as system:serviceaccount:<ns>:default until the pod is deleted.
import { describe, expect, it } from "vitest";
import type { Pod } from "../../../src/api/schema/core/pod-types.ts";
import type { AgentRuntimeKind } from "../../support/agent.ts";
import { waitFor } from "../../support/wait.ts";
import { type E2E, SLEEP_FOREVER, shContainer, useE2E } from "./harness.ts";

const MOUNT = "/var/run/secrets/kubernetes.io/serviceaccount";

async function whoAmI(e: E2E, token: string): Promise<{ status: number; user?: string; groups?: string[] }> {
  const res = await e.cp.fetchAs({ token }, "/apis/authentication.k8s.io/v1/selfsubjectreviews", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" }),
  });
  if (!res.ok) return { status: res.status };
  const review = (await res.json()) as { status?: { userInfo?: { username?: string; groups?: string[] } } };
  return {
    status: res.status,
    user: review.status?.userInfo?.username,
    groups: review.status?.userInfo?.groups,
  };
}

export function serviceAccountSuite(kind: AgentRuntimeKind): void {
  describe.concurrent(`service account tokens in pods on ${kind}`, () => {
    const env = useE2E(kind);

    it("mounts a bound token, the cluster CA and the namespace; the token works until the pod is gone", async () => {
      const e = env();
      await e.createPod("sa-web", { containers: [shContainer("main", SLEEP_FOREVER)] });
      const pod = await e.waitRunning("sa-web");
      expect(pod.spec?.serviceAccountName).toBe("default");
      const volume = pod.spec?.volumes?.find((v) => v.name?.startsWith("kube-api-access-"));
      expect(volume?.name).toMatch(/^kube-api-access-[a-z0-9]{5}$/);
      expect(volume?.projected?.sources?.map((s) => Object.keys(s)[0])).toEqual([
        "serviceAccountToken",
        "configMap",
        "downwardAPI",
      ]);
      expect(pod.spec?.containers?.[0]?.volumeMounts).toContainEqual({
        name: volume?.name,
        mountPath: MOUNT,
        readOnly: true,
      });

      const cat = async (file: string) =>
        e.kubectl("exec", "-n", e.ns, "sa-web", "-c", "main", "--", "cat", `${MOUNT}/${file}`);
      const token = (await cat("token")).trim();
      expect(token.split(".")).toHaveLength(3);
      const claims = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()) as {
        sub?: string;
        exp?: number;
        iat?: number;
        "kubernetes.io"?: { pod?: { name?: string; uid?: string } };
      };
      expect(claims.sub).toBe(`system:serviceaccount:${e.ns}:default`);
      expect(claims["kubernetes.io"]?.pod).toEqual({ name: "sa-web", uid: pod.metadata?.uid });
      expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBeGreaterThanOrEqual(3607);
      expect(await cat("ca.crt")).toBe(e.cp.caPem);
      expect(await cat("namespace")).toBe(e.ns);

      expect(await whoAmI(e, token)).toEqual({
        status: 201,
        user: `system:serviceaccount:${e.ns}:default`,
        groups: expect.arrayContaining(["system:serviceaccounts", `system:serviceaccounts:${e.ns}`]),
      });

      await e.deletePod("sa-web");
      await e.waitGone("sa-web");
      // The bound pod is gone: the token no longer authenticates.
      await waitFor(async () => (await whoAmI(e, token)).status === 401, {
        what: "the token of a deleted pod to be refused",
        timeoutMs: 30_000,
      });
    });

    it("automountServiceAccountToken: false on the pod or its account: no volume", async () => {
      const e = env();
      await e.apply({
        apiVersion: "v1",
        kind: "ServiceAccount",
        metadata: { name: "quiet" },
        automountServiceAccountToken: false,
      });
      await e.createPod("sa-off", {
        automountServiceAccountToken: false,
        containers: [shContainer("main", SLEEP_FOREVER)],
      });
      await e.createPod("sa-quiet", {
        serviceAccountName: "quiet",
        containers: [shContainer("main", SLEEP_FOREVER)],
      });
      for (const name of ["sa-off", "sa-quiet"]) {
        const pod: Pod = await e.waitRunning(name);
        expect(pod.spec?.volumes ?? []).toEqual([]);
        expect(pod.spec?.containers?.[0]?.volumeMounts ?? []).toEqual([]);
        const ls = await e.kubectl("exec", "-n", e.ns, name, "--", "sh", "-c", `ls ${MOUNT} 2>&1 || true`);
        expect(ls).toContain("No such file or directory");
      }
    });

    it("refuses a pod naming a service account that does not exist", async () => {
      const e = env();
      const result = await e.cp.kubectl(["create", "-f", "-", "-n", e.ns], {
        input: JSON.stringify(
          e.pod("sa-ghost", {
            serviceAccountName: "ghost",
            containers: [shContainer("main", SLEEP_FOREVER)],
          }),
        ),
        allowFailure: true,
      });
      expect(result.stderr).toContain(
        `pods "sa-ghost" is forbidden: error looking up service account ${e.ns}/ghost: serviceaccount "ghost" not found`,
      );
    });
  });
}
