// Bootstrap tokens as kubeadm stores them: the token shape, the Secret, reading it back, expiry, and the
// detached JWS that signs cluster-info.

import { describe, expect, it } from "vitest";
import {
  detachedSignature,
  generateToken,
  isExpired,
  parseToken,
  readTokenSecret,
  TOKEN_PATTERN,
  tokenSecret,
  validateExtraGroup,
  verifyDetachedSignature,
} from "../../src/api/bootstrap-token.ts";

/** The Secret as the API server stores it: stringData becomes base64 data. */
function stored(secret: ReturnType<typeof tokenSecret>) {
  const data = Object.fromEntries(
    Object.entries(secret.stringData ?? {}).map(([k, v]) => [k, Buffer.from(v).toString("base64")]),
  );
  return { metadata: secret.metadata, type: secret.type, data };
}

describe("bootstrap tokens", () => {
  it("generates tokens of the kubeadm shape and parses only that shape", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const token = generateToken();
      const text = `${token.id}.${token.secret}`;
      expect(text).toMatch(TOKEN_PATTERN);
      seen.add(text);
    }
    expect(seen.size).toBe(50);
    expect(parseToken("abcdef.0123456789abcdef")).toEqual({ id: "abcdef", secret: "0123456789abcdef" });
    for (const bad of [
      "ABCDEF.0123456789abcdef",
      "abcde.0123456789abcdef",
      "abcdef.0123456789abcde",
      "abcdef:0123456789abcdef",
      "",
    ]) {
      expect(parseToken(bad)).toBeUndefined();
    }
  });

  it("writes the Secret kubeadm writes and reads it back", () => {
    const secret = tokenSecret({
      id: "abcdef",
      secret: "0123456789abcdef",
      expiration: "2030-01-01T00:00:00Z",
      usages: ["authentication", "signing"],
      extraGroups: ["system:bootstrappers:deckhand:default-node-token"],
      description: "test",
    });
    expect(secret).toEqual({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "bootstrap-token-abcdef", namespace: "kube-system" },
      type: "bootstrap.kubernetes.io/token",
      stringData: {
        "token-id": "abcdef",
        "token-secret": "0123456789abcdef",
        description: "test",
        expiration: "2030-01-01T00:00:00Z",
        "usage-bootstrap-authentication": "true",
        "usage-bootstrap-signing": "true",
        "auth-extra-groups": "system:bootstrappers:deckhand:default-node-token",
      },
    });
    expect(readTokenSecret(stored(secret))).toEqual({
      id: "abcdef",
      secret: "0123456789abcdef",
      usages: ["authentication", "signing"],
      extraGroups: ["system:bootstrappers:deckhand:default-node-token"],
      expiration: "2030-01-01T00:00:00Z",
      description: "test",
    });
    const renamed = {
      ...stored(secret),
      metadata: { name: "bootstrap-token-zzzzzz", namespace: "kube-system" },
    };
    expect(readTokenSecret(renamed)).toEqual({ invalid: "name is not bootstrap-token-abcdef" });
    expect(readTokenSecret({ ...stored(secret), type: "Opaque" })).toHaveProperty("invalid");
  });

  it("expires at the expiration; an unreadable expiration counts as expired", () => {
    const at = Date.parse("2030-01-01T00:00:00Z");
    expect(isExpired({ expiration: "2030-01-01T00:00:00Z" }, at - 1)).toBe(false);
    expect(isExpired({ expiration: "2030-01-01T00:00:00Z" }, at)).toBe(true);
    expect(isExpired({}, at)).toBe(false);
    expect(isExpired({ expiration: "soon" }, at)).toBe(true);
  });

  it("checks extra groups like upstream", () => {
    expect(validateExtraGroup("system:bootstrappers:deckhand:default-node-token")).toBeUndefined();
    expect(validateExtraGroup("system:masters")).toMatch(/must start with "system:bootstrappers:"/);
  });

  it("signs cluster-info with a detached HS256 JWS keyed by the whole token", () => {
    const token = { id: "abcdef", secret: "0123456789abcdef" };
    const signature = detachedSignature("content", token);
    // Header {"alg":"HS256","kid":"abcdef"}, no payload (detached), signature.
    expect(signature).toMatch(/^eyJhbGciOiJIUzI1NiIsImtpZCI6ImFiY2RlZiJ9\.\.[A-Za-z0-9_-]{43}$/);
    expect(verifyDetachedSignature("content", signature, token)).toBe(true);
    expect(verifyDetachedSignature("content!", signature, token)).toBe(false);
    expect(verifyDetachedSignature("content", signature, { id: "abcdef", secret: "0123456789abcdee" })).toBe(
      false,
    );
  });
});
