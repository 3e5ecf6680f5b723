// Shared fixtures for the pod-config tests: pods, an in-memory API that behaves like the real reads (copies
// out, not-found as undefined, namespaces respected, failures as ApiError), and a context over a temp root.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PodConfigApi, PodConfigContext } from "../../../src/agent/pod-config/index.ts";
import { ApiError } from "../../../src/api/client/errors.ts";
import type { ConfigMap, Secret } from "../../../src/api/schema/core/config-types.ts";
import type { Container } from "../../../src/api/schema/core/container.ts";
import type { Pod } from "../../../src/api/schema/core/pod-types.ts";
import type { Service } from "../../../src/api/schema/core/service-types.ts";

export function container(name: string, extra: Partial<Container> = {}): Container {
  return {
    name,
    image: "deckhand.local/busybox:1.35",
    terminationMessagePath: "/dev/termination-log",
    terminationMessagePolicy: "File",
    resources: {},
    ...extra,
  } as Container;
}

export function pod(
  extra: { metadata?: Partial<NonNullable<Pod["metadata"]>>; spec?: Partial<NonNullable<Pod["spec"]>> } = {},
): Pod {
  return {
    metadata: { name: "web", namespace: "ns1", uid: "uid-1", ...extra.metadata },
    spec: {
      containers: [container("app")],
      nodeName: "node-a",
      restartPolicy: "Always",
      dnsPolicy: "ClusterFirst",
      enableServiceLinks: true,
      terminationGracePeriodSeconds: 30,
      serviceAccountName: "default",
      securityContext: {},
      ...extra.spec,
    },
  } as Pod;
}

export function service(
  namespace: string,
  name: string,
  clusterIP: string,
  ports: Array<Record<string, unknown>>,
): Service {
  return { metadata: { namespace, name }, spec: { clusterIP, ports } } as unknown as Service;
}

/** An API over maps; `fail` makes every read reject like an unreachable server. */
export class FakeApi implements PodConfigApi {
  readonly configMaps = new Map<string, ConfigMap>();
  readonly secrets = new Map<string, Secret>();
  readonly services: Service[] = [];
  readonly calls: string[] = [];
  fail = false;

  setConfigMap(
    namespace: string,
    name: string,
    data: Record<string, string>,
    binaryData?: Record<string, string>,
  ) {
    this.configMaps.set(`${namespace}/${name}`, {
      metadata: { namespace, name },
      data,
      ...(binaryData ? { binaryData } : {}),
    } as ConfigMap);
  }

  /** Values are given in clear and stored base64-encoded, as the API serves them. */
  setSecret(namespace: string, name: string, data: Record<string, string | Buffer>) {
    const encoded = Object.fromEntries(
      Object.entries(data).map(([k, v]) => [k, Buffer.from(v as string).toString("base64")]),
    );
    this.secrets.set(`${namespace}/${name}`, { metadata: { namespace, name }, data: encoded } as Secret);
  }

  private check(what: string) {
    this.calls.push(what);
    if (this.fail) throw new ApiError("API_UNREACHABLE", "connect ECONNREFUSED 127.0.0.1:6443");
  }

  async getConfigMap(namespace: string, name: string) {
    this.check(`configmap ${namespace}/${name}`);
    const found = this.configMaps.get(`${namespace}/${name}`);
    return found ? structuredClone(found) : undefined;
  }

  async getSecret(namespace: string, name: string) {
    this.check(`secret ${namespace}/${name}`);
    const found = this.secrets.get(`${namespace}/${name}`);
    return found ? structuredClone(found) : undefined;
  }

  async listServices(namespace: string) {
    this.check(`services ${namespace}`);
    return structuredClone(this.services.filter((s) => s.metadata?.namespace === namespace));
  }
}

export interface TestContext {
  ctx: PodConfigContext;
  api: FakeApi;
  root: string;
  warnings: Array<{ reason: string; message: string }>;
  cleanup(): Promise<void>;
}

/** A context over a fresh temp root (pods/ under it) with its own resolv.conf. */
export async function testContext(overrides: Partial<PodConfigContext> = {}): Promise<TestContext> {
  const root = await mkdtemp(join(tmpdir(), "deckhand-podconfig-"));
  const resolvConf = join(root, "resolv.conf");
  await writeFile(resolvConf, "nameserver 192.0.2.53\nsearch corp.example\noptions edns0\n");
  const api = new FakeApi();
  const warnings: Array<{ reason: string; message: string }> = [];
  const ctx: PodConfigContext = {
    nodeName: "node-a",
    hostIPs: ["192.0.2.10"],
    rootDir: join(root, "lib"),
    clusterDNS: ["10.96.0.10"],
    clusterDomain: "cluster.local",
    runtimeName: "cri",
    allowNegativeOomScoreAdj: false,
    api,
    nodeCapacity: { cpu: "4", memory: "8Gi" },
    nodeAllocatable: { cpu: "3500m", memory: "7Gi", "ephemeral-storage": "100Gi" },
    resolvConf,
    warn: (_pod, reason, message) => warnings.push({ reason, message }),
    ...overrides,
  };
  return { ctx, api, root, warnings, cleanup: () => rm(root, { recursive: true, force: true }) };
}
