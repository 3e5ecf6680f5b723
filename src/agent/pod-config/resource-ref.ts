// Downward API resource selectors (resourceFieldRef): a container's requests and limits in units of a
// divisor; unset limits read as the node's allocatable amount, like upstream's defaultPodLimitsForDownwardAPI.
import { cpuMillis, wholeUnits } from "../../api/quantity.ts";
import type { Container } from "../../api/schema/core/container.ts";
import type { Pod } from "../../api/schema/core/pod-types.ts";
import type { ResourceList } from "./context.ts";

export interface ResourceFieldRef {
  containerName?: string;
  resource: string;
  divisor?: string | number;
}

const DEFAULTED_LIMITS = ["cpu", "memory", "ephemeral-storage"] as const;

function amount(list: ResourceList | undefined, name: string): string | undefined {
  return list?.[name];
}

function findContainer(pod: Pod, name: string): Container | undefined {
  return [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find((c) => c.name === name);
}

function isZero(divisor: string | number | undefined): boolean {
  if (divisor === undefined || divisor === "") return true;
  const text = String(divisor);
  return /^[+-]?0*(\.0*)?([a-zA-Z]*|[eE][+-]?\d+)$/.test(text);
}

/**
 * The value of `ref` for `container` (or for `ref.containerName` in the pod when given), as a decimal string:
 * CPU rounds up in units of the divisor's millicores, everything else in whole units of the divisor.
 */
export function resourceFieldValue(
  ref: ResourceFieldRef,
  pod: Pod,
  container: Container | undefined,
  nodeAllocatable: ResourceList,
): string {
  const target = ref.containerName ? findContainer(pod, ref.containerName) : container;
  if (!target) {
    throw new Error(
      ref.containerName
        ? `container ${ref.containerName} not found (resourceFieldRef ${ref.resource})`
        : `resourceFieldRef ${ref.resource}: containerName is required outside a container`,
    );
  }
  const [kind, name] = splitResource(ref.resource);
  if (!kind || !name || !(DEFAULTED_LIMITS as readonly string[]).includes(name)) {
    throw new Error(`unsupported container resource : ${ref.resource}`);
  }
  let value: string | undefined =
    kind === "limits" ? amount(target.resources?.limits, name) : amount(target.resources?.requests, name);
  if (value === undefined && kind === "limits") value = nodeAllocatable[name];
  const divisor = isZero(ref.divisor) ? "1" : String(ref.divisor);
  if (name === "cpu") {
    const millis = value === undefined ? 0 : cpuMillis(value);
    const per = cpuMillis(divisor);
    if (millis === undefined) throw new Error(`${ref.resource}: "${value}" is not a quantity`);
    if (!per)
      throw new Error(`resourceFieldRef ${ref.resource}: divisor "${divisor}" is not a positive quantity`);
    return String(Math.ceil(millis / per));
  }
  const units = value === undefined ? 0 : wholeUnits(value);
  const per = wholeUnits(divisor);
  if (units === undefined) throw new Error(`${ref.resource}: "${value}" is not a quantity`);
  if (!per)
    throw new Error(`resourceFieldRef ${ref.resource}: divisor "${divisor}" is not a positive quantity`);
  return String(Math.ceil(units / per));
}

function splitResource(resource: string): [string | undefined, string | undefined] {
  const dot = resource.indexOf(".");
  if (dot < 0) return [undefined, undefined];
  const kind = resource.slice(0, dot);
  if (kind !== "limits" && kind !== "requests") return [undefined, undefined];
  return [kind, resource.slice(dot + 1)];
}
