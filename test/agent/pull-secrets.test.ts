import { describe, expect, it } from "vitest";
import { pullCredentialsFor, registryHost } from "../../src/agent/pull-secrets.ts";
import type { Pod } from "../../src/api/schema/core/pod-types.ts";

const b64 = (s: string) => Buffer.from(s).toString("base64");

describe("pull secrets", () => {
  it("finds the registry host of an image", () => {
    expect(registryHost("busybox")).toBe("docker.io");
    expect(registryHost("library/busybox:1.35")).toBe("docker.io");
    expect(registryHost("127.0.0.1:5001/deckhand/busybox:1.35")).toBe("127.0.0.1:5001");
    expect(registryHost("registry.k8s.io/pause:3.10")).toBe("registry.k8s.io");
    expect(registryHost("localhost/x")).toBe("localhost");
  });

  it("reads dockerconfigjson secrets, matching the image's registry, skipping missing ones", async () => {
    const pod = {
      metadata: { namespace: "ns" },
      spec: { containers: [], imagePullSecrets: [{ name: "absent" }, { name: "regcred" }] },
    } as unknown as Pod;
    const secrets: Record<string, unknown> = {
      "ns/regcred": {
        type: "kubernetes.io/dockerconfigjson",
        data: {
          ".dockerconfigjson": b64(
            JSON.stringify({
              auths: {
                "http://127.0.0.1:5001/v2/": { auth: b64("deckhand:deckhand-test") },
                "other.example": { username: "u", password: "p" },
              },
            }),
          ),
        },
      },
    };
    const found = await pullCredentialsFor(
      pod,
      "127.0.0.1:5001/deckhand/busybox:1.35",
      async (ns, name) => secrets[`${ns}/${name}`] as never,
    );
    expect(found).toEqual([
      { username: "deckhand", password: "deckhand-test", serverAddress: "127.0.0.1:5001" },
    ]);
  });
});
