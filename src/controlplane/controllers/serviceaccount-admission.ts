// The ServiceAccount admission plugin (upstream plugin/pkg/admission/serviceaccount), run by the API server
// next to the serviceaccount controller that creates what it looks up: every new pod runs as a service
// account ("default" unless it names one) that must exist, takes the account's imagePullSecrets when it
// has none, and, unless automountServiceAccountToken is false on the pod or the account, gets the
// kube-api-access-<random> projected volume (a bound token, the cluster CA from kube-root-ca.crt and the
// namespace) mounted read-only at /var/run/secrets/kubernetes.io/serviceaccount in every container.
// Mirror pods are left as they are (NodeRestriction refuses those that name a service account; the pod
// strategy's own default then gives them "default").
import { randomInt } from "node:crypto";
import type { KubeObject } from "../../api/resource.ts";
import type { ObjectLookup } from "../apiserver/authn/lookup.ts";
import { forbidden } from "../apiserver/errors.ts";
import type { AdmissionAttributes, AdmissionPlugin } from "../apiserver/pipeline/admission.ts";
import { DEFAULT_SERVICE_ACCOUNT } from "./serviceaccounts.ts";

export const SERVICE_ACCOUNT_MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount";
export const SERVICE_ACCOUNT_VOLUME_PREFIX = "kube-api-access-";
export const ROOT_CA_CONFIGMAP = "kube-root-ca.crt";
/** upstream serviceaccount.WarnOnlyBoundTokenExpirationSeconds: an hour and 7 s, recognisable in audits. */
export const TOKEN_EXPIRATION_SECONDS = 3607;
const MIRROR_POD_ANNOTATION = "kubernetes.io/config.mirror";
/** upstream utilrand.String's alphabet: no vowels, no look-alike characters. */
const NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

interface VolumeMountLike {
  name?: string;
  mountPath?: string;
  readOnly?: boolean;
}

interface ContainerLike {
  volumeMounts?: VolumeMountLike[];
}

interface PodSpecLike {
  serviceAccountName?: string;
  serviceAccount?: string;
  automountServiceAccountToken?: boolean;
  imagePullSecrets?: { name?: string }[];
  volumes?: { name?: string; [source: string]: unknown }[];
  containers?: ContainerLike[];
  initContainers?: ContainerLike[];
}

interface ServiceAccountLike extends KubeObject {
  automountServiceAccountToken?: boolean;
  imagePullSecrets?: { name?: string }[];
}

export function randomSuffix(length = 5): string {
  let out = "";
  for (let i = 0; i < length; i++) out += NAME_ALPHABET[randomInt(NAME_ALPHABET.length)];
  return out;
}

/** The projected volume upstream's plugin adds (TokenVolumeSource). */
export function apiAccessVolume(name: string) {
  return {
    name,
    projected: {
      sources: [
        { serviceAccountToken: { expirationSeconds: TOKEN_EXPIRATION_SECONDS, path: "token" } },
        { configMap: { name: ROOT_CA_CONFIGMAP, items: [{ key: "ca.crt", path: "ca.crt" }] } },
        {
          downwardAPI: {
            items: [{ path: "namespace", fieldRef: { apiVersion: "v1", fieldPath: "metadata.namespace" } }],
          },
        },
      ],
      defaultMode: 0o644,
    },
  };
}

/**
 * Mounts the API access volume in every init and regular container that has nothing at the mount path yet,
 * adding the volume (named kube-api-access-<suffix> unless one already exists) when some container needs it.
 */
export function mountServiceAccountToken(spec: PodSpecLike, suffix: string = randomSuffix()): void {
  const existing = spec.volumes?.find((v) => v.name?.startsWith(SERVICE_ACCOUNT_VOLUME_PREFIX));
  const name = existing?.name ?? `${SERVICE_ACCOUNT_VOLUME_PREFIX}${suffix}`;
  let needed = false;
  for (const container of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
    if (container.volumeMounts?.some((m) => m.mountPath === SERVICE_ACCOUNT_MOUNT_PATH)) continue;
    container.volumeMounts = [
      ...(container.volumeMounts ?? []),
      { name, readOnly: true, mountPath: SERVICE_ACCOUNT_MOUNT_PATH },
    ];
    needed = true;
  }
  if (needed && !existing) spec.volumes = [...(spec.volumes ?? []), apiAccessVolume(name)];
}

export function shouldAutomount(spec: PodSpecLike, account: ServiceAccountLike): boolean {
  return spec.automountServiceAccountToken ?? account.automountServiceAccountToken ?? true;
}

export interface ServiceAccountAdmissionOptions {
  lookup: ObjectLookup;
  /** How long to wait for the default account the controller is about to create (upstream 10 × 500 ms). */
  waitForDefault?: { attempts: number; intervalMs: number };
  sleep?: (ms: number) => Promise<void>;
}

export function serviceAccountAdmission(options: ServiceAccountAdmissionOptions): AdmissionPlugin {
  const wait = options.waitForDefault ?? { attempts: 50, intervalMs: 100 };
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const ref = { group: "", version: "v1", plural: "serviceaccounts" };

  async function accountOf(namespace: string, name: string): Promise<ServiceAccountLike | undefined> {
    // The default account is created by the controller right after its namespace: give it time to appear.
    const attempts = name === DEFAULT_SERVICE_ACCOUNT ? wait.attempts : 1;
    for (let i = 0; i < attempts; i++) {
      if (i > 0) await sleep(wait.intervalMs);
      const account = await options.lookup(ref, namespace, name);
      if (account) return account as ServiceAccountLike;
    }
    return undefined;
  }

  const isPodCreate = (a: AdmissionAttributes) =>
    a.operation === "CREATE" &&
    a.subresource === "" &&
    a.resource.group === "" &&
    a.resource.plural === "pods";

  return {
    name: "ServiceAccount",
    async admit(a) {
      if (!isPodCreate(a)) return;
      const pod = a.object as (KubeObject & { spec?: PodSpecLike }) | undefined;
      if (!pod?.spec) return;
      if (pod.metadata?.annotations?.[MIRROR_POD_ANNOTATION] !== undefined) return;
      const spec = pod.spec;
      // spec.serviceAccount is the deprecated alias, kept equal to the name (as defaulting does on updates).
      if (!spec.serviceAccountName) spec.serviceAccountName = spec.serviceAccount || DEFAULT_SERVICE_ACCOUNT;
      spec.serviceAccount = spec.serviceAccountName;
      const account = await accountOf(a.namespace, spec.serviceAccountName);
      if (!account) {
        throw forbidden(
          a.resource.qualified,
          a.name,
          `error looking up service account ${a.namespace}/${spec.serviceAccountName}: serviceaccount "${spec.serviceAccountName}" not found`,
        );
      }
      if (shouldAutomount(spec, account)) mountServiceAccountToken(spec);
      if (!spec.imagePullSecrets?.length && account.imagePullSecrets?.length) {
        spec.imagePullSecrets = account.imagePullSecrets.map((s) => ({ name: s.name ?? "" }));
      }
    },
  };
}
