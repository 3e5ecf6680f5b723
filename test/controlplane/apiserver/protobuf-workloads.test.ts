// Workload kinds that real kubectl sends as application/vnd.kubernetes.protobuf (create deployment, create
// job, create service, debug --copy-to, debug node) are stored exactly as the same command's JSON would be:
// each command runs once in a namespace of its own and once through `--dry-run=client -o json | kubectl
// create -f -` in another, and the stored objects are compared (server-assigned fields aside).

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startControlPlane, type TestControlPlane } from "../../support/controlplane.ts";
import { uniqueName } from "../../support/names.ts";

const IMAGE = "deckhand.local/busybox:1.35";
const PAUSE = "deckhand.local/pause:3.9";
/** A request header line in kubectl's -v=8 log; this server always answers JSON, so it is the request's. */
const PROTOBUF_REQUEST = /Content-Type: application\/vnd\.kubernetes\.protobuf/;
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

type Obj = Record<string, unknown> & {
  metadata: Record<string, unknown>;
  spec?: Record<string, unknown>;
};

/** Inserts kubectl flags before a `--` (which starts the container command). */
function withFlags(args: readonly string[], flags: string[]): string[] {
  const at = args.indexOf("--");
  return at < 0 ? [...args, ...flags] : [...args.slice(0, at), ...flags, ...args.slice(at)];
}

/** Drops what the server assigns per object (identity, versions, times, allocated IPs and ports). */
function normalize(object: Obj): Obj {
  const copy = structuredClone(object);
  for (const key of ["namespace", "uid", "resourceVersion", "creationTimestamp"]) delete copy.metadata[key];
  for (const entry of (copy.metadata.managedFields ?? []) as Record<string, unknown>[]) delete entry.time;
  if (copy.kind === "Service" && copy.spec) {
    delete copy.spec.clusterIP;
    delete copy.spec.clusterIPs;
    for (const port of (copy.spec.ports ?? []) as Record<string, unknown>[]) delete port.nodePort;
  }
  // Job selectors and labels carry the job's UID.
  return JSON.parse(JSON.stringify(copy).replace(UUID, "<uid>")) as Obj;
}

describe("protobuf workload bodies from real kubectl", () => {
  let cp: TestControlPlane;
  const pbNs = uniqueName("pb");
  const jsonNs = uniqueName("json");

  const get = async (ns: string, resource: string, name: string): Promise<Obj> =>
    JSON.parse((await cp.kubectl(["-n", ns, "get", resource, name, "-o", "json"])).stdout) as Obj;

  /** Runs the command in the protobuf namespace; true when its write was a protobuf body. */
  const viaCommand = async (args: readonly string[], binary?: string): Promise<boolean> => {
    const { stderr } = await cp.kubectl(["-n", pbNs, "-v=8", ...args], { binary });
    return PROTOBUF_REQUEST.test(stderr);
  };

  /** The same command as JSON: what it would send (--dry-run=client -o json), created with create -f. */
  const viaJson = async (args: readonly string[], binary?: string): Promise<void> => {
    const { stdout } = await cp.kubectl(
      ["-n", jsonNs, ...withFlags(args, ["--dry-run=client", "-o", "json"])],
      {
        binary,
      },
    );
    await cp.kubectl(["-n", jsonNs, "create", "-f", "-"], { input: stdout, binary });
  };

  const expectSameBothWays = async (resource: string, name: string) => {
    const [pb, json] = await Promise.all([get(pbNs, resource, name), get(jsonNs, resource, name)]);
    expect(pb.metadata.namespace).toBe(pbNs);
    expect(normalize(pb)).toEqual(normalize(json));
    return pb;
  };

  beforeAll(async () => {
    cp = await startControlPlane({ controllers: false });
    await cp.kubectl(["create", "namespace", pbNs]);
    await cp.kubectl(["create", "namespace", jsonNs]);
  }, 90_000);

  afterAll(async () => {
    await cp?.stop();
  });

  const protobufCommands: [string, string, string[]][] = [
    ["deployments", "web", ["create", "deployment", "web", `--image=${IMAGE}`, "--replicas=2"]],
    [
      "deployments",
      "two",
      ["create", "deployment", "two", `--image=${IMAGE}`, `--image=${PAUSE}`, "--replicas=0"],
    ],
    ["deployments", "port", ["create", "deployment", "port", `--image=${IMAGE}`, "--port=8080"]],
    ["jobs", "once", ["create", "job", "once", `--image=${IMAGE}`, "--", "sh", "-c", "echo hi"]],
    ["services", "cip", ["create", "service", "clusterip", "cip", "--tcp=80:8080", "--tcp=443:8443"]],
    ["services", "headless", ["create", "service", "clusterip", "headless", "--clusterip=None"]],
    ["services", "np", ["create", "service", "nodeport", "np", "--tcp=80:8080"]],
    ["services", "lb", ["create", "service", "loadbalancer", "lb", "--tcp=80:8080"]],
    ["services", "ext", ["create", "service", "externalname", "ext", "--external-name=example.com"]],
  ];

  it.each(protobufCommands)(
    "kubectl %s %s: a protobuf body, stored as the JSON path stores it",
    async (resource, name, args) => {
      expect(await viaCommand(args)).toBe(true);
      await viaJson(args);
      const stored = await expectSameBothWays(resource, name);
      expect(stored.metadata.name).toBe(name);
    },
  );

  it("keeps pointer zeros: --replicas=0 stays 0 rather than defaulting to 1", async () => {
    const deployment = await get(pbNs, "deployments", "two");
    expect(deployment.spec?.replicas).toBe(0);
    const template = (deployment.spec?.template ?? {}) as Obj;
    const containers = (template.spec?.containers ?? []) as { name: string }[];
    expect(containers.map((c) => c.name)).toEqual(["busybox", "pause"]);
  });

  it("kubectl expose and kubectl run work and match the JSON path", async () => {
    const deploy = ["create", "deployment", "exposed", `--image=${IMAGE}`, "--port=8080"];
    await viaCommand(deploy);
    await viaJson(deploy);
    const expose = ["expose", "deployment", "exposed", "--port=80", "--target-port=8080"];
    await viaCommand(expose);
    await viaJson(expose);
    const service = await expectSameBothWays("services", "exposed");
    expect(service.spec).toMatchObject({
      selector: { app: "exposed" },
      ports: [{ port: 80, targetPort: 8080, protocol: "TCP" }],
    });
    const runPod = [
      "run",
      "p",
      `--image=${IMAGE}`,
      "--restart=Never",
      "--labels=a=b",
      "--env=X=1",
      "--",
      "sleep",
      "1",
    ];
    await viaCommand(runPod);
    await viaJson(runPod);
    const pod = await expectSameBothWays("pods", "p");
    expect(pod.metadata.labels).toEqual({ a: "b" });
  });

  // kubectl sends protobuf from 1.32 on (/usr/bin/kubectl dispatches to 1.32 for this server); older
  // clients send JSON.
  it.each(["kubectl.1.33"])("%s create deployment and create job decode the same as JSON", async (binary) => {
    const name = binary.replace("kubectl.1.", "v");
    const deploy = ["create", "deployment", name, `--image=${IMAGE}`, "--replicas=3"];
    expect(await viaCommand(deploy, binary)).toBe(true);
    await viaJson(deploy, binary);
    await expectSameBothWays("deployments", name);
    const job = ["create", "job", `${name}-job`, `--image=${IMAGE}`, "--", "true"];
    expect(await viaCommand(job, binary)).toBe(true);
    await viaJson(job, binary);
    await expectSameBothWays("jobs", `${name}-job`);
  });

  it("kubectl debug --copy-to sends a whole PodSpec as protobuf; the copy equals the original", async () => {
    // Created as JSON; kubectl then reads it and writes a copy through its typed (protobuf) client. Explicit
    // zeros below are all Go pointers (kept on both paths).
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "rich", annotations: { note: "x" } },
      spec: {
        containers: [
          {
            name: "main",
            image: IMAGE,
            command: ["sh", "-c", "sleep 3600"],
            workingDir: "/tmp",
            ports: [
              { containerPort: 8080, name: "http" },
              { containerPort: 53, protocol: "UDP" },
            ],
            env: [
              { name: "A", value: "1" },
              { name: "POD", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
              { name: "CM", valueFrom: { configMapKeyRef: { name: "cm", key: "k", optional: false } } },
              { name: "PW", valueFrom: { secretKeyRef: { name: "sec", key: "pw" } } },
              {
                name: "MEM",
                valueFrom: { resourceFieldRef: { resource: "limits.memory", divisor: "1Mi" } },
              },
            ],
            envFrom: [
              { prefix: "P_", secretRef: { name: "sec", optional: true } },
              { configMapRef: { name: "cm" } },
            ],
            resources: {
              limits: { cpu: "500m", memory: "128Mi" },
              requests: { cpu: "100m", memory: "64Mi" },
            },
            volumeMounts: [
              { name: "scratch", mountPath: "/scratch" },
              { name: "cfg", mountPath: "/cfg", readOnly: true, subPath: "k.txt" },
            ],
            livenessProbe: { httpGet: { path: "/healthz", port: "http" }, periodSeconds: 5 },
            readinessProbe: { tcpSocket: { port: 8080 }, failureThreshold: 1 },
            startupProbe: { exec: { command: ["true"] }, terminationGracePeriodSeconds: 5 },
            lifecycle: {
              postStart: { exec: { command: ["true"] } },
              preStop: { sleep: { seconds: 1 } },
            },
            securityContext: {
              privileged: false,
              runAsUser: 0,
              allowPrivilegeEscalation: false,
              readOnlyRootFilesystem: false,
              capabilities: { add: ["NET_ADMIN"], drop: ["ALL"] },
              seccompProfile: { type: "RuntimeDefault" },
            },
            stdin: true,
            tty: true,
          },
        ],
        initContainers: [{ name: "init", image: IMAGE, command: ["true"] }],
        volumes: [
          { name: "scratch", emptyDir: {} },
          { name: "mem", emptyDir: { medium: "Memory", sizeLimit: "64Mi" } },
          {
            name: "cfg",
            configMap: { name: "cm", defaultMode: 420, items: [{ key: "k", path: "k.txt", mode: 256 }] },
          },
          { name: "sec", secret: { secretName: "sec", optional: false } },
          {
            name: "proj",
            projected: {
              sources: [
                { serviceAccountToken: { path: "token", expirationSeconds: 3600 } },
                { downwardAPI: { items: [{ path: "labels", fieldRef: { fieldPath: "metadata.labels" } }] } },
                { configMap: { name: "cm", items: [{ key: "k", path: "k" }] } },
              ],
            },
          },
          { name: "host", hostPath: { path: "/tmp", type: "Directory" } },
          { name: "claim", persistentVolumeClaim: { claimName: "data", readOnly: true } },
          {
            name: "down",
            downwardAPI: { items: [{ path: "name", fieldRef: { fieldPath: "metadata.name" } }] },
          },
        ],
        terminationGracePeriodSeconds: 0,
        activeDeadlineSeconds: 600,
        automountServiceAccountToken: false,
        enableServiceLinks: false,
        hostname: "rich-host",
        subdomain: "sub",
        priority: 0,
        securityContext: {
          fsGroup: 2000,
          runAsNonRoot: false,
          supplementalGroups: [1, 2],
          sysctls: [{ name: "net.ipv4.ip_local_port_range", value: "1024 65535" }],
        },
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [
                { matchExpressions: [{ key: "kubernetes.io/os", operator: "In", values: ["linux"] }] },
              ],
            },
            preferredDuringSchedulingIgnoredDuringExecution: [
              { weight: 1, preference: { matchExpressions: [{ key: "k", operator: "Exists" }] } },
            ],
          },
          podAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: [
              {
                weight: 10,
                podAffinityTerm: { labelSelector: { matchLabels: { app: "db" } }, topologyKey: "zone" },
              },
            ],
          },
          podAntiAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: [
              { labelSelector: { matchLabels: { app: "rich" } }, topologyKey: "kubernetes.io/hostname" },
            ],
          },
        },
        tolerations: [{ key: "t", operator: "Exists", effect: "NoExecute", tolerationSeconds: 0 }],
        dnsPolicy: "None",
        dnsConfig: {
          nameservers: ["10.0.0.10"],
          searches: ["example.internal"],
          options: [{ name: "ndots", value: "2" }, { name: "edns0" }],
        },
        hostAliases: [{ ip: "10.0.0.1", hostnames: ["a.example", "b.example"] }],
        topologySpreadConstraints: [
          {
            maxSkew: 1,
            topologyKey: "zone",
            whenUnsatisfiable: "ScheduleAnyway",
            labelSelector: { matchExpressions: [{ key: "app", operator: "Exists" }] },
          },
        ],
        readinessGates: [{ conditionType: "example.com/ready" }],
        nodeSelector: { "kubernetes.io/os": "linux" },
        imagePullSecrets: [{ name: "regcred" }],
      },
    };
    await cp.kubectl(["-n", pbNs, "create", "-f", "-"], { input: JSON.stringify(pod) });
    const copied = await viaCommand([
      "debug",
      "rich",
      "--copy-to=rich-copy",
      "--container=dbg",
      `--image=${IMAGE}`,
      "--keep-liveness",
      "--keep-readiness",
      "--keep-startup",
      "--",
      "sleep",
      "1",
    ]);
    expect(copied).toBe(true);
    const [original, copy] = await Promise.all([get(pbNs, "pods", "rich"), get(pbNs, "pods", "rich-copy")]);
    const copySpec = structuredClone(copy.spec ?? {});
    const containers = copySpec.containers as { name: string }[];
    expect(containers.map((c) => c.name)).toEqual(["main", "dbg"]);
    copySpec.containers = containers.filter((c) => c.name !== "dbg");
    expect(copySpec).toEqual(original.spec);
    expect(copy.metadata.annotations).toEqual({ note: "x" });
  });

  it("kubectl debug node/… sends its node-debugger Pod as protobuf", async () => {
    const node = uniqueName("node");
    await cp.kubectl(["create", "-f", "-"], {
      input: JSON.stringify({ apiVersion: "v1", kind: "Node", metadata: { name: node } }),
    });
    expect(await viaCommand([`debug`, `node/${node}`, `--image=${IMAGE}`, "--", "sleep", "1"])).toBe(true);
    const pods = JSON.parse((await cp.kubectl(["-n", pbNs, "get", "pods", "-o", "json"])).stdout) as {
      items: Obj[];
    };
    const debuggers = pods.items.filter((p) => String(p.metadata.name).startsWith(`node-debugger-${node}-`));
    expect(debuggers).toHaveLength(1);
    expect(debuggers[0]?.spec).toMatchObject({
      nodeName: node,
      hostNetwork: true,
      hostPID: true,
      hostIPC: true,
      restartPolicy: "Never",
      tolerations: [{ operator: "Exists" }],
      // hostPath.type is a pointer kubectl sets to "" (HostPathUnset): kept.
      volumes: [{ name: "host-root", hostPath: { path: "/", type: "" } }],
      containers: [
        {
          name: "debugger",
          image: IMAGE,
          command: ["sleep", "1"],
          volumeMounts: [{ name: "host-root", mountPath: "/host" }],
        },
      ],
    });
    await cp.kubectl(["delete", "node", node]);
  });
});
