import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../src/api/resource.ts";
import type { AdmissionAttributes } from "../../src/controlplane/apiserver/pipeline/admission.ts";
import type { ServedResource } from "../../src/controlplane/apiserver/resources.ts";
import {
  mountServiceAccountToken,
  randomSuffix,
  serviceAccountAdmission,
} from "../../src/controlplane/controllers/serviceaccount-admission.ts";

const PATH = "/var/run/secrets/kubernetes.io/serviceaccount";
const pods = {
  group: "",
  plural: "pods",
  qualified: { group: "", resource: "pods" },
} as unknown as ServedResource;

function podCreate(object: KubeObject, namespace = "sa-adm"): AdmissionAttributes {
  return {
    operation: "CREATE",
    resource: pods,
    subresource: "",
    namespace,
    name: object.metadata?.name ?? "",
    object,
    user: { name: "admin", groups: [] },
    dryRun: false,
  };
}

type Spec = {
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  imagePullSecrets?: { name: string }[];
  volumes?: { name: string; projected?: unknown }[];
  containers: { name: string; volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[] }[];
  initContainers?: {
    name: string;
    volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
  }[];
};

function pod(spec: Partial<Spec> = {}, annotations?: Record<string, string>): KubeObject & { spec: Spec } {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "web", namespace: "sa-adm", ...(annotations ? { annotations } : {}) },
    spec: { containers: [{ name: "c" }], ...spec },
  };
}

function plugin(accounts: Record<string, Record<string, unknown>>) {
  const looked: string[] = [];
  const admission = serviceAccountAdmission({
    lookup: async (_r, namespace, name) => {
      looked.push(`${namespace}/${name}`);
      const extra = accounts[`${namespace}/${name}`];
      return extra ? ({ metadata: { name, namespace }, ...extra } as KubeObject) : undefined;
    },
    waitForDefault: { attempts: 3, intervalMs: 1 },
    sleep: async () => {},
  });
  return { admission, looked };
}

describe("ServiceAccount admission", () => {
  it("defaults the account to default and mounts kube-api-access-<5> read-only in every container", async () => {
    const { admission } = plugin({ "sa-adm/default": {} });
    const p = pod({ initContainers: [{ name: "init" }], containers: [{ name: "a" }, { name: "b" }] });
    await admission.admit?.(podCreate(p));
    expect(p.spec.serviceAccountName).toBe("default");
    expect((p.spec as { serviceAccount?: string }).serviceAccount).toBe("default");
    const volumes = p.spec.volumes ?? [];
    expect(volumes).toHaveLength(1);
    const name = volumes[0]?.name ?? "";
    expect(name).toMatch(/^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(volumes[0]).toEqual({
      name,
      projected: {
        defaultMode: 420,
        sources: [
          { serviceAccountToken: { expirationSeconds: 3607, path: "token" } },
          { configMap: { name: "kube-root-ca.crt", items: [{ key: "ca.crt", path: "ca.crt" }] } },
          {
            downwardAPI: {
              items: [{ path: "namespace", fieldRef: { apiVersion: "v1", fieldPath: "metadata.namespace" } }],
            },
          },
        ],
      },
    });
    for (const c of [...(p.spec.initContainers ?? []), ...p.spec.containers])
      expect(c.volumeMounts).toEqual([{ name, readOnly: true, mountPath: PATH }]);
  });

  it("does not mount when the pod or the account says automountServiceAccountToken: false (the pod wins)", async () => {
    const { admission } = plugin({
      "sa-adm/default": {},
      "sa-adm/quiet": { automountServiceAccountToken: false },
    });
    const off = pod({ automountServiceAccountToken: false });
    await admission.admit?.(podCreate(off));
    expect(off.spec.volumes).toBeUndefined();
    const quiet = pod({ serviceAccountName: "quiet" });
    await admission.admit?.(podCreate(quiet));
    expect(quiet.spec.volumes).toBeUndefined();
    const forced = pod({ serviceAccountName: "quiet", automountServiceAccountToken: true });
    await admission.admit?.(podCreate(forced));
    expect(forced.spec.volumes).toHaveLength(1);
  });

  it("refuses a pod naming a missing account (Forbidden), after waiting only for the default one", async () => {
    const { admission, looked } = plugin({});
    await expect(admission.admit?.(podCreate(pod({ serviceAccountName: "ghost" })))).rejects.toMatchObject({
      code: 403,
      reason: "Forbidden",
      message:
        'pods "web" is forbidden: error looking up service account sa-adm/ghost: serviceaccount "ghost" not found',
    });
    expect(looked).toEqual(["sa-adm/ghost"]);
    looked.length = 0;
    await expect(admission.admit?.(podCreate(pod()))).rejects.toMatchObject({ code: 403 });
    expect(looked).toEqual(["sa-adm/default", "sa-adm/default", "sa-adm/default"]);
  });

  it("copies the account's imagePullSecrets when the pod has none", async () => {
    const { admission } = plugin({ "sa-adm/default": { imagePullSecrets: [{ name: "regcred" }] } });
    const p = pod();
    await admission.admit?.(podCreate(p));
    expect(p.spec.imagePullSecrets).toEqual([{ name: "regcred" }]);
    const own = pod({ imagePullSecrets: [{ name: "mine" }] });
    await admission.admit?.(podCreate(own));
    expect(own.spec.imagePullSecrets).toEqual([{ name: "mine" }]);
  });

  it("leaves mirror pods alone", async () => {
    const { admission, looked } = plugin({ "sa-adm/default": {} });
    const mirror = pod({}, { "kubernetes.io/config.mirror": "abc" });
    await admission.admit?.(podCreate(mirror));
    expect(mirror.spec).toEqual({ containers: [{ name: "c" }] });
    expect(looked).toEqual([]);
  });

  it("ignores updates and other resources", async () => {
    const { admission, looked } = plugin({});
    const p = pod();
    await admission.admit?.({ ...podCreate(p), operation: "UPDATE" });
    await admission.admit?.({ ...podCreate(p), subresource: "status" });
    expect(looked).toEqual([]);
    expect(p.spec.serviceAccountName).toBeUndefined();
  });
});

describe("mountServiceAccountToken", () => {
  it("keeps a container's own mount at the path and reuses an existing kube-api-access volume", () => {
    const spec: Spec = {
      volumes: [{ name: "kube-api-access-abcde" }],
      containers: [{ name: "own", volumeMounts: [{ name: "mine", mountPath: PATH }] }, { name: "plain" }],
    };
    mountServiceAccountToken(spec, "zzzzz");
    expect(spec.volumes).toEqual([{ name: "kube-api-access-abcde" }]);
    expect(spec.containers[0]?.volumeMounts).toEqual([{ name: "mine", mountPath: PATH }]);
    expect(spec.containers[1]?.volumeMounts).toEqual([
      { name: "kube-api-access-abcde", readOnly: true, mountPath: PATH },
    ]);
  });

  it("adds no volume when every container already mounts something at the path", () => {
    const spec: Spec = { containers: [{ name: "own", volumeMounts: [{ name: "mine", mountPath: PATH }] }] };
    mountServiceAccountToken(spec, "zzzzz");
    expect(spec.volumes).toBeUndefined();
  });

  it("draws suffixes from upstream's alphabet", () => {
    for (let i = 0; i < 50; i++) expect(randomSuffix()).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  });
});
