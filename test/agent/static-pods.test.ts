import { mkdtemp, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { staticPodFromManifest } from "../../src/agent/static-pod-manifest.ts";
import { type ManifestProblem, StaticPodSource } from "../../src/agent/static-pods.ts";
import type { Pod } from "../../src/api/schema/core/pod-types.ts";

const manifest = (name: string, image = "deckhand.local/busybox:1.35") => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
spec:
  containers:
  - name: app
    image: ${image}
`;

describe("staticPodFromManifest", () => {
  it("names the pod after the node, derives its UID from the content, adds kubelet's annotations and defaults", () => {
    const result = staticPodFromManifest(manifest("web"), "/m/web.yaml", "n1", "2026-11-22T00:00:00Z");
    if (!("pod" in result)) throw new Error(result.problem);
    const { pod } = result;
    expect(pod.metadata?.name).toBe("web-n1");
    expect(pod.metadata?.namespace).toBe("default");
    expect(pod.metadata?.uid).toMatch(/^[0-9a-f]{32}$/);
    expect(pod.metadata?.annotations).toMatchObject({
      "kubernetes.io/config.source": "file",
      "kubernetes.io/config.hash": pod.metadata?.uid,
      "kubernetes.io/config.seen": "2026-11-22T00:00:00Z",
    });
    expect(pod.spec?.nodeName).toBe("n1");
    expect(pod.spec?.restartPolicy).toBe("Always");
    expect(pod.spec?.tolerations).toContainEqual({ operator: "Exists", effect: "NoExecute" });
    const again = staticPodFromManifest(manifest("web"), "/m/web.yaml", "n1", "later");
    const edited = staticPodFromManifest(
      manifest("web", "deckhand.local/busybox:other"),
      "/m/web.yaml",
      "n1",
      "later",
    );
    expect("pod" in again && again.pod.metadata?.uid).toBe(pod.metadata?.uid);
    expect("pod" in edited && edited.pod.metadata?.uid).not.toBe(pod.metadata?.uid);
  });

  it.each([
    ["not yaml: [", /invalid YAML/],
    ["apiVersion: v1\nkind: Service\nmetadata: {name: x}\n", /expected apiVersion v1, kind Pod/],
    [
      "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec: {containers: [{name: a, image: b, bogus: 1}]}\n",
      /unknown field/,
    ],
    [
      "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec: {containers: [{name: A_B, image: b}]}\n",
      /spec.containers\[0\].name/,
    ],
    [`${manifest("a")}---\n${manifest("b")}`, /exactly one Pod/],
  ])("explains what is wrong with %j", (text, problem) => {
    const result = staticPodFromManifest(text, "/m/x.yaml", "n1", "now");
    expect("problem" in result && result.problem).toMatch(problem);
  });
});

describe("StaticPodSource (real directory)", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "dh-static-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reports the set on changes, ignores hidden files, reports a broken file once and keeps the others", async () => {
    const sets: string[][] = [];
    const problems: ManifestProblem[] = [];
    const source = new StaticPodSource({
      dir,
      nodeName: "n1",
      onPods: (pods: Pod[]) => sets.push(pods.map((p) => p.metadata?.name ?? "").sort()),
      onProblem: (p) => problems.push(p),
    });
    await source.scan();
    expect(sets).toEqual([[]]);
    await writeFile(join(dir, "web.yaml"), manifest("web"));
    await writeFile(join(dir, ".hidden.yaml"), manifest("hidden"));
    await writeFile(join(dir, "broken.yaml"), "kind: [");
    await source.scan();
    await source.scan();
    expect(sets).toEqual([[], ["web-n1"]]);
    expect(problems.map((p) => p.file)).toEqual([join(dir, "broken.yaml")]);
    await writeFile(join(dir, "broken.yaml"), manifest("fixed"));
    await source.scan();
    expect(sets.at(-1)).toEqual(["fixed-n1", "web-n1"]);
    await unlink(join(dir, "web.yaml"));
    await source.scan();
    expect(sets.at(-1)).toEqual(["fixed-n1"]);
  });
});
