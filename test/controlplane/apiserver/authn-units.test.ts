// Pure parts of authentication: the token file format, where bearer tokens come from, what needs no
// credentials, and the control plane's PKI decisions (names on the serving certificate, reissue vs reuse).

import { mkdtemp, readFile, rm } from "node:fs/promises";
import type { IncomingMessage } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearerTokenAuthenticator } from "../../../src/controlplane/apiserver/authn/bearer.ts";
import {
  parseTokenFile,
  staticTokenAuthenticator,
} from "../../../src/controlplane/apiserver/authn/token-file.ts";
import { authenticate } from "../../../src/controlplane/apiserver/pipeline/authentication.ts";
import { publicInfoAuthorizer } from "../../../src/controlplane/apiserver/pipeline/public-info.ts";
import { parseRequestInfo } from "../../../src/controlplane/apiserver/request-info.ts";
import {
  ADMIN_CLIENT,
  ensureClientCertificate,
  ensureControlPlanePki,
  servingNames,
} from "../../../src/controlplane/pki.ts";
import { certificateInfo } from "../../../src/pki/index.ts";

const request = (headers: Record<string, string>) =>
  ({ headers: { ...headers }, socket: {} }) as unknown as IncomingMessage;

describe("token file", () => {
  it("reads token,user,uid and quoted groups; skips blank lines", () => {
    expect(parseTokenFile('t1,alice,u1,"a,b"\n\nt2,bob,u2\n"t,3",carol,u3,""\n')).toEqual([
      { token: "t1", user: { name: "alice", uid: "u1", groups: ["a", "b"] } },
      { token: "t2", user: { name: "bob", uid: "u2", groups: [] } },
      { token: "t,3", user: { name: "carol", uid: "u3", groups: [] } },
    ]);
  });

  it.each([
    ["t1,alice\n", /line 1: needs at least 3 columns/],
    [",alice,u1\n", /line 1: the token is empty/],
    ["t1,,u1\n", /line 1: the user name is empty/],
    ["t1,a,u1\nt1,b,u2\n", /line 2: the token is listed twice/],
    ['t1,a,u1,"x\n', /line 1: unbalanced quotes/],
  ])("rejects %j", (text, message) => {
    expect(() => parseTokenFile(text)).toThrow(message);
  });

  it("matches whole tokens only", async () => {
    const auth = staticTokenAuthenticator(parseTokenFile("secret-token,alice,u1\n"));
    expect(await auth.authenticateToken("secret-token")).toMatchObject({ name: "alice" });
    expect(await auth.authenticateToken("secret-toke")).toBeUndefined();
    expect(await auth.authenticateToken("secret-tokenx")).toBeUndefined();
  });
});

describe("bearer tokens", () => {
  const auth = bearerTokenAuthenticator([staticTokenAuthenticator(parseTokenFile("tok,alice,u1,g\n"))]);

  it("come from the Authorization header, which is removed once used", async () => {
    const req = request({ authorization: "Bearer tok" });
    expect(await authenticate([auth], req)).toEqual({
      user: { name: "alice", uid: "u1", groups: ["g", "system:authenticated"] },
    });
    expect(req.headers.authorization).toBeUndefined();
  });

  it("come from the WebSocket subprotocol when a browser-style client cannot set headers", async () => {
    const encoded = Buffer.from("tok").toString("base64url");
    const req = request({
      "sec-websocket-protocol": `v5.channel.k8s.io, base64url.bearer.authorization.k8s.io.${encoded}`,
    });
    expect((await authenticate([auth], req)).user?.name).toBe("alice");
    expect(req.headers["sec-websocket-protocol"]).toBe("v5.channel.k8s.io");
  });

  it("an unknown token is a rejection, no credentials are no opinion", async () => {
    expect(await authenticate([auth], request({ authorization: "Bearer nope" }))).toEqual({
      rejected: [{ authenticator: "bearer-token", reason: "invalid bearer token" }],
    });
    expect(await authenticate([auth], request({}))).toEqual({ rejected: [] });
    expect(await authenticate([auth], request({ authorization: "Basic YTpi" }))).toEqual({ rejected: [] });
  });
});

describe("public info", () => {
  const authorizer = publicInfoAuthorizer();
  const anonymous = { name: "system:anonymous", groups: ["system:unauthenticated"] };
  const someone = { name: "jane", groups: ["system:authenticated"] };
  const decide = (user: typeof anonymous, method: string, path: string) =>
    authorizer.authorize({ user, request: parseRequestInfo(method, path, new URLSearchParams()) });

  it.each([
    [anonymous, "GET", "/healthz", true],
    [anonymous, "GET", "/readyz/watch-caches", true],
    [anonymous, "GET", "/version", true],
    [anonymous, "POST", "/healthz", false],
    [anonymous, "GET", "/healthzz", false],
    [anonymous, "GET", "/api", false],
    [anonymous, "GET", "/api/v1/namespaces/kube-public/configmaps/cluster-info", true],
    [anonymous, "GET", "/api/v1/namespaces/kube-public/configmaps", false],
    [anonymous, "PUT", "/api/v1/namespaces/kube-public/configmaps/cluster-info", false],
    [anonymous, "GET", "/api/v1/namespaces/default/configmaps/cluster-info", false],
    [someone, "GET", "/api", true],
    [someone, "GET", "/apis/apps/v1", true],
    [someone, "GET", "/openapi/v3", true],
    [someone, "GET", "/api/v1/namespaces", false],
  ])("%o %s %s → %s", async (user, method, path, allowed) => {
    expect((await decide(user, method, path)).allowed).toBe(allowed);
  });
});

describe("control plane PKI", () => {
  let dir: string;
  const log = pino({ level: "silent" });
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "deckhand-cp-pki-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("names the server by its addresses, kubernetes.default… and the service CIDR's first IP", () => {
    const names = servingNames({
      listenHost: "192.0.2.1",
      serviceCidr: "10.100.0.0/16",
      extraSans: ["api.example", "198.51.100.9"],
    });
    expect(names.dnsNames).toEqual(
      expect.arrayContaining([
        "localhost",
        "kubernetes",
        "kubernetes.default.svc.cluster.local",
        "api.example",
      ]),
    );
    expect(names.ipAddresses).toEqual(
      expect.arrayContaining(["127.0.0.1", "::1", "10.100.0.1", "192.0.2.1", "198.51.100.9"]),
    );
  });

  it("reuses everything on restart and reissues only a serving certificate that lacks a name", async () => {
    const options = { dataDir: dir, listenHost: "127.0.0.1", serviceCidr: "10.96.0.0/12", log };
    const first = await ensureControlPlanePki(options);
    const admin = await ensureClientCertificate(first, ADMIN_CLIENT);
    const again = await ensureControlPlanePki(options);
    expect(again.ca.certPem).toBe(first.ca.certPem);
    expect(again.serving.certPem).toBe(first.serving.certPem);
    expect(again.serviceAccountKey).toEqual(first.serviceAccountKey);
    expect((await ensureClientCertificate(again, ADMIN_CLIENT)).certPem).toBe(admin.certPem);

    const wider = await ensureControlPlanePki({ ...options, extraSans: ["new.example"] });
    expect(wider.ca.certPem).toBe(first.ca.certPem);
    expect(wider.serving.certPem).not.toBe(first.serving.certPem);
    expect(certificateInfo(wider.serving.certPem).dnsNames).toContain("new.example");
    expect(await readFile(join(dir, "pki", "apiserver.crt"), "utf8")).toBe(wider.serving.certPem);
  });
});
