// The other kubectl releases on this machine (1.27 … 1.33) against the same server: create, read, change
// and delete with each, as users with older or newer clients would.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startControlPlane, type TestControlPlane } from "../../support/controlplane.ts";
import { uniqueName } from "../../support/names.ts";

const VERSIONS = ["1.27", "1.28", "1.29", "1.30", "1.31", "1.32", "1.33"];

describe("kubectl releases 1.27 to 1.33", () => {
  let cp: TestControlPlane;
  let dir: string;
  let ns: string;

  beforeAll(async () => {
    cp = await startControlPlane({ controllers: false });
    dir = mkdtempSync(join(tmpdir(), "deckhand-kubectl-versions-"));
    ns = uniqueName("ver");
    await cp.kubectl(["create", "namespace", ns]);
  });

  afterAll(async () => {
    await cp?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.each(VERSIONS)("kubectl %s applies, lists, labels, scales and deletes", async (version) => {
    const binary = `kubectl.${version}`;
    const k = async (...args: string[]) => (await cp.kubectl(args, { binary })).stdout;
    const name = `v${version.replace(".", "-")}`;
    const path = join(dir, `${name}.yaml`);
    writeFileSync(
      path,
      [
        "apiVersion: apps/v1",
        "kind: ReplicaSet",
        "metadata:",
        `  name: ${name}`,
        `  namespace: ${ns}`,
        "spec:",
        "  replicas: 1",
        "  selector:",
        `    matchLabels: {app: ${name}}`,
        "  template:",
        "    metadata:",
        `      labels: {app: ${name}}`,
        "    spec:",
        "      containers:",
        "      - name: main",
        "        image: busybox:1.35",
        "",
      ].join("\n"),
    );
    expect(await k("apply", "-f", path)).toContain(`replicaset.apps/${name} created`);
    expect(await k("get", "rs", "-n", ns, "-o", "wide")).toMatch(
      new RegExp(`${name}\\s+1\\s+0\\s+0\\s+\\S+\\s+main\\s+busybox:1.35`),
    );
    expect(await k("label", "rs", name, "-n", ns, "client=kubectl")).toContain("labeled");
    expect(await k("scale", "rs", name, "-n", ns, "--replicas=2")).toContain("scaled");
    expect(
      await k("get", "rs", name, "-n", ns, "-o", "jsonpath={.spec.replicas} {.metadata.labels.client}"),
    ).toBe("2 kubectl");
    expect(await k("delete", "rs", name, "-n", ns)).toContain(`replicaset.apps "${name}" deleted`);
  });
});
