// Choosing and opening a storage backend from the control plane's `--store` value.

import { EtcdStorage, type EtcdStorageOptions } from "./etcd.ts";
import { SqliteStorage, type SqliteStorageOptions } from "./sqlite.ts";
import type { Storage } from "./types.ts";

export * from "./errors.ts";
export * from "./types.ts";
export type { EtcdStorageOptions, SqliteStorageOptions };

export type StorageSpec = { kind: "sqlite" } | { kind: "etcd"; endpoints: string[] };

export interface OpenStorageOptions {
  sqlite?: SqliteStorageOptions;
  etcd?: EtcdStorageOptions;
}

const ENDPOINT = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9.-]*):(\d{1,5})$/;
const SPEC_FORMS = "`sqlite` or `etcd://host:port[,host:port…]`";

/** Parses a `--store` value; the error names the flag, the bad part and the accepted forms. */
export function parseStorageSpec(spec: string): StorageSpec {
  const value = spec.trim();
  if (value === "sqlite") return { kind: "sqlite" };
  if (value.startsWith("etcd://")) {
    const endpoints = value
      .slice("etcd://".length)
      .split(",")
      .map((e) => e.trim());
    for (const endpoint of endpoints) {
      const match = ENDPOINT.exec(endpoint);
      const port = match ? Number(match[2]) : 0;
      if (!match || port < 1 || port > 65535) {
        throw new TypeError(
          `invalid --store ${JSON.stringify(spec)}: etcd endpoint ${JSON.stringify(endpoint)} is not host:port; use ${SPEC_FORMS}`,
        );
      }
    }
    return { kind: "etcd", endpoints };
  }
  throw new TypeError(`invalid --store ${JSON.stringify(spec)}: use ${SPEC_FORMS}`);
}

/**
 * Opens the backend named by `spec`: SQLite keeps one file in `dataDir`; etcd is checked for an answer
 * before this resolves. Both reject with STORAGE_UNAVAILABLE naming the file or the endpoints.
 */
export async function openStorage(
  spec: string,
  dataDir: string,
  options: OpenStorageOptions = {},
): Promise<Storage> {
  const parsed = parseStorageSpec(spec);
  if (parsed.kind === "sqlite") return SqliteStorage.open(dataDir, options.sqlite);
  return EtcdStorage.open(parsed.endpoints, options.etcd);
}
