// The files of configMap, secret, downwardAPI and projected volumes (upstream's MakePayload / CollectData):
// every key or the listed items, with item mode or the volume's defaultMode (0644), optional objects and keys.
import type { Pod } from "../../api/schema/core/pod-types.ts";
import type { Volume } from "../../api/schema/core/volume.ts";
import type { FileProjection } from "./atomic-writer.ts";
import { messageOf, type ResourceList } from "./context.ts";
import { metadataFieldValue } from "./field-ref.ts";
import { configMapBytes, type ObjectReader, secretBytes } from "./objects.ts";
import { resourceFieldValue } from "./resource-ref.ts";
import type { ServiceAccountTokenSource } from "./service-account-token.ts";

export type Payload = Map<string, FileProjection>;

export const DEFAULT_MODE = 0o644;

interface KeyToPath {
  key: string;
  path: string;
  mode?: number;
}

interface DownwardItem {
  path: string;
  fieldRef?: { apiVersion?: string; fieldPath: string };
  resourceFieldRef?: { containerName?: string; resource: string; divisor?: string | number };
  mode?: number;
}

/** A volume-setup failure; the message is upstream's detail (prefixed with the volume by the caller). */
export class VolumeSetupError extends Error {
  override readonly name = "VolumeSetupError";
}

function modeOf(mode: number | undefined, fallback: number, field: string): number {
  const value = mode ?? fallback;
  if (!Number.isInteger(value) || value < 0 || value > 0o777) {
    throw new VolumeSetupError(`${field}: mode ${value} must be between 0 and 0777 (511)`);
  }
  return value;
}

function keysPayload(
  values: Map<string, Buffer>,
  items: readonly KeyToPath[] | undefined,
  defaultMode: number,
  optional: boolean,
  missing: (key: string) => string,
): Payload {
  const payload: Payload = new Map();
  if (!items || items.length === 0) {
    for (const [key, data] of values) payload.set(key, { data, mode: defaultMode });
    return payload;
  }
  for (const [i, item] of items.entries()) {
    const data = values.get(item.key);
    if (data === undefined) {
      if (optional) continue;
      throw new VolumeSetupError(missing(item.key));
    }
    payload.set(item.path, { data, mode: modeOf(item.mode, defaultMode, `items[${i}]`) });
  }
  return payload;
}

async function configMapPayload(
  reader: ObjectReader,
  source: { name?: string; items?: KeyToPath[]; optional?: boolean },
  defaultMode: number,
): Promise<Payload> {
  const name = source.name ?? "";
  const configMap = await reader.configMap(name);
  if (!configMap && !source.optional) throw new VolumeSetupError(`configmap "${name}" not found`);
  const values = configMap ? configMapBytes(configMap) : new Map<string, Buffer>();
  return keysPayload(
    values,
    source.items,
    defaultMode,
    source.optional === true,
    (key) => `configmap references non-existent config key: ${key}`,
  );
}

async function secretPayload(
  reader: ObjectReader,
  name: string,
  source: { items?: KeyToPath[]; optional?: boolean },
  defaultMode: number,
): Promise<Payload> {
  const secret = await reader.secret(name);
  if (!secret && !source.optional) throw new VolumeSetupError(`secret "${name}" not found`);
  const values = secret ? secretBytes(secret) : new Map<string, Buffer>();
  return keysPayload(
    values,
    source.items,
    defaultMode,
    source.optional === true,
    (key) => `references non-existent secret key: ${key}`,
  );
}

function downwardPayload(
  pod: Pod,
  items: readonly DownwardItem[],
  defaultMode: number,
  nodeAllocatable: ResourceList,
): Payload {
  const payload: Payload = new Map();
  for (const [i, item] of items.entries()) {
    let value: string;
    try {
      if (item.fieldRef) value = metadataFieldValue(pod, item.fieldRef);
      else if (item.resourceFieldRef) {
        if (!item.resourceFieldRef.containerName) {
          throw new Error(
            `resourceFieldRef ${item.resourceFieldRef.resource}: containerName is required in volumes`,
          );
        }
        value = resourceFieldValue(item.resourceFieldRef, pod, undefined, nodeAllocatable);
      } else throw new Error("one of fieldRef and resourceFieldRef is required");
    } catch (error) {
      throw new VolumeSetupError(`items[${i}] (path "${item.path}"): ${messageOf(error)}`);
    }
    payload.set(item.path, {
      data: Buffer.from(value, "utf8"),
      mode: modeOf(item.mode, defaultMode, `items[${i}]`),
    });
  }
  return payload;
}

export interface PayloadInput {
  pod: Pod;
  volume: Volume;
  reader: ObjectReader;
  nodeAllocatable: ResourceList;
  tokens: ServiceAccountTokenSource | undefined;
}

/** The payload of a configMap, secret, downwardAPI or projected volume. */
export async function volumePayload(input: PayloadInput): Promise<Payload> {
  const { pod, volume, reader } = input;
  if (volume.configMap) {
    const mode = modeOf(volume.configMap.defaultMode, DEFAULT_MODE, "configMap.defaultMode");
    return configMapPayload(reader, volume.configMap, mode);
  }
  if (volume.secret) {
    const mode = modeOf(volume.secret.defaultMode, DEFAULT_MODE, "secret.defaultMode");
    return secretPayload(reader, volume.secret.secretName ?? "", volume.secret, mode);
  }
  if (volume.downwardAPI) {
    const mode = modeOf(volume.downwardAPI.defaultMode, DEFAULT_MODE, "downwardAPI.defaultMode");
    return downwardPayload(pod, volume.downwardAPI.items ?? [], mode, input.nodeAllocatable);
  }
  if (volume.projected) return projectedPayload(input);
  throw new VolumeSetupError("not a configMap, secret, downwardAPI or projected volume");
}

async function projectedPayload(input: PayloadInput): Promise<Payload> {
  const { pod, reader } = input;
  const projected = input.volume.projected ?? {};
  const mode = modeOf(projected.defaultMode, DEFAULT_MODE, "projected.defaultMode");
  const payload: Payload = new Map();
  for (const [i, source] of (projected.sources ?? []).entries()) {
    let part: Payload;
    if (source.configMap) part = await configMapPayload(reader, source.configMap, mode);
    else if (source.secret) part = await secretPayload(reader, source.secret.name ?? "", source.secret, mode);
    else if (source.downwardAPI)
      part = downwardPayload(pod, source.downwardAPI.items ?? [], mode, input.nodeAllocatable);
    else if (source.serviceAccountToken) {
      const token = source.serviceAccountToken;
      if (!input.tokens) {
        throw new VolumeSetupError(
          `sources[${i}].serviceAccountToken (path "${token.path}"): this agent has no service account token source (PodConfigContext.serviceAccountTokens) to request a token`,
        );
      }
      const serviceAccountName = pod.spec?.serviceAccountName || "default";
      let value: string;
      try {
        value = await input.tokens.getToken({
          namespace: pod.metadata?.namespace ?? "",
          serviceAccountName,
          ...(token.audience ? { audience: token.audience } : {}),
          expirationSeconds: token.expirationSeconds ?? 3600,
          boundPod: { name: pod.metadata?.name ?? "", uid: pod.metadata?.uid ?? "" },
        });
      } catch (error) {
        throw new VolumeSetupError(
          `failed to fetch token: serviceaccount ${pod.metadata?.namespace}/${serviceAccountName}: ${messageOf(error)}`,
        );
      }
      part = new Map([[token.path, { data: Buffer.from(value, "utf8"), mode }]]);
    } else if (source.clusterTrustBundle) {
      if (source.clusterTrustBundle.optional) continue;
      throw new VolumeSetupError(`sources[${i}].clusterTrustBundle is not supported by Deckhand`);
    } else {
      throw new VolumeSetupError(`sources[${i}] sets no projection`);
    }
    for (const [path, file] of part) payload.set(path, file);
  }
  return payload;
}
