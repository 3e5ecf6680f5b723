import { describe, expect, it } from "vitest";
import {
  requestToken,
  ServiceAccountTokenCache,
  type ServiceAccountTokenRequest,
} from "../../../src/agent/pod-config/index.ts";
import { parseMountInfo } from "../../../src/agent/pod-config/mounter.ts";

const T0 = Date.parse("2026-11-22T10:00:00Z");

function setup() {
  let now = T0;
  const issued: ServiceAccountTokenRequest[] = [];
  const cache = new ServiceAccountTokenCache(
    async (request) => {
      issued.push(request);
      return {
        token: `t${issued.length}`,
        expirationTimestamp: new Date(now + request.expirationSeconds * 1000).toISOString(),
      };
    },
    () => now,
  );
  return { cache, issued, advance: (ms: number) => (now += ms) };
}

const request = (uid: string, expirationSeconds = 3600): ServiceAccountTokenRequest => ({
  namespace: "ns1",
  serviceAccountName: "default",
  expirationSeconds,
  boundPod: { name: "web", uid },
});

describe("ServiceAccountTokenCache", () => {
  it("reuses a token until 80% of its lifetime has passed", async () => {
    const { cache, issued, advance } = setup();
    expect(await cache.getToken(request("u1"))).toBe("t1");
    advance(2880_000); // exactly 80% of an hour
    expect(await cache.getToken(request("u1"))).toBe("t1");
    advance(1000);
    expect(await cache.getToken(request("u1"))).toBe("t2");
    expect(issued).toHaveLength(2);
  });

  it("refreshes long-lived tokens after 24 hours", async () => {
    const { cache, advance } = setup();
    expect(await cache.getToken(request("u1", 7 * 24 * 3600))).toBe("t1");
    advance(24 * 3600_000 + 1000);
    expect(await cache.getToken(request("u1", 7 * 24 * 3600))).toBe("t2");
  });

  it("keeps tokens per pod and forgets a pod's tokens", async () => {
    const { cache, issued } = setup();
    await cache.getToken(request("u1"));
    await cache.getToken(request("u2"));
    await cache.getToken({ ...request("u1"), audience: "vault" });
    expect(issued).toHaveLength(3);
    cache.forgetPod("u1");
    await cache.getToken(request("u2"));
    await cache.getToken(request("u1"));
    expect(issued).toHaveLength(4);
  });

  it("rejects an answer without a token or expiration", async () => {
    const cache = new ServiceAccountTokenCache(async () => ({ token: "", expirationTimestamp: "" }));
    await expect(cache.getToken(request("u1"))).rejects.toThrow(
      "TokenRequest for serviceaccount ns1/default returned no token or expiration",
    );
  });
});

describe("ServiceAccountTokenCache refresh decision", () => {
  it("keeps serving a still-valid token when a refresh fails, and fails once it has expired", async () => {
    let now = T0;
    let fail = false;
    const errors: unknown[] = [];
    const cache = new ServiceAccountTokenCache(
      async (r) => {
        if (fail) throw new Error("connection refused");
        return { token: "t1", expirationTimestamp: new Date(now + r.expirationSeconds * 1000).toISOString() };
      },
      () => now,
      (_r, error) => errors.push(error),
    );
    expect(await cache.getToken(request("u1", 600))).toBe("t1");
    fail = true;
    now += 500_000; // past 80%, not expired
    expect(await cache.getToken(request("u1", 600))).toBe("t1");
    expect(errors).toHaveLength(1);
    now += 100_000; // expired
    await expect(cache.getToken(request("u1", 600))).rejects.toThrow("connection refused");
  });

  it("uses the lifetime the server granted (an extended token is refreshed at 80% of it)", async () => {
    let now = T0;
    let n = 0;
    const year = 365 * 24 * 3600;
    const cache = new ServiceAccountTokenCache(
      async () => ({
        token: `t${++n}`,
        expirationSeconds: year,
        expirationTimestamp: new Date(now + year * 1000).toISOString(),
      }),
      () => now,
    );
    expect(await cache.getToken(request("u1", 3607))).toBe("t1");
    now += 3600_000; // past 80% of the 3607 s asked for, far from 80% of a year
    expect(await cache.getToken(request("u1", 3607))).toBe("t1");
    now += 23 * 3600_000 + 1000; // but never older than 24 h
    expect(await cache.getToken(request("u1", 3607))).toBe("t2");
  });

  it("decides on refresh at exactly 80% of the lifetime or after 24 hours", () => {
    let now = T0;
    const cache = new ServiceAccountTokenCache(
      async () => ({ token: "", expirationTimestamp: "" }),
      () => now,
    );
    const token = { issuedAt: T0, expiresAt: T0 + 1000_000 };
    now = T0 + 800_000;
    expect(cache.needsRefresh(token)).toBe(false);
    now += 1;
    expect(cache.needsRefresh(token)).toBe(true);
    const long = { issuedAt: T0, expiresAt: T0 + 30 * 24 * 3600_000 };
    now = T0 + 24 * 3600_000;
    expect(cache.needsRefresh(long)).toBe(false);
    now += 1;
    expect(cache.needsRefresh(long)).toBe(true);
  });
});

describe("requestToken", () => {
  it("POSTs a TokenRequest bound to the pod to serviceaccounts/<name>/token", async () => {
    const calls: unknown[] = [];
    const client = {
      create: async (ref: unknown, body: unknown) => {
        calls.push({ ref, body });
        return {
          status: { token: "jwt", expirationTimestamp: "2026-11-22T11:00:00Z" },
          spec: { expirationSeconds: 3607 },
        };
      },
    } as unknown as Parameters<typeof requestToken>[0];
    const issued = await requestToken(client, { ...request("u9", 3607), audience: "vault" });
    expect(issued).toEqual({
      token: "jwt",
      expirationTimestamp: "2026-11-22T11:00:00Z",
      expirationSeconds: 3607,
    });
    expect(calls).toEqual([
      {
        ref: {
          version: "v1",
          resource: "serviceaccounts",
          namespace: "ns1",
          name: "default",
          subresource: "token",
        },
        body: {
          apiVersion: "authentication.k8s.io/v1",
          kind: "TokenRequest",
          metadata: { name: "default", namespace: "ns1" },
          spec: {
            audiences: ["vault"],
            expirationSeconds: 3607,
            boundObjectRef: { kind: "Pod", apiVersion: "v1", name: "web", uid: "u9" },
          },
        },
      },
    ]);
  });
});

describe("parseMountInfo", () => {
  it("reads mount points and decodes octal escapes", () => {
    const text = [
      "22 27 0:21 / /proc rw,relatime - proc proc rw",
      "44 27 0:39 / /var/lib/deckhand/pods/u/volumes/kubernetes.io~empty-dir/with\\040space rw - tmpfs tmpfs rw,size=1024k",
      "",
    ].join("\n");
    expect(parseMountInfo(text)).toEqual([
      "/proc",
      "/var/lib/deckhand/pods/u/volumes/kubernetes.io~empty-dir/with space",
    ]);
  });
});
