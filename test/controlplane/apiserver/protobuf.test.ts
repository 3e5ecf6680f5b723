// Kubernetes protobuf request bodies (what typed clients such as `kubectl create namespace` send) decode to
// the same JSON object the client meant.

import { describe, expect, it } from "vitest";
import { decodeProtobufBody } from "../../../src/controlplane/apiserver/protobuf/decode.ts";
import { MESSAGES, TOP_LEVEL } from "../../../src/controlplane/apiserver/protobuf/messages.ts";

// A minimal protobuf writer for building test bodies.
function varint(n: number | bigint): number[] {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) byte |= 0x80;
    out.push(byte);
  } while (v !== 0n);
  return out;
}
const bytesField = (field: number, payload: number[]) => [
  ...varint((field << 3) | 2),
  ...varint(payload.length),
  ...payload,
];
const str = (field: number, s: string) => bytesField(field, [...Buffer.from(s, "utf8")]);
const int = (field: number, n: number) => [...varint(field << 3), ...varint(n)];
const msg = (field: number, ...parts: number[][]) => bytesField(field, parts.flat());
const entry = (field: number, key: string, value: string) => msg(field, str(1, key), str(2, value));
/** A map<string, Quantity> entry. */
const quantity = (field: number, key: string, value: string) =>
  msg(field, str(1, key), msg(2, str(1, value)));
/** IntOrString: type 0 + intVal, or type 1 + strVal (Go writes all three fields). */
const intOrInt = (field: number, n: number) => msg(field, int(1, 0), int(2, n), str(3, ""));
const intOrStr = (field: number, s: string) => msg(field, int(1, 1), int(2, 0), str(3, s));
/** An unset non-pointer metav1.Time: Go marshals the zero time as an empty message. */
const zeroTime = (field: number) => msg(field);

function envelope(apiVersion: string, kind: string, raw: number[]): Uint8Array {
  return Uint8Array.from([
    0x6b,
    0x38,
    0x73,
    0x00,
    ...msg(1, str(1, apiVersion), str(2, kind)),
    ...bytesField(2, raw),
  ]);
}

describe("protobuf request bodies", () => {
  it("decodes a Namespace as kubectl create namespace sends it", () => {
    const meta = msg(
      1,
      str(1, "team-a"),
      str(2, ""),
      str(4, ""),
      entry(11, "env", "test"),
      msg(8, int(1, -62135596800), int(2, 0)), // Go's zero time: unset
      int(7, 0), // generation: a non-pointer zero is "unset"
    );
    const body = envelope("v1", "Namespace", [...meta, ...msg(2), ...msg(3)]);
    expect(decodeProtobufBody(body).object).toEqual({
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "team-a", labels: { env: "test" } },
    });
  });

  it("decodes maps of bytes as base64, times as RFC 3339, and repeated messages", () => {
    const meta = msg(
      1,
      str(1, "s"),
      str(3, "ns"),
      msg(9, int(1, 1700000000), int(2, 0)),
      str(14, "example.com/a"),
      str(14, "example.com/b"),
      msg(13, str(1, "ReplicaSet"), str(3, "rs"), str(4, "uid-1"), str(5, "apps/v1"), int(6, 1)),
    );
    const body = envelope("v1", "Secret", [...meta, ...entry(2, "key", "\u0001\u0002"), ...str(3, "Opaque")]);
    expect(decodeProtobufBody(body).object).toEqual({
      apiVersion: "v1",
      kind: "Secret",
      metadata: {
        name: "s",
        namespace: "ns",
        deletionTimestamp: "2023-11-14T22:13:20Z",
        finalizers: ["example.com/a", "example.com/b"],
        ownerReferences: [
          { kind: "ReplicaSet", name: "rs", uid: "uid-1", apiVersion: "apps/v1", controller: true },
        ],
      },
      data: { key: "AQI=" },
      type: "Opaque",
    });
  });

  it("refuses kinds it has no table for with 415, and garbage with 400", () => {
    expect(() => decodeProtobufBody(envelope("apps/v1", "StatefulSet", []))).toThrow(
      /send other kinds as application\/json/,
    );
    expect(() => decodeProtobufBody(Uint8Array.from([1, 2, 3, 4]))).toThrow(/magic number/);
    // A field this server has no table entry for is refused, never dropped.
    expect(() =>
      decodeProtobufBody(envelope("v1", "ConfigMap", [...msg(1, str(1, "c")), ...str(9, "x")])),
    ).toThrow(
      /field 9 of ConfigMap is not supported in protobuf bodies; send the object as application\/json/,
    );
    expect(
      decodeProtobufBody(envelope("v1", "ConfigMap", msg(1, str(1, "c"), str(15, "old")))).object,
    ).toEqual({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "c" },
    });
    expect(() => decodeProtobufBody(Uint8Array.from([0x6b, 0x38, 0x73, 0x00, 0x0a, 0x7f]))).toThrow(
      /could not be decoded/,
    );
  });
});

describe("protobuf workload bodies", () => {
  it("decodes a Deployment: pointer zeros kept, non-pointer zeros dropped, IntOrString, quantities, inline structs", () => {
    const container = msg(
      2,
      str(1, "web"),
      str(2, "deckhand.local/busybox:1.35"),
      str(3, "sh"),
      str(3, "-c"),
      msg(6, str(1, "http"), int(2, 0), int(3, 8080), str(4, "TCP"), str(5, "")),
      msg(7, str(1, "A"), str(2, "1")),
      // env valueFrom.secretKeyRef: LocalObjectReference is embedded (its `name` is inline in JSON).
      msg(7, str(1, "S"), str(2, ""), msg(3, msg(4, msg(1, str(1, "creds")), str(2, "password")))),
      msg(8, quantity(1, "cpu", "500m"), quantity(1, "memory", "128Mi"), quantity(2, "cpu", "100m")),
      msg(9, str(1, "scratch"), int(2, 0), str(3, "/scratch"), str(4, ""), str(6, "")),
      // livenessProbe: ProbeHandler is embedded, httpGet.port is an IntOrString.
      msg(
        10,
        msg(1, msg(2, str(1, "/healthz"), intOrStr(2, "http"), str(3, ""), str(4, "HTTP"))),
        int(2, 0),
        int(3, 1),
        int(4, 10),
        int(5, 1),
        int(6, 3),
      ),
      msg(11, msg(1, msg(3, intOrInt(1, 8080), str(2, ""))), int(2, 5)),
      msg(22, msg(1, msg(1, str(1, "true")))),
      str(13, "/dev/termination-log"),
      str(20, "File"),
      str(14, "IfNotPresent"),
      // securityContext: pointer bools and ints, zero values included.
      msg(15, int(2, 0), int(4, 0), msg(1, str(1, "NET_ADMIN"), str(2, "ALL"))),
      int(16, 0),
      int(17, 0),
      int(18, 0),
    );
    const podSpec = msg(
      2,
      msg(1, str(1, "scratch"), msg(2, msg(2, str(1, "")))), // emptyDir: {} is a set pointer
      msg(1, str(1, "cfg"), msg(2, msg(19, msg(1, str(1, "settings")), int(3, 420)))),
      container,
      str(3, "Always"),
      int(4, 0), // terminationGracePeriodSeconds: 0 (a pointer)
      str(6, "ClusterFirst"),
      entry(7, "kubernetes.io/os", "linux"),
      int(11, 0), // hostNetwork: false (not a pointer)
      msg(22, str(1, "t"), str(2, "Exists"), str(3, ""), str(4, "NoExecute"), int(5, 0)),
      msg(18, msg(3, msg(1, msg(1, entry(1, "app", "web")), str(3, "kubernetes.io/hostname")))),
    );
    const spec = msg(
      2,
      int(1, 0), // replicas: 0
      msg(2, entry(1, "app", "web")),
      msg(3, msg(1, entry(11, "app", "web"), zeroTime(8)), podSpec),
      msg(4, str(1, "RollingUpdate"), msg(2, intOrInt(1, 0), intOrStr(2, "25%"))),
      int(5, 0),
      int(6, 10),
      int(7, 0),
      int(9, 600),
    );
    const status = msg(3, int(1, 0), int(2, 0), int(3, 0), int(7, 0), int(4, 0), int(5, 0));
    const body = envelope("apps/v1", "Deployment", [
      ...msg(1, str(1, "web"), zeroTime(8)),
      ...spec,
      ...status,
    ]);
    expect(decodeProtobufBody(body).object).toEqual({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web" },
      spec: {
        replicas: 0,
        selector: { matchLabels: { app: "web" } },
        template: {
          metadata: { labels: { app: "web" } },
          spec: {
            volumes: [
              { name: "scratch", emptyDir: {} },
              { name: "cfg", configMap: { name: "settings", defaultMode: 420 } },
            ],
            containers: [
              {
                name: "web",
                image: "deckhand.local/busybox:1.35",
                command: ["sh", "-c"],
                ports: [{ name: "http", containerPort: 8080, protocol: "TCP" }],
                env: [
                  { name: "A", value: "1" },
                  { name: "S", valueFrom: { secretKeyRef: { name: "creds", key: "password" } } },
                ],
                resources: { limits: { cpu: "500m", memory: "128Mi" }, requests: { cpu: "100m" } },
                volumeMounts: [{ name: "scratch", mountPath: "/scratch" }],
                livenessProbe: {
                  httpGet: { path: "/healthz", port: "http", scheme: "HTTP" },
                  timeoutSeconds: 1,
                  periodSeconds: 10,
                  successThreshold: 1,
                  failureThreshold: 3,
                },
                readinessProbe: { tcpSocket: { port: 8080 }, initialDelaySeconds: 5 },
                startupProbe: { exec: { command: ["true"] } },
                terminationMessagePath: "/dev/termination-log",
                terminationMessagePolicy: "File",
                imagePullPolicy: "IfNotPresent",
                securityContext: {
                  privileged: false,
                  runAsUser: 0,
                  capabilities: { add: ["NET_ADMIN"], drop: ["ALL"] },
                },
              },
            ],
            restartPolicy: "Always",
            terminationGracePeriodSeconds: 0,
            dnsPolicy: "ClusterFirst",
            nodeSelector: { "kubernetes.io/os": "linux" },
            tolerations: [{ key: "t", operator: "Exists", effect: "NoExecute", tolerationSeconds: 0 }],
            affinity: {
              podAntiAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: [
                  { labelSelector: { matchLabels: { app: "web" } }, topologyKey: "kubernetes.io/hostname" },
                ],
              },
            },
          },
        },
        strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: "25%" } },
        revisionHistoryLimit: 10,
        progressDeadlineSeconds: 600,
      },
    });
  });

  it("decodes a Job with a pod failure policy (packed and unpacked int32 lists) and status times", () => {
    const packed = bytesField(3, [...varint(1), ...varint(42)]);
    const spec = msg(
      2,
      int(1, 1),
      int(7, 0), // backoffLimit: 0
      msg(
        11,
        msg(1, str(1, "FailJob"), msg(2, str(1, "main"), str(2, "In"), packed, int(3, 7))),
        msg(1, str(1, "Ignore"), msg(3, str(1, "DisruptionTarget"), str(2, "True"))),
      ),
      msg(6, msg(1), msg(2, msg(2, str(1, "main"), str(2, "busybox")), str(3, "Never"))),
      int(10, 0), // suspend: false
    );
    const status = msg(3, msg(2, int(1, 1700000000), int(2, 0)), int(4, 1), int(5, 0), str(7, ""));
    expect(
      decodeProtobufBody(envelope("batch/v1", "Job", [...msg(1, str(1, "j")), ...spec, ...status])).object,
    ).toEqual({
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: "j" },
      spec: {
        parallelism: 1,
        backoffLimit: 0,
        podFailurePolicy: {
          rules: [
            { action: "FailJob", onExitCodes: { containerName: "main", operator: "In", values: [1, 42, 7] } },
            { action: "Ignore", onPodConditions: [{ type: "DisruptionTarget", status: "True" }] },
          ],
        },
        template: { spec: { containers: [{ name: "main", image: "busybox" }], restartPolicy: "Never" } },
        suspend: false,
      },
      status: { startTime: "2023-11-14T22:13:20Z", active: 1 },
    });
  });

  it("decodes a Service, an EphemeralContainer (embedded common fields) and the Unix epoch as a time", () => {
    const port = msg(1, str(1, "web"), str(2, "TCP"), int(3, 80), intOrStr(4, "http"), int(5, 0));
    const spec = msg(2, port, entry(2, "app", "web"), str(4, "NodePort"), str(17, "SingleStack"));
    expect(
      decodeProtobufBody(envelope("v1", "Service", [...msg(1, str(1, "s")), ...spec, ...msg(3, msg(1))]))
        .object,
    ).toEqual({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "s" },
      spec: {
        ports: [{ name: "web", protocol: "TCP", port: 80, targetPort: "http" }],
        selector: { app: "web" },
        type: "NodePort",
        ipFamilyPolicy: "SingleStack",
      },
    });
    const ephemeral = msg(34, msg(1, str(1, "dbg"), str(2, "busybox"), int(16, 1)), str(2, "main"));
    const status = msg(3, msg(7, int(1, 0), int(2, 0)));
    expect(decodeProtobufBody(envelope("v1", "Pod", [...msg(2, ephemeral), ...status])).object).toEqual({
      apiVersion: "v1",
      kind: "Pod",
      spec: {
        ephemeralContainers: [{ name: "dbg", image: "busybox", stdin: true, targetContainerName: "main" }],
      },
      status: { startTime: "1970-01-01T00:00:00Z" },
    });
  });

  it("refuses a field without a table entry with 415 naming where it is", () => {
    // VolumeSource field 3 is gcePersistentDisk, a deprecated in-tree source this server does not serve.
    const volume = msg(1, str(1, "disk"), msg(2, msg(3, str(1, "pd"))));
    const body = envelope("apps/v1", "DaemonSet", msg(2, msg(2, msg(2, volume))));
    expect(() => decodeProtobufBody(body)).toThrow(
      /field 3 of VolumeSource \(at spec\.template\.spec\.volumes\[0\]\) is not supported in protobuf bodies; send the object as application\/json/,
    );
  });

  it("answers 400 when a field arrives with the wrong wire type", () => {
    // DeploymentSpec.replicas is a varint; a length-delimited value there is malformed, not unsupported.
    expect(() => decodeProtobufBody(envelope("apps/v1", "Deployment", msg(2, str(1, "3"))))).toThrow(
      /could not be decoded: replicas: wire type 2 where 0 was expected/,
    );
  });

  it("has a table for every message a table refers to, and for every top-level kind", () => {
    const missing: string[] = [];
    for (const [name, def] of Object.entries(MESSAGES)) {
      for (const field of Object.values(def)) {
        const type = field.type;
        const ref =
          typeof type !== "object"
            ? undefined
            : "message" in type
              ? type.message
              : typeof type.map === "object"
                ? type.map.message
                : undefined;
        if (ref !== undefined && !MESSAGES[ref]) missing.push(`${name}.${field.name} → ${ref}`);
      }
    }
    for (const message of Object.values(TOP_LEVEL)) if (!MESSAGES[message]) missing.push(message);
    expect(missing).toEqual([]);
  });
});
