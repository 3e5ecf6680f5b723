import { describe, expect, it } from "vitest";
import { runAsNonRootProblem, runtimeSecurityContext } from "../../../src/agent/pod-config/security.ts";
import type { Container } from "../../../src/api/schema/core/container.ts";
import type { Pod } from "../../../src/api/schema/core/pod-types.ts";
import { container, pod } from "./fixtures.ts";

type PodSc = NonNullable<NonNullable<Pod["spec"]>["securityContext"]>;

function make(podSc: PodSc, sc?: Container["securityContext"]) {
  const c = container("app", sc ? { securityContext: sc } : {});
  return { p: pod({ spec: { containers: [c], securityContext: podSc } }), c };
}

describe("runtimeSecurityContext", () => {
  it.each([
    ["nothing set", {}, undefined, {}],
    [
      "pod-level user, group and groups",
      { runAsUser: 1000, runAsGroup: 3000, supplementalGroups: [4000, 4001], fsGroup: 2000 },
      undefined,
      { runAsUser: 1000, runAsGroup: 3000, supplementalGroups: [2000, 4000, 4001] },
    ],
    [
      "container overrides the pod",
      { runAsUser: 1000, runAsGroup: 3000 },
      { runAsUser: 2000 },
      { runAsUser: 2000, runAsGroup: 3000 },
    ],
    [
      "container-only switches",
      {},
      { privileged: true, readOnlyRootFilesystem: true, capabilities: { add: ["NET_ADMIN"], drop: ["ALL"] } },
      { privileged: true, readOnlyRootFilesystem: true, capabilities: { add: ["NET_ADMIN"], drop: ["ALL"] } },
    ],
    [
      "allowPrivilegeEscalation false → noNewPrivileges",
      {},
      { allowPrivilegeEscalation: false },
      { noNewPrivileges: true },
    ],
    ["allowPrivilegeEscalation true → nothing", {}, { allowPrivilegeEscalation: true }, {}],
    ["runAsUser 0 is kept", { runAsUser: 0 }, undefined, { runAsUser: 0 }],
  ] as Array<[string, PodSc, Container["securityContext"], object]>)("%s", (_name, podSc, sc, expected) => {
    const { p, c } = make(podSc, sc);
    expect(runtimeSecurityContext(p, c)).toEqual(expected);
  });
});

describe("runAsNonRootProblem", () => {
  const where = '(pod: "web_ns1(uid-1)", container: app)';
  it.each([
    ["not required", {}, undefined, undefined, undefined],
    ["explicit non-root user", { runAsNonRoot: true, runAsUser: 1000 }, undefined, undefined, undefined],
    [
      "explicit root user",
      { runAsNonRoot: true, runAsUser: 0 },
      undefined,
      { uid: 1000 },
      `container's runAsUser breaks non-root policy ${where}`,
    ],
    [
      "container user 0 beats pod's non-root user",
      { runAsNonRoot: true, runAsUser: 1000 },
      { runAsUser: 0 },
      undefined,
      `container's runAsUser breaks non-root policy ${where}`,
    ],
    [
      "image runs as root",
      { runAsNonRoot: true },
      undefined,
      { uid: 0 },
      `container has runAsNonRoot and image will run as root ${where}`,
    ],
    [
      "image user unknown counts as root",
      { runAsNonRoot: true },
      undefined,
      undefined,
      `container has runAsNonRoot and image will run as root ${where}`,
    ],
    ["image has a numeric non-root user", { runAsNonRoot: true }, undefined, { uid: 65534 }, undefined],
    [
      "image has a named user",
      { runAsNonRoot: true },
      undefined,
      { username: "nobody" },
      `container has runAsNonRoot and image has non-numeric user (nobody), cannot verify user is non-root ${where}`,
    ],
    ["container turns the check off", { runAsNonRoot: true }, { runAsNonRoot: false }, { uid: 0 }, undefined],
  ] as Array<
    [
      string,
      PodSc,
      Container["securityContext"],
      { uid?: number; username?: string } | undefined,
      string | undefined,
    ]
  >)("%s", (_name, podSc, sc, image, expected) => {
    const { p, c } = make(podSc, sc);
    expect(runAsNonRootProblem(p, c, image)).toBe(expected);
  });
});
