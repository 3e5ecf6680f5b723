// The kubectl capability suite, run by one test file per storage backend: real /usr/bin/kubectl against a
// real `deckhand control-plane` on SQLite or on etcd.

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startControlPlane, type TestControlPlane } from "../../support/controlplane.ts";
import { uniqueName } from "../../support/names.ts";
import { waitFor } from "../../support/wait.ts";

export function defineKubectlSuite(store: "sqlite" | "etcd"): void {
  describe(`kubectl against the control plane on ${store}`, () => {
    let cp: TestControlPlane;
    let dir: string;
    let ns: string;

    const kubectl = async (...args: string[]) => (await cp.kubectl(args)).stdout;
    const manifest = (name: string, text: string) => {
      const path = join(dir, `${name}.yaml`);
      writeFileSync(path, text);
      return path;
    };
    const podYaml = (name: string, labels: Record<string, string>, image = "busybox:1.35") =>
      [
        "apiVersion: v1",
        "kind: Pod",
        "metadata:",
        `  name: ${name}`,
        `  namespace: ${ns}`,
        "  labels:",
        ...Object.entries(labels).map(([k, v]) => `    ${k}: ${v}`),
        "spec:",
        "  containers:",
        "  - name: main",
        `    image: ${image}`,
        "",
      ].join("\n");

    beforeAll(async () => {
      cp = await startControlPlane({ store, controllers: false });
      dir = mkdtempSync(join(tmpdir(), "deckhand-kubectl-"));
      ns = uniqueName("kc");
      await kubectl("create", "namespace", ns);
    });

    afterAll(async () => {
      await cp?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it("reports Kubernetes 1.32 to kubectl's version dispatcher", async () => {
      const out = JSON.parse(await kubectl("version", "-o", "json"));
      expect(out.serverVersion).toMatchObject({ major: "1", minor: "32", gitVersion: "v1.32.0" });
      expect(out.clientVersion.minor).toMatch(/^32/);
    });

    it("apply -f creates, then reports unchanged, then configures a change", async () => {
      const name = uniqueName("apply");
      const path = manifest(name, podYaml(name, { app: name }));
      expect(await kubectl("apply", "-f", path)).toContain(`pod/${name} created`);
      expect(await kubectl("apply", "-f", path)).toContain(`pod/${name} unchanged`);
      manifest(name, podYaml(name, { app: name, tier: "web" }, "busybox:1.36"));
      expect(await kubectl("apply", "-f", path)).toContain(`pod/${name} configured`);
      const pod = JSON.parse(await kubectl("get", "pod", name, "-n", ns, "-o", "json"));
      expect(pod.metadata.labels).toEqual({ app: name, tier: "web" });
      expect(pod.spec.containers[0].image).toBe("busybox:1.36");
      expect(pod.metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"]).toContain(
        "busybox:1.36",
      );
      expect(pod.status.phase).toBe("Pending");
      // Server-side apply of the same manifest takes over from client-side apply without conflicts.
      expect(await kubectl("apply", "--server-side", "-f", path)).toContain(`pod/${name} serverside-applied`);
    });

    it("get prints tables, wide columns, YAML, JSON, labels and selections", async () => {
      const a = uniqueName("geta");
      const b = uniqueName("getb");
      await kubectl("apply", "-f", manifest(a, podYaml(a, { app: "get-a", tier: "one" })));
      await kubectl("apply", "-f", manifest(b, podYaml(b, { app: "get-b", tier: "two" })));

      const table = await kubectl("get", "pods", "-n", ns);
      expect(table.split("\n")[0]).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/);
      expect(table).toMatch(new RegExp(`${a}\\s+0/1\\s+Pending\\s+0`));

      const wide = (await kubectl("get", "pods", "-n", ns, "-o", "wide")).split("\n")[0];
      expect(wide).toMatch(
        /NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES/,
      );

      expect(await kubectl("get", "pod", a, "-n", ns, "-o", "yaml")).toMatch(/kind: Pod\n[\s\S]*name: main/);
      const json = JSON.parse(
        await kubectl("get", "pods", "-n", ns, "-l", "app in (get-a,get-b)", "-o", "json"),
      );
      expect(json.items.map((p: { metadata: { name: string } }) => p.metadata.name).sort()).toEqual(
        [a, b].sort(),
      );

      const selected = await kubectl("get", "pods", "-n", ns, "-l", "tier=one", "-o", "name");
      expect(selected.trim()).toBe(`pod/${a}`);
      const notTwo = await kubectl("get", "pods", "-n", ns, "-l", "app,tier!=two", "-o", "name");
      expect(notTwo).toContain(`pod/${a}`);
      expect(notTwo).not.toContain(`pod/${b}`);

      expect(await kubectl("get", "pod", a, "-n", ns, "--show-labels")).toMatch(
        /LABELS\n.*app=get-a,tier=one/,
      );
      expect(await kubectl("get", "pods", "-n", ns, "-L", "tier", "-l", "app=get-b")).toMatch(
        new RegExp(`TIER\\n${b}\\s.*\\stwo`),
      );
      const all = await kubectl("get", "pods", "-A");
      expect(all.split("\n")[0]).toMatch(/^NAMESPACE\s+NAME/);
      expect(all).toMatch(new RegExp(`${ns}\\s+${a}`));
      expect(await kubectl("get", "namespaces")).toMatch(/default\s+Active/);
      expect(await kubectl("get", "services", "-n", "default", "-o", "wide")).toMatch(
        /kubernetes\s+ClusterIP\s+10\.96\.0\.1\s+<none>\s+443\/TCP/,
      );
    });

    it("get -w streams table rows as the object changes", async () => {
      const name = uniqueName("watch");
      await kubectl("apply", "-f", manifest(name, podYaml(name, { app: name })));
      const child = spawn(
        "/usr/bin/kubectl",
        [
          "--kubeconfig",
          cp.kubeconfigPath,
          "--cache-dir",
          join(dir, "watch-cache"),
          "get",
          "pods",
          "-n",
          ns,
          "-l",
          `app=${name}`,
          "-w",
        ],
        { stdio: ["ignore", "pipe", "pipe"] },
      );
      let out = "";
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
      });
      try {
        await waitFor(() => out.includes(name), { what: "the initial row of kubectl get -w" });
        await kubectl("label", "pod", name, "-n", ns, "step=labeled");
        await waitFor(() => out.trim().split("\n").length >= 3, { what: "a row for the label change" });
        await kubectl("delete", "pod", name, "-n", ns, "--wait=false");
        await waitFor(() => out.trim().split("\n").length >= 4, {
          what: "a row for the deletion",
          timeoutMs: 30_000,
        });
        const lines = out.trim().split("\n");
        expect(lines[0]).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/);
        // Headers are printed once: every later line is a row of the same table.
        for (const line of lines.slice(1))
          expect(line).toMatch(new RegExp(`^${name}\\s+0/1\\s+Pending\\s+0`));
      } finally {
        child.kill("SIGTERM");
      }
    });

    it("describe shows the object and the events recorded about it", async () => {
      const name = uniqueName("desc");
      await kubectl("apply", "-f", manifest(name, podYaml(name, { app: name })));
      const pod = JSON.parse(await kubectl("get", "pod", name, "-n", ns, "-o", "json"));
      const event = [
        "apiVersion: v1",
        "kind: Event",
        "metadata:",
        `  name: ${name}.1`,
        `  namespace: ${ns}`,
        "involvedObject:",
        "  apiVersion: v1",
        "  kind: Pod",
        `  name: ${name}`,
        `  namespace: ${ns}`,
        `  uid: ${pod.metadata.uid}`,
        "reason: Scheduled",
        "message: Successfully assigned the pod to a test node",
        "type: Normal",
        "count: 1",
        "source:",
        "  component: default-scheduler",
        `firstTimestamp: "${new Date().toISOString().slice(0, 19)}Z"`,
        `lastTimestamp: "${new Date().toISOString().slice(0, 19)}Z"`,
        "",
      ].join("\n");
      await kubectl("create", "-f", manifest(`${name}-event`, event));
      const out = await kubectl("describe", "pod", name, "-n", ns);
      expect(out).toMatch(new RegExp(`Name:\\s+${name}`));
      expect(out).toMatch(/Status:\s+Pending/);
      expect(out).toMatch(/Containers:\n\s+main:\n\s+Image:\s+busybox:1.35/);
      expect(out).toMatch(
        /Events:[\s\S]*Normal\s+Scheduled\s+.*default-scheduler\s+Successfully assigned the pod/,
      );
      expect(
        await kubectl("get", "events", "-n", ns, "--field-selector", `involvedObject.name=${name}`),
      ).toContain("Scheduled");
    });

    it("label, annotate and patch with strategic merge, merge and JSON patches", async () => {
      const name = uniqueName("patch");
      await kubectl("apply", "-f", manifest(name, podYaml(name, { app: name })));
      expect(await kubectl("label", "pod", name, "-n", ns, "color=blue")).toContain(`pod/${name} labeled`);
      expect(await kubectl("annotate", "pod", name, "-n", ns, "note=hello")).toContain(
        `pod/${name} annotated`,
      );
      await kubectl(
        "patch",
        "pod",
        name,
        "-n",
        ns,
        "-p",
        '{"spec":{"containers":[{"name":"main","image":"busybox:1.36"}]}}',
      );
      await kubectl(
        "patch",
        "pod",
        name,
        "-n",
        ns,
        "--type=merge",
        "-p",
        '{"metadata":{"labels":{"merged":"yes"}}}',
      );
      await kubectl(
        "patch",
        "pod",
        name,
        "-n",
        ns,
        "--type=json",
        "-p",
        '[{"op":"replace","path":"/metadata/labels/color","value":"green"}]',
      );
      expect(await kubectl("label", "pod", name, "-n", ns, "merged-")).toContain("unlabeled");
      const pod = JSON.parse(
        await kubectl("get", "pod", name, "-n", ns, "-o", "json", "--show-managed-fields"),
      );
      expect(pod.metadata.labels).toEqual({ app: name, color: "green" });
      expect(pod.metadata.annotations.note).toBe("hello");
      expect(pod.spec.containers).toHaveLength(1);
      expect(pod.spec.containers[0].image).toBe("busybox:1.36");
      const managers = pod.metadata.managedFields?.map((m: { manager: string }) => m.manager) ?? [];
      // kubectl-label lost its fields to the JSON patch and its own removal, so it is no longer listed.
      expect(managers).toEqual(expect.arrayContaining(["kubectl-annotate", "kubectl-patch"]));
      // A patch against a field the schema forbids changing is refused with 422 and changes nothing.
      const refused = await cp.kubectl(
        [
          "patch",
          "pod",
          name,
          "-n",
          ns,
          "--type=merge",
          "-p",
          '{"spec":{"containers":[{"name":"other","image":"x"}]}}',
        ],
        { allowFailure: true },
      );
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/is invalid/);
    });

    it("delete waits until the object is gone", async () => {
      const name = uniqueName("del");
      await kubectl("apply", "-f", manifest(name, podYaml(name, { app: name })));
      expect(await kubectl("delete", "pod", name, "-n", ns)).toContain(`pod "${name}" deleted`);
      const after = await cp.kubectl(["get", "pod", name, "-n", ns], { allowFailure: true });
      expect(after.code).not.toBe(0);
      expect(after.stderr).toContain(`pods "${name}" not found`);
    });

    it("create namespace, use it, delete it with everything in it", async () => {
      const name = uniqueName("ns");
      expect(await kubectl("create", "namespace", name)).toContain(`namespace/${name} created`);
      await kubectl("create", "configmap", "settings", "-n", name, "--from-literal=a=b");
      const pod = podYaml("inside", { app: "inside" }).replace(`namespace: ${ns}`, `namespace: ${name}`);
      await kubectl("apply", "-f", manifest(`${name}-pod`, pod));
      expect(await kubectl("get", "namespace", name)).toMatch(new RegExp(`${name}\\s+Active`));
      expect(await kubectl("delete", "namespace", name)).toContain(`namespace "${name}" deleted`);
      const gone = await cp.kubectl(["get", "namespace", name], { allowFailure: true });
      expect(gone.stderr).toContain(`namespaces "${name}" not found`);
      const missing = await cp.kubectl(["create", "configmap", "x", "-n", name], { allowFailure: true });
      expect(missing.stderr).toContain(`namespaces "${name}" not found`);
    });

    it("api-resources, api-versions and explain come from discovery and OpenAPI", async () => {
      const resources = await kubectl("api-resources");
      expect(resources).toMatch(/^pods\s+po\s+v1\s+true\s+Pod$/m);
      expect(resources).toMatch(/^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m);
      expect(resources).toMatch(/^namespaces\s+ns\s+v1\s+false\s+Namespace$/m);
      const versions = (await kubectl("api-versions")).split("\n");
      expect(versions).toEqual(
        expect.arrayContaining(["v1", "apps/v1", "batch/v1", "coordination.k8s.io/v1"]),
      );
      const explain = await kubectl("explain", "pod.spec.containers");
      expect(explain).toMatch(/KIND:\s+Pod/);
      expect(explain).toMatch(/FIELD:\s+containers <\[\]Container>/);
      expect(explain).toMatch(/\n {2}image\s+<string>/);
    });

    it("scale changes spec.replicas through the scale subresource", async () => {
      const name = uniqueName("scale");
      const text = [
        "apiVersion: apps/v1",
        "kind: Deployment",
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
      ].join("\n");
      await kubectl("apply", "-f", manifest(name, text));
      expect(await kubectl("scale", "deployment", name, "-n", ns, "--replicas=3")).toContain(
        `deployment.apps/${name} scaled`,
      );
      const d = JSON.parse(await kubectl("get", "deployment", name, "-n", ns, "-o", "json"));
      expect(d.spec.replicas).toBe(3);
      expect(d.metadata.generation).toBe(2);
      const scale = await cp.fetch(`/apis/apps/v1/namespaces/${ns}/deployments/${name}/scale`);
      expect(await scale.json()).toMatchObject({
        kind: "Scale",
        apiVersion: "autoscaling/v1",
        spec: { replicas: 3 },
        status: { selector: `app=${name}` },
      });
      // A Scale carrying a stale resourceVersion is refused with upstream's conflict.
      const stale = await cp.fetch(`/apis/apps/v1/namespaces/${ns}/deployments/${name}/scale`, {
        method: "PUT",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({
          apiVersion: "autoscaling/v1",
          kind: "Scale",
          metadata: { name, namespace: ns, resourceVersion: "1" },
          spec: { replicas: 5 },
        }),
      });
      expect(stale.status).toBe(409);
      expect(((await stale.json()) as { message: string }).message).toBe(
        `Operation cannot be fulfilled on deployments.apps "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      );
    });

    it("accepts the seed manifests: labelled pod, two-container pod, RC, RS with matchExpressions, namespace", async () => {
      const seedNs = uniqueName("seed");
      const text = [
        "apiVersion: v1",
        "kind: Namespace",
        "metadata:",
        `  name: ${seedNs}`,
        "---",
        "apiVersion: v1",
        "kind: Pod",
        "metadata:",
        "  name: labelled",
        `  namespace: ${seedNs}`,
        "  labels: {app: web, tier: frontend}",
        "spec:",
        "  containers:",
        "  - name: web",
        "    image: busybox:1.35",
        "    command: [httpd, -f, -p, '8080']",
        "    ports:",
        "    - containerPort: 8080",
        "---",
        "apiVersion: v1",
        "kind: Pod",
        "metadata:",
        "  name: two-containers",
        `  namespace: ${seedNs}`,
        "spec:",
        "  containers:",
        "  - name: first",
        "    image: busybox:1.35",
        "    command: [sleep, '3600']",
        "  - name: second",
        "    image: busybox:1.35",
        "    command: [sleep, '3600']",
        "---",
        "apiVersion: v1",
        "kind: ReplicationController",
        "metadata:",
        "  name: rc",
        `  namespace: ${seedNs}`,
        "spec:",
        "  replicas: 2",
        "  selector: {app: rc}",
        "  template:",
        "    metadata:",
        "      labels: {app: rc}",
        "    spec:",
        "      containers:",
        "      - name: main",
        "        image: busybox:1.35",
        "---",
        "apiVersion: apps/v1",
        "kind: ReplicaSet",
        "metadata:",
        "  name: rs",
        `  namespace: ${seedNs}`,
        "spec:",
        "  replicas: 1",
        "  selector:",
        "    matchExpressions:",
        "    - {key: app, operator: In, values: [rs, rs-canary]}",
        "    - {key: track, operator: NotIn, values: [legacy]}",
        "  template:",
        "    metadata:",
        "      labels: {app: rs, track: stable}",
        "    spec:",
        "      containers:",
        "      - name: main",
        "        image: busybox:1.35",
        "",
      ].join("\n");
      const out = await kubectl("apply", "-f", manifest(seedNs, text));
      for (const created of [
        `namespace/${seedNs} created`,
        "pod/labelled created",
        "pod/two-containers created",
        "replicationcontroller/rc created",
        "replicaset.apps/rs created",
      ]) {
        expect(out).toContain(created);
      }
      expect(await kubectl("get", "pods", "-n", seedNs, "-l", "tier=frontend", "-o", "name")).toBe(
        "pod/labelled\n",
      );
      expect(await kubectl("get", "pod", "two-containers", "-n", seedNs)).toMatch(
        /two-containers\s+0\/2\s+Pending/,
      );
      expect(await kubectl("get", "rc", "rc", "-n", seedNs, "-o", "wide")).toMatch(
        /rc\s+2\s+0\s+0\s+\S+\s+main\s+busybox:1.35\s+app=rc/,
      );
      expect(await kubectl("get", "rs", "rs", "-n", seedNs, "-o", "wide")).toMatch(
        /app in \(rs,rs-canary\),track notin \(legacy\)/,
      );
      expect(await kubectl("scale", "rc", "rc", "-n", seedNs, "--replicas=4")).toContain(
        "replicationcontroller/rc scaled",
      );
      expect(await kubectl("scale", "rs", "rs", "-n", seedNs, "--replicas=2")).toContain(
        "replicaset.apps/rs scaled",
      );
      expect(await kubectl("get", "rc", "rc", "-n", seedNs, "-o", "jsonpath={.spec.replicas}")).toBe("4");
      await kubectl("delete", "namespace", seedNs);
    });
  });
}
