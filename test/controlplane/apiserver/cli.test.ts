// `deckhand control-plane` validates its flags before starting anything, naming the bad flag.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseControllers, parseListen, validateFlags } from "../../../src/cli/control-plane.ts";
import { run } from "../../support/run.ts";

const CLI = join(import.meta.dirname, "..", "..", "..", "src", "cli", "main.ts");
const dir = mkdtempSync(join(tmpdir(), "deckhand-cp-flags-"));

const defaults = {
  dataDir: dir,
  listen: "127.0.0.1:6443",
  store: "sqlite",
  serviceCidr: "10.96.0.0/12",
  clusterCidr: "10.244.0.0/16",
  nodePortRange: "30000-32767",
  controllers: "*",
  logLevel: "info",
};

describe("deckhand control-plane flags", () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    [{ dataDir: undefined }, /--data-dir is required/],
    [{ listen: "localhost" }, /--listen "localhost": expected host:port/],
    [{ listen: "127.0.0.1:70000" }, /--listen "127.0.0.1:70000"/],
    [{ store: "postgres" }, /--store "postgres": use `sqlite` or `etcd:\/\/host:port/],
    [{ store: "etcd://nohost" }, /--store "etcd:\/\/nohost": etcd endpoint "nohost" is not host:port/],
    [{ serviceCidr: "10.96.0.0" }, /--service-cidr "10.96.0.0" is not an IPv4 CIDR/],
    [{ clusterCidr: "10.244.0.0/33" }, /--cluster-cidr "10.244.0.0\/33" is not an IPv4 CIDR/],
    [{ nodePortRange: "32767-30000" }, /--node-port-range "32767-30000" is not a port range/],
    [{ logLevel: "loud" }, /--log-level "loud"/],
    [{ tlsSan: ["api.example,bad name"] }, /--tls-san "bad name": expected an IP address or a DNS name/],
    [
      { tokenAuthFile: join(dir, "missing.csv") },
      /--token-auth-file ".*missing.csv": the file cannot be read/,
    ],
    [{ serviceAccountIssuer: "not a url" }, /--service-account-issuer "not a url": expected a URL/],
    [
      { controllers: "*,-nosuch" },
      /--controllers "\*,-nosuch": unknown controller "nosuch"; known: scheduler/,
    ],
  ])("rejects %o", async (override, message) => {
    await expect(validateFlags({ ...defaults, ...override } as typeof defaults)).rejects.toThrow(message);
  });

  it("normalizes good values", async () => {
    expect(
      await validateFlags({ ...defaults, serviceCidr: "10.96.3.4/12", listen: "[::1]:0" }),
    ).toMatchObject({
      serviceCidr: "10.96.0.0/12",
      listen: { host: "::1", port: 0 },
      nodePortRange: "30000-32767",
    });
    expect(await validateFlags({ ...defaults, tlsSan: ["api.example.com, 192.0.2.7", "::1"] })).toMatchObject(
      {
        tlsSans: ["api.example.com", "192.0.2.7", "::1"],
      },
    );
    expect(parseListen("0.0.0.0:6443")).toEqual({ host: "0.0.0.0", port: 6443 });
    expect(await parseControllers("none")).toBe(false);
    expect(await parseControllers("")).toBe(false);
    expect(await parseControllers("*,-scheduler")).not.toContain("scheduler");
    expect(await parseControllers("scheduler")).toEqual(["scheduler"]);
  });

  it("exits with status 2 and the message before opening any store", async () => {
    const result = await run(
      process.execPath,
      [CLI, "control-plane", "--data-dir", dir, "--service-cidr", "nope"],
      {
        allowFailure: true,
      },
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('error: --service-cidr "nope" is not an IPv4 CIDR such as 10.96.0.0/12');
    const missing = await run(process.execPath, [CLI, "control-plane"], { allowFailure: true });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("--data-dir is required");
  });
});
