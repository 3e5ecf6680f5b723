// A container's environment, as kubelet's makeEnvironmentVariables builds it: envFrom first (later sources
// win), then env in declaration order (value with $(VAR) expansion over what is declared so far and the
// service variables, or valueFrom), then the service variables nobody declared.
import type { Container } from "../../api/schema/core/container.ts";
import type { Pod } from "../../api/schema/core/pod-types.ts";
import type { KeyValue } from "../../runtime/types.ts";
import { allocatableOf, messageOf, type PodConfigContext, PodConfigError } from "./context.ts";
import { expand, mappingFor } from "./expansion.ts";
import { podFieldValue } from "./field-ref.ts";
import { ObjectReader, secretBytes } from "./objects.ts";
import { resourceFieldValue } from "./resource-ref.ts";
import { serviceEnvForPod } from "./service-env.ts";

const REASON = "CreateContainerConfigError";

export interface EnvInput {
  pod: Pod;
  container: Container;
  podIP: string;
  podIPs: string[];
  ctx: PodConfigContext;
}

/**
 * Upstream's relaxed environment variable name rule (RelaxedEnvironmentVariableValidation, on by default in
 * 1.32): non-empty printable ASCII without '='. envFrom keys breaking it are skipped with a warning event.
 */
export function isValidEnvName(name: string): boolean {
  return name.length > 0 && /^[\x20-\x3c\x3e-\x7e]+$/.test(name);
}

function fail(container: Container, what: string, error: unknown): never {
  if (error instanceof PodConfigError) throw error;
  throw new PodConfigError(REASON, `container "${container.name}": ${what}: ${messageOf(error)}`, {
    cause: error,
  });
}

/** The container's environment: declared variables in order, then the remaining service variables (sorted). */
export async function makeEnvironment(input: EnvInput): Promise<KeyValue[]> {
  const { pod, container, ctx } = input;
  const namespace = pod.metadata?.namespace ?? "";
  const reader = new ObjectReader(ctx.api, namespace, REASON);

  let serviceEnv: Map<string, string>;
  try {
    serviceEnv = await serviceEnvForPod(pod, ctx.api);
  } catch (error) {
    throw new PodConfigError(
      REASON,
      `failed to list services when setting up env vars: ${messageOf(error)}`,
      {
        cause: error,
      },
    );
  }

  const declared = new Map<string, string>();
  for (const [i, from] of (container.envFrom ?? []).entries()) {
    const prefix = from.prefix ?? "";
    let values: Map<string, string> | undefined;
    let kind: "configMap" | "secret";
    let name: string;
    if (from.configMapRef) {
      kind = "configMap";
      name = from.configMapRef.name ?? "";
      const configMap = await reader.configMap(name);
      if (!configMap) {
        if (from.configMapRef.optional) continue;
        throw new PodConfigError(REASON, `configmap "${name}" not found`);
      }
      values = new Map(Object.entries(configMap.data ?? {}));
    } else if (from.secretRef) {
      kind = "secret";
      name = from.secretRef.name ?? "";
      const secret = await reader.secret(name);
      if (!secret) {
        if (from.secretRef.optional) continue;
        throw new PodConfigError(REASON, `secret "${name}" not found`);
      }
      values = new Map([...secretBytes(secret)].map(([k, v]) => [k, v.toString("utf8")]));
    } else {
      throw new PodConfigError(
        REASON,
        `container "${container.name}": envFrom[${i}] must set configMapRef or secretRef`,
      );
    }
    const invalid: string[] = [];
    for (const [key, value] of values) {
      const envKey = prefix + key;
      if (!isValidEnvName(envKey)) {
        invalid.push(envKey);
        continue;
      }
      declared.set(envKey, value);
    }
    if (invalid.length > 0) {
      ctx.warn?.(
        pod,
        "InvalidEnvironmentVariableNames",
        `Keys [${invalid.sort().join(", ")}] from the EnvFrom ${kind} ${namespace}/${name} were skipped since they are considered invalid environment variable names.`,
      );
    }
  }

  const mapping = mappingFor(declared, serviceEnv);
  for (const env of container.env ?? []) {
    let value = env.value ?? "";
    const from = env.valueFrom;
    if (value !== "") {
      value = expand(value, mapping);
    } else if (from?.fieldRef) {
      try {
        value = podFieldValue(pod, from.fieldRef, {
          podIP: input.podIP,
          podIPs: input.podIPs,
          hostIPs: ctx.hostIPs,
        });
      } catch (error) {
        fail(container, `env ${env.name}: valueFrom.fieldRef`, error);
      }
    } else if (from?.resourceFieldRef) {
      try {
        value = resourceFieldValue(from.resourceFieldRef, pod, container, allocatableOf(ctx));
      } catch (error) {
        fail(container, `env ${env.name}: valueFrom.resourceFieldRef`, error);
      }
    } else if (from?.configMapKeyRef) {
      const ref = from.configMapKeyRef;
      const name = ref.name ?? "";
      const configMap = await reader.configMap(name);
      if (!configMap) {
        if (ref.optional) continue;
        throw new PodConfigError(REASON, `configmap "${name}" not found`);
      }
      const found = configMap.data?.[ref.key];
      if (found === undefined) {
        if (ref.optional) continue;
        throw new PodConfigError(REASON, `couldn't find key ${ref.key} in ConfigMap ${namespace}/${name}`);
      }
      value = found;
    } else if (from?.secretKeyRef) {
      const ref = from.secretKeyRef;
      const name = ref.name ?? "";
      const secret = await reader.secret(name);
      if (!secret) {
        if (ref.optional) continue;
        throw new PodConfigError(REASON, `secret "${name}" not found`);
      }
      const found = secretBytes(secret).get(ref.key);
      if (found === undefined) {
        if (ref.optional) continue;
        throw new PodConfigError(REASON, `couldn't find key ${ref.key} in Secret ${namespace}/${name}`);
      }
      value = found.toString("utf8");
    }
    declared.set(env.name, value);
  }

  const result: KeyValue[] = [...declared].map(([key, value]) => ({ key, value }));
  for (const [key, value] of serviceEnv) if (!declared.has(key)) result.push({ key, value });
  return result;
}
