// ConfigMap and Secret reads with upstream's messages and a per-call cache, shared by env and volumes.
import type { ConfigMap, Secret } from "../../api/schema/core/config-types.ts";
import { messageOf, type PodConfigApi, PodConfigError, type PodConfigErrorReason } from "./context.ts";

/** A secret's values as bytes: `data` is base64 on the wire; `stringData` (write-only upstream) wins if present. */
export function secretBytes(secret: Secret): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const [key, value] of Object.entries(secret.data ?? {})) out.set(key, Buffer.from(value, "base64"));
  for (const [key, value] of Object.entries(secret.stringData ?? {}))
    out.set(key, Buffer.from(value, "utf8"));
  return out;
}

/** A config map's values as bytes: `data` as UTF-8, `binaryData` base64-decoded. */
export function configMapBytes(configMap: ConfigMap): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const [key, value] of Object.entries(configMap.data ?? {})) out.set(key, Buffer.from(value, "utf8"));
  for (const [key, value] of Object.entries(configMap.binaryData ?? {})) {
    out.set(key, Buffer.from(value, "base64"));
  }
  return out;
}

/** Fetches each ConfigMap/Secret at most once per build; not-found is `undefined`, other failures throw. */
export class ObjectReader {
  private readonly api: PodConfigApi;
  private readonly namespace: string;
  private readonly reason: PodConfigErrorReason;
  private readonly configMaps = new Map<string, Promise<ConfigMap | undefined>>();
  private readonly secrets = new Map<string, Promise<Secret | undefined>>();

  constructor(api: PodConfigApi, namespace: string, reason: PodConfigErrorReason) {
    this.api = api;
    this.namespace = namespace;
    this.reason = reason;
  }

  configMap(name: string): Promise<ConfigMap | undefined> {
    let found = this.configMaps.get(name);
    if (!found) {
      found = this.api.getConfigMap(this.namespace, name).catch((error: unknown) => {
        throw new PodConfigError(
          this.reason,
          `couldn't get configMap ${this.namespace}/${name}: ${messageOf(error)}`,
          { cause: error },
        );
      });
      this.configMaps.set(name, found);
    }
    return found;
  }

  secret(name: string): Promise<Secret | undefined> {
    let found = this.secrets.get(name);
    if (!found) {
      found = this.api.getSecret(this.namespace, name).catch((error: unknown) => {
        throw new PodConfigError(
          this.reason,
          `couldn't get secret ${this.namespace}/${name}: ${messageOf(error)}`,
          {
            cause: error,
          },
        );
      });
      this.secrets.set(name, found);
    }
    return found;
  }
}
