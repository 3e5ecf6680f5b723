// Certificate rotation with a manual clock and a fake API: nothing is requested before 70% (jitter 0) of
// the lifetime, then a new key and CSR, the pem file replaced (0600) and the new certificate applied; a
// failed request is retried with backoff and the old certificate stays in use meanwhile.

import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { CertificateManager, splitClientPem } from "../../src/agent/bootstrap/certificate-manager.ts";
import { nodeClientRequest } from "../../src/agent/bootstrap/csr-request.ts";
import type { ApiClient } from "../../src/api/client/client.ts";
import {
  type CertificateAuthority,
  certificateInfo,
  createCertificateAuthority,
  generateKey,
  issueCertificate,
} from "../../src/pki/index.ts";
import { ManualClock } from "../support/manual-clock.ts";
import { waitFor } from "../support/wait.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** An API with just enough of certificatesigningrequests: every request is signed at once (or refused). */
function fakeApi(ca: CertificateAuthority, clock: ManualClock, state: { fail: boolean; created: number }) {
  const requests = new Map<string, string>();
  return {
    async create(_ref: unknown, body: { spec: { request: string } }) {
      if (state.fail) throw new Error("connection refused");
      state.created++;
      const name = `node-csr-${state.created}`;
      requests.set(name, Buffer.from(body.spec.request, "base64").toString());
      return { metadata: { name } };
    },
    async get(ref: { name: string }) {
      const csrPem = requests.get(ref.name) as string;
      const certPem = await issueCertificate(ca, {
        csrPem,
        usage: "client",
        validityDays: 100 / 86_400,
        now: new Date(clock.now()),
        backdateMs: 0,
      });
      return {
        metadata: { name: ref.name },
        status: {
          conditions: [{ type: "Approved", status: "True" }],
          certificate: Buffer.from(certPem).toString("base64"),
        },
      };
    },
  } as unknown as ApiClient;
}

describe("certificate rotation", () => {
  it("renews at the deadline, replaces the file and applies the new certificate; retries failures", async () => {
    const clock = new ManualClock();
    await clock.advance(Date.parse("2030-01-01T00:00:00Z"));
    const ca = await createCertificateAuthority({ commonName: "ca", now: new Date(clock.now()) });
    const key = generateKey();
    const first = await issueCertificate(ca, {
      publicKeyPem: key.publicKeyPem,
      commonName: "system:node:n1",
      organizations: ["system:nodes"],
      usage: "client",
      validityDays: 100 / 86_400,
      now: new Date(clock.now()),
      backdateMs: 0,
    });
    const dir = mkdtempSync(join(tmpdir(), "deckhand-rotation-"));
    dirs.push(dir);
    const pemPath = join(dir, "node-client-current.pem");
    writeFileSync(pemPath, `${first}${key.privateKeyPem}`, { mode: 0o600 });
    const state = { fail: true, created: 0 };
    const applied: string[] = [];
    const manager = new CertificateManager({
      api: fakeApi(ca, clock, state),
      kind: "client",
      request: () => nodeClientRequest("n1"),
      pemPath,
      apply: (certPem) => applied.push(certPem),
      caPem: ca.certPem,
      log: pino({ level: "silent" }),
      clock,
      random: () => 0,
    });
    const abort = new AbortController();
    const running = manager.run(abort.signal);

    await waitFor(() => clock.waiting > 0, {
      what: "the rotation to be scheduled",
      timeoutMs: 10_000,
      intervalMs: 10,
    });
    await clock.advance(69_000);
    expect(state.created).toBe(0);
    // At 70 s the request fails: the old certificate stays, a retry follows after the backoff.
    await clock.advance(1_000);
    await waitFor(() => clock.waiting > 0, {
      what: "the retry to be scheduled",
      timeoutMs: 10_000,
      intervalMs: 10,
    });
    expect(applied).toEqual([]);
    expect(splitClientPem(readFileSync(pemPath, "utf8")).certPem).toBe(first);

    state.fail = false;
    await clock.advance(2_000);
    await waitFor(() => applied.length === 1, {
      what: "the new certificate to be applied",
      timeoutMs: 10_000,
      intervalMs: 10,
    });
    expect(state.created).toBe(1);
    const stored = splitClientPem(readFileSync(pemPath, "utf8"));
    expect(stored.certPem.trim()).toBe(applied[0]?.trim());
    expect(stored.keyPem).not.toBe(key.privateKeyPem);
    expect(statSync(pemPath).mode & 0o777).toBe(0o600);
    const renewed = certificateInfo(stored.certPem);
    expect(renewed.commonName).toBe("system:node:n1");
    expect(renewed.notBefore.getTime()).toBe(Date.parse("2030-01-01T00:01:12Z"));
    expect(manager.rotations).toBe(1);

    abort.abort();
    await running;
  });
});
