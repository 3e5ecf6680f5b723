import { describe, expect, it } from "vitest";
import {
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
