import {
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  realpath,
  rm,
  stat,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { atomicWrite, type FileProjection } from "../../../src/agent/pod-config/atomic-writer.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "deckhand-atomic-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

function payload(entries: Record<string, string | [string, number]>): Map<string, FileProjection> {
  return new Map(
    Object.entries(entries).map(([path, v]) => {
      const [text, mode] = typeof v === "string" ? [v, 0o644] : v;
      return [path, { data: Buffer.from(text), mode }];
    }),
  );
}

const read = (path: string) => readFile(join(dir, path), "utf8");
const hidden = async () => (await readdir(dir)).filter((n) => n.startsWith("..")).sort();

describe("atomicWrite", () => {
  it("lays out ..data → a timestamped directory and one symlink per top-level name", async () => {
    const changed = await atomicWrite(dir, payload({ a: "1", "sub/b": ["2", 0o400], "sub/deeper/c": "3" }), {
      now: () => Date.UTC(2026, 10, 22, 10, 0, 5),
    });
    expect(changed).toBe(true);
    const ts = await readlink(join(dir, "..data"));
    expect(ts).toMatch(/^\.\.2026_11_22_10_00_05\.\w+$/);
    expect(await readlink(join(dir, "a"))).toBe("..data/a");
    expect(await readlink(join(dir, "sub"))).toBe("..data/sub");
    expect(await read("a")).toBe("1");
    expect(await read("sub/deeper/c")).toBe("3");
    expect((await stat(join(dir, "sub/b"))).mode & 0o777).toBe(0o400);
    expect((await stat(join(dir, ts))).mode & 0o777).toBe(0o755);
    expect(await hidden()).toEqual(["..data", ts].sort());
  });

  it("swaps in new contents, prunes removed names and the old directory", async () => {
    await atomicWrite(dir, payload({ keep: "v1", gone: "x", "d/f": "v1" }));
    const first = await readlink(join(dir, "..data"));
    expect(await atomicWrite(dir, payload({ keep: "v2", "d/f": "v2", added: "new" }))).toBe(true);
    const second = await readlink(join(dir, "..data"));
    expect(second).not.toBe(first);
    expect(await read("keep")).toBe("v2");
    expect(await read("d/f")).toBe("v2");
    expect(await read("added")).toBe("new");
    await expect(lstat(join(dir, "gone"))).rejects.toMatchObject({ code: "ENOENT" });
    expect(await hidden()).toEqual(["..data", second].sort());
  });

  it("does nothing when contents and modes are unchanged, and rewrites on a mode change", async () => {
    await atomicWrite(dir, payload({ a: "1" }));
    const first = await readlink(join(dir, "..data"));
    expect(await atomicWrite(dir, payload({ a: "1" }))).toBe(false);
    expect(await readlink(join(dir, "..data"))).toBe(first);
    expect(await atomicWrite(dir, payload({ a: ["1", 0o600] }))).toBe(true);
    expect((await stat(join(dir, "a"))).mode & 0o777).toBe(0o600);
  });

  it("never shows a reader a mix of two versions", async () => {
    const writes = 60;
    let done = false;
    const writer = (async () => {
      for (let v = 0; v < writes; v++) {
        await atomicWrite(dir, payload({ a: String(v), "n/b": String(v) }));
      }
      done = true;
    })();
    let snapshots = 0;
    while (!done) {
      let base: string;
      try {
        base = await realpath(join(dir, "..data"));
      } catch {
        continue; // before the first write
      }
      try {
        const [a, b] = await Promise.all([
          readFile(join(base, "a"), "utf8"),
          readFile(join(base, "n/b"), "utf8"),
        ]);
        expect(a).toBe(b);
        snapshots++;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error; // that version was pruned
      }
    }
    await writer;
    expect(snapshots).toBeGreaterThan(0);
    expect(await read("a")).toBe(String(writes - 1));
  });

  it.each([
    ["", "invalid path: must not be empty"],
    ["/abs", "invalid path: must be relative path: /abs"],
    ["a/../b", "invalid path: must not contain '..': a/../b"],
    ["..hidden", "invalid path: must not start with '..': ..hidden"],
    [`${"x".repeat(256)}`, "invalid path: filenames must be less than or equal to 255 characters"],
  ])("rejects %j before touching the directory", async (path, message) => {
    await atomicWrite(dir, payload({ ok: "1" }));
    const before = await readdir(dir);
    await expect(atomicWrite(dir, payload({ ok: "2", [path]: "x" }))).rejects.toThrow(message);
    expect((await readdir(dir)).sort()).toEqual(before.sort());
    expect(await read("ok")).toBe("1");
  });

  it("cleans up what an interrupted write left behind", async () => {
    await atomicWrite(dir, payload({ a: "1" }));
    await mkdir(join(dir, "..2020_01_01_00_00_00.stale"));
    await writeFile(join(dir, "..2020_01_01_00_00_00.stale", "a"), "old");
    await writeFile(join(dir, "..data_tmp"), "");
    await atomicWrite(dir, payload({ a: "2" }));
    expect(await hidden()).toEqual(["..data", await readlink(join(dir, "..data"))].sort());
  });

  it("gives files and directories the fsGroup, group-readable", async () => {
    await atomicWrite(dir, payload({ a: ["1", 0o600], "d/b": ["2", 0o600] }), { fsGroup: 4321 });
    const file = await stat(join(dir, "d/b"));
    expect(file.gid).toBe(4321);
    expect(file.mode & 0o777).toBe(0o640);
    const sub = await stat(join(dir, "d"));
    expect(sub.gid).toBe(4321);
    expect(sub.mode & 0o2000).toBe(0o2000);
    // An unchanged payload stays unchanged with fsGroup too.
    expect(await atomicWrite(dir, payload({ a: ["1", 0o600], "d/b": ["2", 0o600] }), { fsGroup: 4321 })).toBe(
      false,
    );
  });
});
