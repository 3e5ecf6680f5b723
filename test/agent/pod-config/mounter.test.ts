// The system mounter against the real mount table (needs root): a tmpfs is a mount point (told by its own
// device), a plain directory is not, and a bind mount from the same filesystem is (told by the table).
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemMounter } from "../../../src/agent/pod-config/mounter.ts";
import { requireRoot } from "../../support/env.ts";

describe("system mounter", () => {
  let dir: string;
  const mounted: string[] = [];

  beforeAll(() => {
    requireRoot();
    dir = mkdtempSync(join(tmpdir(), "deckhand-mounter-"));
  });

  afterAll(async () => {
    for (const point of mounted.reverse()) await systemMounter.unmount(point).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  it("tells a tmpfs, a bind mount of the same filesystem and a plain directory apart", async () => {
    const [tmpfs, plain, source, bound] = ["tmpfs", "plain", "source", "bound"].map((name) => {
      const path = join(dir, name);
      mkdirSync(path);
      return path;
    }) as [string, string, string, string];
    await systemMounter.mountTmpfs(tmpfs, { mode: 0o777 });
    mounted.push(tmpfs);
    await systemMounter.bindMount(source, bound);
    mounted.push(bound);

    expect(await systemMounter.isMountPoint(tmpfs)).toBe(true);
    expect(await systemMounter.isMountPoint(bound)).toBe(true);
    expect(await systemMounter.isMountPoint(plain)).toBe(false);
    expect(await systemMounter.isMountPoint(source)).toBe(false);
    expect(await systemMounter.mountPointsUnder(dir)).toEqual(expect.arrayContaining([tmpfs, bound]));
  });
});
