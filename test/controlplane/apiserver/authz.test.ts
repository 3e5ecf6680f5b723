// Authorization end to end on a real API server (SQLite storage, the real pipeline): the default bootstrap
// policy, RBAC roles and bindings, the Node authorizer with NodeRestriction, access reviews and kubectl's
// `auth can-i` / `auth whoami`. Users come from a test-only bearer-token authenticator ("Bearer
// user=<name>;groups=<a,b>"), so every rule is tried both ways without certificates.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { IncomingMessage } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openAPIDocuments } from "../../../src/api/openapi.ts";
import { resourceDefinitions } from "../../../src/api/schema/index.ts";
import { schemaPatchEngine } from "../../../src/controlplane/apiserver/patching.ts";
import type { Authenticator, UserInfo } from "../../../src/controlplane/apiserver/pipeline/authentication.ts";
import { ApiServer } from "../../../src/controlplane/apiserver/server.ts";
import { openStorage } from "../../../src/controlplane/storage/index.ts";
import type { Storage } from "../../../src/controlplane/storage/types.ts";
import { requireKubectl } from "../../support/controlplane.ts";
import { uniqueName } from "../../support/names.ts";
import { run } from "../../support/run.ts";
import { waitFor } from "../../support/wait.ts";
import { call } from "./http.ts";

/**
 * Test-only: the bearer token spells out the user; no token is system:anonymous. kubectl sends no bearer
 * token over plain HTTP, so its requests (which impersonate with --as) come from an administrator.
 */
function tokenAuthenticator(): Authenticator {
  return {
    name: "test-tokens",
    authenticate(req: IncomingMessage): UserInfo {
      if (req.headers["impersonate-user"] && !req.headers.authorization) {
        return { name: "kubectl-admin", groups: ["system:masters", "system:authenticated"] };
      }
      const header = req.headers.authorization ?? "";
      if (!header.startsWith("Bearer ")) {
        return { name: "system:anonymous", groups: ["system:unauthenticated"] };
      }
      const fields = new URLSearchParams(header.slice("Bearer ".length).replaceAll(";", "&"));
      const groups = (fields.get("groups") ?? "").split(",").filter((g) => g !== "");
      return { name: fields.get("user") ?? "", groups: [...groups, "system:authenticated"] };
    },
  };
}

const ADMIN = "Bearer user=admin;groups=system:masters";
const nodeToken = (node: string) => `Bearer user=system:node:${node};groups=system:nodes`;

describe("authorization", () => {
  let dir: string;
  let storage: Storage;
  let server: ApiServer;
  let url: string;
  const ns = uniqueName("authz");
  const nodeA = uniqueName("node-a");
  const nodeB = uniqueName("node-b");
  const as = (token: string | undefined) => ({
    fetch: (path: string, init: RequestInit = {}) =>
      fetch(`${url}${path}`, {
        ...init,
        headers: { ...(init.headers as Record<string, string>), ...(token ? { Authorization: token } : {}) },
      }),
  });
  const admin = as(ADMIN);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "deckhand-authz-"));
    storage = await openStorage("sqlite", dir);
    server = new ApiServer({
      storage,
      definitions: resourceDefinitions,
      patch: schemaPatchEngine(),
      openapi: () => openAPIDocuments(resourceDefinitions),
      serviceCidr: "10.96.0.0/12",
      nodePortRange: "30000-32767",
      log: pino({ level: "warn" }),
      compactionIntervalMs: 0,
      authenticators: [tokenAuthenticator()],
    });
    const address = await server.listen("127.0.0.1", 0);
    await server.start();
    url = `http://127.0.0.1:${address.port}`;
    expect((await call(admin, "POST", "/api/v1/namespaces", { metadata: { name: ns } })).status).toBe(201);
  });

  afterAll(async () => {
    await server?.close();
    await storage?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe("default policy", () => {
    it("creates upstream's cluster roles and bindings, labelled and marked for auto-update", async () => {
      for (const name of [
        "cluster-admin",
        "admin",
        "edit",
        "view",
        "system:basic-user",
        "system:discovery",
        "system:public-info-viewer",
        "system:node-bootstrapper",
        "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
        "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
      ]) {
        const res = await call(admin, "GET", `/apis/rbac.authorization.k8s.io/v1/clusterroles/${name}`);
        expect(res.status, name).toBe(200);
        expect(res.body.metadata).toMatchObject({
          labels: { "kubernetes.io/bootstrapping": "rbac-defaults" },
          annotations: { "rbac.authorization.kubernetes.io/autoupdate": "true" },
        });
      }
      const binding = await call(
        admin,
        "GET",
        "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/cluster-admin",
      );
      expect(binding.body).toMatchObject({
        roleRef: { kind: "ClusterRole", name: "cluster-admin" },
        subjects: [{ kind: "Group", name: "system:masters" }],
      });
    });

    it("lets anonymous users read health and version but not the API", async () => {
      const anonymous = as(undefined);
      expect((await anonymous.fetch("/healthz")).status).toBe(200);
      expect((await anonymous.fetch("/version")).status).toBe(200);
      // Without credentials, what is not allowed asks for them (401) rather than being forbidden.
      const api = await call(anonymous, "GET", "/api");
      expect(api.status).toBe(401);
      expect((await anonymous.fetch(`/api/v1/namespaces/${ns}/pods`)).status).toBe(401);
      const bob = await call(as("Bearer user=bob"), "GET", `/api/v1/namespaces/${ns}/pods`);
      expect(bob.status).toBe(403);
      expect(bob.body).toMatchObject({
        kind: "Status",
        reason: "Forbidden",
        details: { kind: "pods" },
        message: `pods is forbidden: User "bob" cannot list resource "pods" in API group "" in the namespace "${ns}"`,
      });
      const path = await call(as("Bearer user=bob"), "GET", "/logs");
      expect(path.status).toBe(403);
      expect(path.body.message).toBe('forbidden: User "bob" cannot get path "/logs"');
    });

    it("lets anonymous users read kube-public's cluster-info and nothing else there", async () => {
      await call(admin, "POST", "/api/v1/namespaces/kube-public/configmaps", {
        metadata: { name: "cluster-info" },
        data: { kubeconfig: "x" },
      });
      await call(admin, "POST", "/api/v1/namespaces/kube-public/configmaps", { metadata: { name: "other" } });
      const anonymous = as(undefined);
      expect((await anonymous.fetch("/api/v1/namespaces/kube-public/configmaps/cluster-info")).status).toBe(
        200,
      );
      expect((await anonymous.fetch("/api/v1/namespaces/kube-public/configmaps/other")).status).toBe(401);
      expect((await anonymous.fetch("/api/v1/namespaces/kube-public/configmaps")).status).toBe(401);
    });

    it("lets authenticated users discover the API and review their own access", async () => {
      const bob = as("Bearer user=bob");
      expect((await bob.fetch("/api")).status).toBe(200);
      expect((await bob.fetch("/apis/apps/v1")).status).toBe(200);
      expect((await bob.fetch(`/api/v1/namespaces/${ns}/pods`)).status).toBe(403);
      const review = await call(bob, "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", {
        apiVersion: "authorization.k8s.io/v1",
        kind: "SelfSubjectAccessReview",
        spec: { resourceAttributes: { verb: "list", resource: "pods", namespace: ns } },
      });
      expect(review.status).toBe(201);
      expect(review.body.status).toEqual({ allowed: false });
    });

    it("puts back default rules an administrator removed, but keeps rules they added", async () => {
      const path = "/apis/rbac.authorization.k8s.io/v1/clusterroles/system:basic-user";
      const role = (await call<{ rules: unknown[] }>(admin, "GET", path)).body;
      const extra = { verbs: ["get"], apiGroups: ["example.com"], resources: ["widgets"] };
      const edited = await call(admin, "PUT", path, { ...role, rules: [extra] });
      expect(edited.status).toBe(200);
      await server.close();
      server = new ApiServer({
        storage,
        definitions: resourceDefinitions,
        patch: schemaPatchEngine(),
        serviceCidr: "10.96.0.0/12",
        nodePortRange: "30000-32767",
        log: pino({ level: "warn" }),
        compactionIntervalMs: 0,
        authenticators: [tokenAuthenticator()],
      });
      const address = await server.listen("127.0.0.1", 0);
      await server.start();
      url = `http://127.0.0.1:${address.port}`;
      const after = (await call<{ rules: unknown[] }>(admin, "GET", path)).body;
      expect(after.rules).toEqual([extra, ...role.rules]);
    });
  });

  describe("RBAC", () => {
    const carol = as("Bearer user=carol;groups=readers");
    const dave = as("Bearer user=dave");

    it("grants a Role's rules to the users and groups a RoleBinding names, only in its namespace", async () => {
      const roles = `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/roles`;
      const created = await call(admin, "POST", roles, {
        metadata: { name: "pod-reader" },
        rules: [
          { apiGroups: [""], resources: ["pods", "pods/log"], verbs: ["get", "list"] },
          { apiGroups: [""], resources: ["configmaps"], resourceNames: ["allowed"], verbs: ["get"] },
        ],
      });
      expect(created.status).toBe(201);
      const binding = await call(
        admin,
        "POST",
        `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings`,
        {
          metadata: { name: "readers" },
          roleRef: { kind: "Role", name: "pod-reader" },
          subjects: [{ kind: "Group", name: "readers" }],
        },
      );
      expect(binding.status).toBe(201);
      // Defaults: roleRef and Group subjects belong to rbac.authorization.k8s.io.
      expect(binding.body).toMatchObject({
        roleRef: { apiGroup: "rbac.authorization.k8s.io" },
        subjects: [{ apiGroup: "rbac.authorization.k8s.io" }],
      });
      await call(admin, "POST", `/api/v1/namespaces/${ns}/configmaps`, { metadata: { name: "allowed" } });
      await call(admin, "POST", `/api/v1/namespaces/${ns}/configmaps`, { metadata: { name: "denied" } });

      await waitFor(async () => (await carol.fetch(`/api/v1/namespaces/${ns}/pods`)).status === 200, {
        what: "the RoleBinding to take effect",
      });
      expect((await carol.fetch(`/api/v1/namespaces/${ns}/configmaps/allowed`)).status).toBe(200);
      const denied = await call(carol, "GET", `/api/v1/namespaces/${ns}/configmaps/denied`);
      expect(denied.status).toBe(403);
      expect(denied.body.message).toBe(
        `configmaps "denied" is forbidden: User "carol" cannot get resource "configmaps" in API group "" in the namespace "${ns}"`,
      );
      expect((await carol.fetch(`/api/v1/namespaces/${ns}/configmaps`)).status).toBe(403);
      expect((await carol.fetch(`/api/v1/namespaces/${ns}/pods`, { method: "DELETE" })).status).toBe(403);
      expect((await carol.fetch("/api/v1/namespaces/default/pods")).status).toBe(403);
      expect((await carol.fetch("/api/v1/pods")).status).toBe(403);
      expect((await dave.fetch(`/api/v1/namespaces/${ns}/pods`)).status).toBe(403);
    });

    it("grants a ClusterRole cluster-wide through a ClusterRoleBinding, and per namespace through a RoleBinding", async () => {
      const base = "/apis/rbac.authorization.k8s.io/v1";
      await call(admin, "POST", `${base}/clusterroles`, {
        metadata: { name: `${ns}-node-reader` },
        rules: [
          { apiGroups: [""], resources: ["nodes"], verbs: ["list"] },
          { nonResourceURLs: ["/metrics", "/logs/*"], verbs: ["get"] },
        ],
      });
      await call(admin, "POST", `${base}/clusterrolebindings`, {
        metadata: { name: `${ns}-dave-nodes` },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: `${ns}-node-reader` },
        subjects: [{ kind: "User", name: "dave" }],
      });
      await waitFor(async () => (await dave.fetch("/api/v1/nodes")).status === 200, {
        what: "dave's binding",
      });
      const reviews = "/apis/authorization.k8s.io/v1/subjectaccessreviews";
      const ask = async (nonResourceAttributes: { path: string; verb: string }) =>
        (
          await call<{ status: { allowed: boolean } }>(admin, "POST", reviews, {
            spec: { user: "dave", nonResourceAttributes },
          })
        ).body.status.allowed;
      expect(await ask({ path: "/metrics", verb: "get" })).toBe(true);
      expect(await ask({ path: "/logs/kube", verb: "get" })).toBe(true);
      expect(await ask({ path: "/logsx", verb: "get" })).toBe(false);
      expect(await ask({ path: "/metrics", verb: "post" })).toBe(false);
      expect((await dave.fetch("/api/v1/nodes/x")).status).toBe(403);

      // The built-in view ClusterRole, bound in one namespace only.
      await call(admin, "POST", `${base}/namespaces/${ns}/rolebindings`, {
        metadata: { name: "dave-view" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "view" },
        subjects: [{ kind: "User", name: "dave" }],
      });
      await waitFor(
        async () => (await dave.fetch(`/apis/apps/v1/namespaces/${ns}/deployments`)).status === 200,
        {
          what: "dave's view binding",
        },
      );
      expect((await dave.fetch("/apis/apps/v1/namespaces/default/deployments")).status).toBe(403);
      expect((await dave.fetch(`/api/v1/namespaces/${ns}/secrets`)).status).toBe(403);
      expect(
        (await dave.fetch(`/api/v1/namespaces/${ns}/configmaps`, { method: "POST", body: "{}" })).status,
      ).toBe(403);
    });

    it("extends view, edit and admin with ClusterRoles labelled to aggregate into them", async () => {
      const base = "/apis/rbac.authorization.k8s.io/v1";
      await call(admin, "POST", `${base}/clusterrolebindings`, {
        metadata: { name: `${ns}-victor-view` },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "view" },
        subjects: [{ kind: "User", name: "victor" }],
      });
      const victor = as("Bearer user=victor");
      await waitFor(async () => (await victor.fetch("/api/v1/pods")).status === 200, {
        what: "victor's view",
      });
      expect((await victor.fetch("/api/v1/nodes")).status).toBe(403);
      const extension = await call(admin, "POST", `${base}/clusterroles`, {
        metadata: {
          name: `${ns}-nodes-to-view`,
          labels: { "rbac.authorization.k8s.io/aggregate-to-view": "true" },
        },
        rules: [{ apiGroups: [""], resources: ["nodes"], verbs: ["list"] }],
      });
      expect(extension.status).toBe(201);
      await waitFor(async () => (await victor.fetch("/api/v1/nodes")).status === 200, {
        what: "view to aggregate the new role",
      });
      const adminRole = await call<{ rules: Array<{ resources?: string[] }> }>(
        admin,
        "GET",
        `${base}/clusterroles/admin`,
      );
      expect(adminRole.body.rules.some((r) => r.resources?.includes("nodes"))).toBe(true);
      expect((await call(admin, "DELETE", `${base}/clusterroles/${ns}-nodes-to-view`)).status).toBe(200);
      await waitFor(async () => (await victor.fetch("/api/v1/nodes")).status === 403, {
        what: "view to drop the deleted role's rules",
      });
    });

    it("lets users grant only what they hold, unless they may escalate or bind", async () => {
      const base = `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}`;
      await call(admin, "POST", `${base}/rolebindings`, {
        metadata: { name: "ann-admin" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "admin" },
        subjects: [{ kind: "User", name: "ann" }],
      });
      const ann = as("Bearer user=ann");
      const role = (name: string, rules: object[]) =>
        call(ann, "POST", `${base}/roles`, { metadata: { name }, rules });
      await waitFor(
        async () =>
          (await role("ann-pods", [{ apiGroups: [""], resources: ["pods"], verbs: ["get"] }])).status === 201,
        {
          what: "ann's admin binding",
        },
      );
      const everything = await role("ann-all", [{ apiGroups: ["*"], resources: ["*"], verbs: ["*"] }]);
      expect(everything.status).toBe(403);
      expect(everything.body.message).toContain(
        'roles.rbac.authorization.k8s.io "ann-all" is forbidden: user "ann" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:',
      );
      expect(everything.body.message).toContain('{APIGroups:["*"], Resources:["*"], Verbs:["*"]}');
      const bind = (name: string, clusterRole: string) =>
        call(ann, "POST", `${base}/rolebindings`, {
          metadata: { name },
          roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: clusterRole },
          subjects: [{ kind: "User", name: "ben" }],
        });
      expect((await bind("ben-view", "view")).status).toBe(201);
      const clusterAdmin = await bind("ben-cluster-admin", "cluster-admin");
      expect(clusterAdmin.status).toBe(403);
      expect(clusterAdmin.body.message).toContain("attempting to grant RBAC permissions not currently held");
      // Relabelling a role grants nothing new, so it needs no extra rights.
      const relabel = await call(
        ann,
        "PATCH",
        `${base}/roles/ann-pods`,
        { metadata: { labels: { a: "b" } } },
        {
          "Content-Type": "application/merge-patch+json",
        },
      );
      expect(relabel.status).toBe(200);

      // The bind and escalate verbs lift the check.
      await call(admin, "POST", `${base}/roles`, {
        metadata: { name: "binder" },
        rules: [
          {
            apiGroups: ["rbac.authorization.k8s.io"],
            resources: ["clusterroles"],
            verbs: ["bind"],
            resourceNames: ["cluster-admin"],
          },
          { apiGroups: ["rbac.authorization.k8s.io"], resources: ["roles"], verbs: ["escalate"] },
        ],
      });
      await call(admin, "POST", `${base}/rolebindings`, {
        metadata: { name: "ann-binder" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "binder" },
        subjects: [{ kind: "User", name: "ann" }],
      });
      await waitFor(async () => (await bind("ben-cluster-admin", "cluster-admin")).status === 201, {
        what: "ann's bind permission",
      });
      expect((await role("ann-all", [{ apiGroups: ["*"], resources: ["*"], verbs: ["*"] }])).status).toBe(
        201,
      );
    });

    it("names service accounts by namespace", async () => {
      await call(admin, "POST", `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings`, {
        metadata: { name: "robot-edit" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "edit" },
        subjects: [{ kind: "ServiceAccount", name: "robot" }],
      });
      const robot = as(`Bearer user=system:serviceaccount:${ns}:robot;groups=system:serviceaccounts`);
      const impostor = as("Bearer user=system:serviceaccount:default:robot;groups=system:serviceaccounts");
      await waitFor(async () => (await robot.fetch(`/api/v1/namespaces/${ns}/secrets`)).status === 200, {
        what: "the service account's binding",
      });
      expect((await impostor.fetch(`/api/v1/namespaces/${ns}/secrets`)).status).toBe(403);
      expect((await robot.fetch(`/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/roles`)).status).toBe(
        403,
      );
    });

    it("reports a binding to a missing role in the reason", async () => {
      await call(admin, "POST", `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings`, {
        metadata: { name: "ghost" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "ghost" },
        subjects: [{ kind: "User", name: "erin" }],
      });
      const erin = as("Bearer user=erin");
      await waitFor(
        async () =>
          String((await call(erin, "GET", `/api/v1/namespaces/${ns}/pods`)).body.message).includes("ghost"),
        { what: "the ghost binding" },
      );
      const res = await call(erin, "GET", `/api/v1/namespaces/${ns}/pods`);
      expect(res.body.message).toBe(
        `pods is forbidden: User "erin" cannot list resource "pods" in API group "" in the namespace "${ns}": RBAC: role.rbac.authorization.k8s.io "ghost" not found`,
      );
    });

    it("validates roles and bindings like upstream; roleRef never changes", async () => {
      const base = `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}`;
      const role = await call(admin, "POST", `${base}/roles`, {
        metadata: { name: "bad" },
        rules: [{ verbs: [], nonResourceURLs: ["/x"] }, { verbs: ["get"] }],
      });
      expect(role.status).toBe(422);
      expect(role.body.message).toContain(
        "rules[0].verbs: Required value: verbs must contain at least one value",
      );
      expect(role.body.message).toContain("namespaced rules cannot apply to non-resource URLs");
      expect(role.body.message).toContain(
        "rules[1].apiGroups: Required value: resource rules must supply at least one api group",
      );
      const binding = await call(admin, "POST", `${base}/rolebindings`, {
        metadata: { name: "bad" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Secret", name: "x" },
        subjects: [
          { kind: "Robot", name: "r" },
          { kind: "User", name: "u", apiGroup: "v1" },
        ],
      });
      expect(binding.status).toBe(422);
      expect(binding.body.message).toContain('roleRef.kind: Unsupported value: "Secret"');
      expect(binding.body.message).toContain('subjects[0].kind: Unsupported value: "Robot"');
      expect(binding.body.message).toContain('subjects[1].apiGroup: Unsupported value: "v1"');
      const crb = await call(admin, "POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", {
        metadata: { name: `${ns}-bad` },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "x" },
        subjects: [{ kind: "ServiceAccount", name: "sa" }],
      });
      expect(crb.status).toBe(422);
      expect(crb.body.message).toContain('roleRef.kind: Unsupported value: "Role"');
      expect(crb.body.message).toContain("subjects[0].namespace: Required value");
      const patched = await call(
        admin,
        "PATCH",
        `${base}/rolebindings/readers`,
        '{"roleRef":{"name":"other"}}',
        {
          "Content-Type": "application/merge-patch+json",
        },
      );
      expect(patched.status).toBe(422);
      expect(patched.body.message).toContain("roleRef: Invalid value");
      expect(patched.body.message).toContain("cannot change roleRef");
    });
  });

  describe("nodes", () => {
    const a = as(nodeToken(nodeA));
    const b = as(nodeToken(nodeB));
    let nodeAUid = "";

    beforeAll(async () => {
      const created = await call<{ metadata: { uid: string } }>(a, "POST", "/api/v1/nodes", {
        metadata: { name: nodeA, labels: { "kubernetes.io/hostname": nodeA } },
      });
      expect(created.status).toBe(201);
      nodeAUid = created.body.metadata.uid;
      expect((await call(b, "POST", "/api/v1/nodes", { metadata: { name: nodeB } })).status).toBe(201);
      for (const name of ["bound-secret", "other-secret", "pull-secret"]) {
        await call(admin, "POST", `/api/v1/namespaces/${ns}/secrets`, { metadata: { name }, data: {} });
      }
      for (const name of ["bound-config", "other-config"]) {
        await call(admin, "POST", `/api/v1/namespaces/${ns}/configmaps`, { metadata: { name } });
      }
      const pod = (name: string, node: string, secret: string, config: string) => ({
        metadata: { name },
        spec: {
          nodeName: node,
          imagePullSecrets: name === "on-a" ? [{ name: "pull-secret" }] : [],
          containers: [
            {
              name: "c",
              image: "busybox",
              env: [{ name: "X", valueFrom: { configMapKeyRef: { name: config, key: "k" } } }],
            },
          ],
          volumes: [{ name: "s", secret: { secretName: secret } }],
        },
      });
      expect(
        (
          await call(
            admin,
            "POST",
            `/api/v1/namespaces/${ns}/pods`,
            pod("on-a", nodeA, "bound-secret", "bound-config"),
          )
        ).status,
      ).toBe(201);
      expect(
        (
          await call(
            admin,
            "POST",
            `/api/v1/namespaces/${ns}/pods`,
            pod("on-b", nodeB, "other-secret", "other-config"),
          )
        ).status,
      ).toBe(201);
    });

    it("reads only the Secrets and ConfigMaps of pods bound to the node", async () => {
      await waitFor(
        async () => (await a.fetch(`/api/v1/namespaces/${ns}/secrets/bound-secret`)).status === 200,
        {
          what: "the node graph to see the pod",
        },
      );
      expect((await a.fetch(`/api/v1/namespaces/${ns}/secrets/pull-secret`)).status).toBe(200);
      expect((await a.fetch(`/api/v1/namespaces/${ns}/configmaps/bound-config`)).status).toBe(200);
      const other = await call(a, "GET", `/api/v1/namespaces/${ns}/secrets/other-secret`);
      expect(other.status).toBe(403);
      expect(other.body.message).toBe(
        `secrets "other-secret" is forbidden: User "system:node:${nodeA}" cannot get resource "secrets" in API group "" in the namespace "${ns}": no relationship found between node '${nodeA}' and this object`,
      );
      expect((await a.fetch(`/api/v1/namespaces/${ns}/configmaps/other-config`)).status).toBe(403);
      expect((await a.fetch(`/api/v1/namespaces/${ns}/secrets`)).status).toBe(403);
      const write = await call(a, "DELETE", `/api/v1/namespaces/${ns}/secrets/bound-secret`);
      expect(write.status).toBe(403);
      expect(write.body.message).toContain("can only read resources of this type");
      expect((await b.fetch(`/api/v1/namespaces/${ns}/secrets/other-secret`)).status).toBe(200);
      expect((await b.fetch(`/api/v1/namespaces/${ns}/secrets/bound-secret`)).status).toBe(403);
    });

    it("loses access once the pod is gone", async () => {
      await call(admin, "POST", `/api/v1/namespaces/${ns}/secrets`, { metadata: { name: "short-lived" } });
      await call(admin, "POST", `/api/v1/namespaces/${ns}/pods`, {
        metadata: { name: "short" },
        spec: {
          nodeName: nodeA,
          containers: [{ name: "c", image: "busybox" }],
          volumes: [{ name: "s", secret: { secretName: "short-lived" } }],
        },
      });
      const path = `/api/v1/namespaces/${ns}/secrets/short-lived`;
      await waitFor(async () => (await a.fetch(path)).status === 200, { what: "access through the pod" });
      await call(admin, "DELETE", `/api/v1/namespaces/${ns}/pods/short?gracePeriodSeconds=0`);
      await waitFor(async () => (await a.fetch(path)).status === 403, { what: "access to end with the pod" });
    });

    it("reads pods, services, endpoints, EndpointSlices and nodes, but not namespaces or deployments", async () => {
      for (const path of [
        "/api/v1/pods",
        `/api/v1/namespaces/${ns}/services`,
        `/api/v1/namespaces/${ns}/endpoints`,
        "/apis/discovery.k8s.io/v1/endpointslices",
        "/api/v1/nodes",
        `/api/v1/nodes/${nodeB}`,
      ]) {
        expect((await a.fetch(path)).status, path).toBe(200);
      }
      expect((await a.fetch("/api/v1/namespaces")).status).toBe(403);
      expect((await a.fetch(`/apis/apps/v1/namespaces/${ns}/deployments`)).status).toBe(403);
      expect(
        (await a.fetch(`/api/v1/namespaces/${ns}/services`, { method: "POST", body: "{}" })).status,
      ).toBe(403);
    });

    it("writes only its own Node, never its taints or restricted labels", async () => {
      const merge = { "Content-Type": "application/merge-patch+json" };
      const own = await call(
        a,
        "PATCH",
        `/api/v1/nodes/${nodeA}`,
        { metadata: { labels: { role: "x" } } },
        merge,
      );
      expect(own.status).toBe(200);
      const status = await call(
        a,
        "PATCH",
        `/api/v1/nodes/${nodeA}/status`,
        { status: { phase: "Running" } },
        merge,
      );
      expect(status.status).toBe(200);
      const other = await call(
        a,
        "PATCH",
        `/api/v1/nodes/${nodeB}`,
        { metadata: { labels: { x: "y" } } },
        merge,
      );
      expect(other.status).toBe(403);
      expect(other.body.message).toBe(
        `nodes "${nodeB}" is forbidden: node "${nodeA}" is not allowed to modify node "${nodeB}"`,
      );
      const otherStatus = await call(a, "PATCH", `/api/v1/nodes/${nodeB}/status`, { status: {} }, merge);
      expect(otherStatus.status).toBe(403);
      const taints = await call(
        a,
        "PATCH",
        `/api/v1/nodes/${nodeA}`,
        { spec: { taints: [{ key: "k", effect: "NoSchedule" }] } },
        merge,
      );
      expect(taints.status).toBe(403);
      expect(taints.body.message).toContain("is not allowed to modify taints");
      const label = await call(
        a,
        "PATCH",
        `/api/v1/nodes/${nodeA}`,
        {
          metadata: {
            labels: { "node-restriction.kubernetes.io/pool": "gold", "node.kubernetes.io/fine": "yes" },
          },
        },
        merge,
      );
      expect(label.status).toBe(403);
      expect(label.body.message).toContain(
        "is not allowed to modify labels: node-restriction.kubernetes.io/pool",
      );
      const create = await call(a, "POST", "/api/v1/nodes", { metadata: { name: `${nodeA}-x` } });
      expect(create.status).toBe(403);
      expect((await a.fetch(`/api/v1/nodes/${nodeA}`, { method: "DELETE" })).status).toBe(403);
      // An administrator may do what the node may not.
      expect(
        (await call(admin, "PATCH", `/api/v1/nodes/${nodeB}`, { metadata: { labels: { x: "y" } } }, merge))
          .status,
      ).toBe(200);
    });

    it("writes only its own Lease in kube-node-lease", async () => {
      const leases = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases";
      const lease = (name: string) => ({ metadata: { name }, spec: { holderIdentity: name } });
      expect((await call(a, "POST", leases, lease(nodeA))).status).toBe(201);
      const merge = { "Content-Type": "application/merge-patch+json" };
      expect(
        (await call(a, "PATCH", `${leases}/${nodeA}`, { spec: { leaseDurationSeconds: 40 } }, merge)).status,
      ).toBe(200);
      const foreign = await call(a, "POST", leases, lease(nodeB));
      expect(foreign.status).toBe(403);
      expect(foreign.body.message).toContain(
        "can only access node lease with the same name as the requesting node",
      );
      expect((await call(b, "POST", leases, lease(nodeB))).status).toBe(201);
      expect((await a.fetch(`${leases}/${nodeB}`)).status).toBe(403);
      const elsewhere = await call(a, "GET", `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/${nodeA}`);
      expect(elsewhere.status).toBe(403);
      expect(elsewhere.body.message).toContain(
        'can only access leases in the "kube-node-lease" system namespace',
      );
    });

    it("updates the status of and deletes only pods bound to it", async () => {
      const merge = { "Content-Type": "application/merge-patch+json" };
      const pods = `/api/v1/namespaces/${ns}/pods`;
      expect(
        (await call(a, "PATCH", `${pods}/on-a/status`, { status: { message: "hi" } }, merge)).status,
      ).toBe(200);
      const foreign = await call(a, "PATCH", `${pods}/on-b/status`, { status: { message: "hi" } }, merge);
      expect(foreign.status).toBe(403);
      expect(foreign.body.message).toContain(
        `node "${nodeA}" can only update pod status for pods with spec.nodeName set to itself`,
      );
      const spec = await call(a, "PATCH", `${pods}/on-a`, { metadata: { labels: { a: "b" } } }, merge);
      expect(spec.status).toBe(403);
      const deleteForeign = await call(a, "DELETE", `${pods}/on-b`);
      expect(deleteForeign.status).toBe(403);
      expect(deleteForeign.body.message).toContain("can only delete pods with spec.nodeName set to itself");
    });

    it("evicts only pods bound to it", async () => {
      const pods = `/api/v1/namespaces/${ns}/pods`;
      await call(admin, "POST", pods, {
        metadata: { name: "evictable" },
        spec: { nodeName: nodeA, containers: [{ name: "c", image: "busybox" }] },
      });
      const eviction = (name: string) => ({
        apiVersion: "policy/v1",
        kind: "Eviction",
        metadata: { name, namespace: ns },
      });
      const foreign = await call(a, "POST", `${pods}/on-b/eviction`, eviction("on-b"));
      expect(foreign.status).toBe(403);
      expect(foreign.body.message).toContain("spec.nodeName set to itself");
      expect((await call(admin, "GET", `${pods}/on-b`)).status).toBe(200);
      const own = await call(a, "POST", `${pods}/evictable/eviction`, eviction("evictable"));
      expect(own.status).toBe(201);
    });

    it("creates only mirror pods bound to itself and owned by its Node", async () => {
      const pods = `/api/v1/namespaces/${ns}/pods`;
      const mirror = (name: string, extra: { spec?: object; owner?: object; annotations?: object } = {}) => ({
        metadata: {
          name,
          annotations: extra.annotations ?? { "kubernetes.io/config.mirror": "abc" },
          ownerReferences: [
            { apiVersion: "v1", kind: "Node", name: nodeA, uid: nodeAUid, controller: true, ...extra.owner },
          ],
        },
        spec: { nodeName: nodeA, containers: [{ name: "c", image: "busybox" }], ...extra.spec },
      });
      const ok = await call(a, "POST", pods, mirror("static-ok"));
      expect(ok.status).toBe(201);
      const cases: Array<[string, ReturnType<typeof mirror>, string]> = [
        ["plain", mirror("plain", { annotations: {} }), `can only create mirror pods`],
        [
          "elsewhere",
          mirror("elsewhere", { spec: { nodeName: nodeB } }),
          "can only create pods with spec.nodeName set to itself",
        ],
        [
          "not-owned",
          mirror("not-owned", { owner: { name: nodeB } }),
          "can only create pods with an owner reference set to itself",
        ],
        [
          "wrong-uid",
          mirror("wrong-uid", { owner: { uid: "nope" } }),
          "the UID in the owner reference does not match",
        ],
        [
          "with-secret",
          mirror("with-secret", {
            spec: { volumes: [{ name: "s", secret: { secretName: "other-secret" } }] },
          }),
          "can not create pods that reference secrets",
        ],
        [
          "with-sa",
          mirror("with-sa", { spec: { serviceAccountName: "default" } }),
          "can not create pods that reference a service account",
        ],
      ];
      for (const [name, body, message] of cases) {
        const res = await call(a, "POST", pods, body);
        expect(res.status, name).toBe(403);
        expect(res.body.message, name).toContain(message);
      }
      expect((await a.fetch(`${pods}/static-ok`, { method: "DELETE" })).status).toBe(200);
    });

    it("creates events and CSRs, and is refused everything else with a reason", async () => {
      const event = await call(a, "POST", `/api/v1/namespaces/${ns}/events`, {
        metadata: { name: `${nodeA}.1` },
        involvedObject: { kind: "Node", name: nodeA },
        reason: "Starting",
        message: "x",
      });
      expect(event.status).toBe(201);
      expect((await a.fetch("/apis/certificates.k8s.io/v1/certificatesigningrequests")).status).toBe(200);
      const rbac = await call(a, "GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles");
      expect(rbac.status).toBe(403);
      // A user that claims a node name without the group is not a node.
      const impostor = as(`Bearer user=system:node:${nodeA}`);
      expect((await impostor.fetch(`/api/v1/namespaces/${ns}/secrets/bound-secret`)).status).toBe(403);
      const nameless = await call(as("Bearer user=system:node:;groups=system:nodes"), "GET", "/api/v1/nodes");
      expect(nameless.status).toBe(403);
      expect(nameless.body.message).toContain("unknown node");
    });
  });

  describe("access reviews", () => {
    const reviews = "/apis/authorization.k8s.io/v1";

    it("answers SubjectAccessReviews for any user, with the reason", async () => {
      const allowed = await call(admin, "POST", `${reviews}/subjectaccessreviews`, {
        spec: {
          user: "carol",
          groups: ["readers"],
          resourceAttributes: { namespace: ns, verb: "get", resource: "pods" },
        },
      });
      expect(allowed.status).toBe(201);
      expect(allowed.body.status).toEqual({
        allowed: true,
        reason: `RBAC: allowed by RoleBinding "readers/${ns}" of Role "pod-reader" to Group "readers"`,
      });
      const node = await call(admin, "POST", `${reviews}/subjectaccessreviews`, {
        spec: {
          user: `system:node:${nodeA}`,
          groups: ["system:nodes"],
          resourceAttributes: { namespace: ns, verb: "get", resource: "secrets", name: "other-secret" },
        },
      });
      expect(node.body.status).toEqual({
        allowed: false,
        reason: `no relationship found between node '${nodeA}' and this object`,
      });
      const local = await call(
        admin,
        "POST",
        `/apis/authorization.k8s.io/v1/namespaces/${ns}/localsubjectaccessreviews`,
        {
          metadata: { namespace: ns },
          spec: {
            user: "carol",
            groups: ["readers"],
            resourceAttributes: { namespace: ns, verb: "delete", resource: "pods" },
          },
        },
      );
      expect(local.status).toBe(201);
      expect((local.body.status as { allowed: boolean }).allowed).toBe(false);
    });

    it("refuses malformed reviews precisely, and SubjectAccessReviews from users who may not ask", async () => {
      const both = await call(admin, "POST", `${reviews}/selfsubjectaccessreviews`, {
        spec: { resourceAttributes: { verb: "get" }, nonResourceAttributes: { path: "/x", verb: "get" } },
      });
      expect(both.status).toBe(422);
      expect(both.body.message).toContain("spec.nonResourceAttributes: Invalid value");
      expect(both.body.message).toContain("cannot be specified in combination with resourceAttributes");
      const neither = await call(admin, "POST", `${reviews}/selfsubjectaccessreviews`, { spec: {} });
      expect(neither.status).toBe(422);
      expect(neither.body.message).toContain(
        "exactly one of nonResourceAttributes or resourceAttributes must be specified",
      );
      const nobody = await call(admin, "POST", `${reviews}/subjectaccessreviews`, {
        spec: { resourceAttributes: { verb: "get", resource: "pods" } },
      });
      expect(nobody.status).toBe(422);
      expect(nobody.body.message).toContain("at least one of user or group must be specified");
      const mismatch = await call(admin, "POST", `${reviews}/namespaces/${ns}/localsubjectaccessreviews`, {
        spec: { user: "x", resourceAttributes: { namespace: "elsewhere", verb: "get", resource: "pods" } },
      });
      expect(mismatch.status).toBe(422);
      expect(mismatch.body.message).toContain("must match metadata.namespace");
      const bad = await call(admin, "POST", `${reviews}/selfsubjectaccessreviews`, "{not json", {
        "Content-Type": "application/json",
      });
      expect(bad.status).toBe(400);
      const unauthorised = await call(as("Bearer user=carol"), "POST", `${reviews}/subjectaccessreviews`, {
        spec: { user: "x", resourceAttributes: { verb: "get", resource: "pods" } },
      });
      expect(unauthorised.status).toBe(403);
      expect((await as("Bearer user=carol").fetch(`${reviews}/selfsubjectaccessreviews`)).status).toBe(403);
    });
  });

  describe("impersonation", () => {
    it("acts as another user only when the requester may impersonate them", async () => {
      const impersonating = (token: string, headers: Record<string, string>) =>
        call(as(token), "GET", `/api/v1/namespaces/${ns}/pods`, undefined, headers);
      const refused = await impersonating("Bearer user=mallory", { "Impersonate-User": "admin" });
      expect(refused.status).toBe(403);
      expect(refused.body.message).toBe(
        'users "admin" is forbidden: User "mallory" cannot impersonate resource "users" in API group "" at the cluster scope',
      );
      const groups = await impersonating(ADMIN, {
        "Impersonate-User": "zed",
        "Impersonate-Group": "readers",
      });
      expect(groups.status).toBe(200);
      const nobody = await impersonating(ADMIN, { "Impersonate-User": "zed" });
      expect(nobody.status).toBe(403);
      expect(nobody.body.message).toContain('User "zed" cannot list resource "pods"');
      const groupOnly = await impersonating(ADMIN, { "Impersonate-Group": "readers" });
      expect(groupOnly.status).toBe(400);

      // A ClusterRole that allows impersonating one group only.
      const base = "/apis/rbac.authorization.k8s.io/v1";
      await call(admin, "POST", `${base}/clusterroles`, {
        metadata: { name: `${ns}-impersonator` },
        rules: [
          { apiGroups: [""], resources: ["users"], verbs: ["impersonate"], resourceNames: ["zed"] },
          { apiGroups: [""], resources: ["groups"], verbs: ["impersonate"], resourceNames: ["readers"] },
        ],
      });
      await call(admin, "POST", `${base}/clusterrolebindings`, {
        metadata: { name: `${ns}-mallory` },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: `${ns}-impersonator` },
        subjects: [{ kind: "User", name: "mallory" }],
      });
      await waitFor(
        async () =>
          (
            await impersonating("Bearer user=mallory", {
              "Impersonate-User": "zed",
              "Impersonate-Group": "readers",
            })
          ).status === 200,
        { what: "mallory's impersonation rights" },
      );
      const masters = await impersonating("Bearer user=mallory", {
        "Impersonate-User": "zed",
        "Impersonate-Group": "system:masters",
      });
      expect(masters.status).toBe(403);
      expect(masters.body.message).toContain('cannot impersonate resource "groups"');
    });
  });

  describe("kubectl", () => {
    let kubeconfig: string;
    const kubectl = (args: string[], user: string, groups: string[] = []) =>
      run(
        requireKubectl(),
        [
          ...args,
          "--kubeconfig",
          kubeconfig,
          `--as=${user}`,
          ...groups.map((g) => `--as-group=${g}`),
          "--cache-dir",
          join(dir, "kcache"),
        ],
        { allowFailure: true },
      );

    beforeAll(() => {
      kubeconfig = join(dir, "kubeconfig");
      writeFileSync(
        kubeconfig,
        JSON.stringify({
          apiVersion: "v1",
          kind: "Config",
          clusters: [{ name: "c", cluster: { server: url } }],
          users: [{ name: "u", user: {} }],
          contexts: [{ name: "c", context: { cluster: "c", user: "u", namespace: ns } }],
          "current-context": "c",
        }),
      );
    });

    it("creates roles and bindings, lists them, and answers auth can-i and whoami", async () => {
      const adm = (args: string[]) => kubectl(args, "admin", ["system:masters"]);
      expect(
        (await adm(["create", "role", "cm-reader", "--verb=get,list", "--resource=configmaps"])).code,
      ).toBe(0);
      expect(
        (await adm(["create", "rolebinding", "frank-cm", "--role=cm-reader", "--user=frank"])).code,
      ).toBe(0);
      expect(
        (await adm(["create", "clusterrole", `${ns}-ns-reader`, "--verb=get", "--resource=namespaces"])).code,
      ).toBe(0);
      expect(
        (
          await adm([
            "create",
            "clusterrolebinding",
            `${ns}-frank-ns`,
            `--clusterrole=${ns}-ns-reader`,
            "--user=frank",
          ])
        ).code,
      ).toBe(0);
      const roles = await adm(["get", "roles"]);
      expect(roles.stdout).toMatch(/NAME\s+CREATED AT/);
      expect(roles.stdout).toContain("cm-reader");
      const bindings = await adm(["get", "rolebindings", "-o", "wide"]);
      expect(bindings.stdout).toMatch(/frank-cm\s+Role\/cm-reader\s+\S+\s+frank/);
      const frank = (args: string[]) => kubectl(args, "frank");
      await waitFor(
        async () => (await frank(["auth", "can-i", "list", "configmaps"])).stdout.trim() === "yes",
        {
          what: "kubectl auth can-i to say yes",
        },
      );
      const no = await frank(["auth", "can-i", "delete", "configmaps"]);
      expect(no.stdout.trim()).toBe("no");
      expect(no.code).toBe(1);
      expect((await frank(["auth", "can-i", "get", "namespaces"])).stdout.trim()).toBe("yes");
      expect((await frank(["auth", "can-i", "list", "configmaps", "-n", "default"])).stdout.trim()).toBe(
        "no",
      );
      expect((await adm(["auth", "can-i", "frobnicate", "anything"])).stdout.trim()).toBe("yes");
      const list = await frank(["auth", "can-i", "--list"]);
      expect(list.stderr).toBe("");
      expect(list.code).toBe(0);
      expect(list.stdout).toMatch(/Resources\s+Non-Resource URLs\s+Resource Names\s+Verbs/);
      expect(list.stdout).toMatch(/configmaps\s+\[\]\s+\[\]\s+\[get list\]/);
      expect(list.stdout).toMatch(/namespaces\s+\[\]\s+\[\]\s+\[get\]/);
      expect(list.stdout).toMatch(
        /selfsubjectaccessreviews\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[create\]/,
      );
      expect(list.stdout).toMatch(/\s+\[\/version\]\s+\[\]\s+\[get\]/);
      expect((await frank(["auth", "can-i", "--list", "-n", "default"])).stdout).not.toContain("configmaps ");
      const whoami = await kubectl(["auth", "whoami", "-o", "json"], "frank", ["team"]);
      expect(whoami.code).toBe(0);
      expect(JSON.parse(whoami.stdout).status.userInfo).toEqual({
        username: "frank",
        groups: ["team", "system:authenticated"],
      });
    });
  });
});
