// Upstream's PodSpec validation (pkg/apis/core/validation) for the fields Deckhand serves, with the same
// reasons, paths and wording. Used for Pods and for every pod template.

import {
  child,
  duplicate,
  type FieldError,
  forbidden,
  index,
  invalid,
  notSupported,
  required,
} from "../field-errors.ts";
import { validateLabels } from "../meta-validation.ts";
import {
  isConfigMapKey,
  isDNS1123Label,
  isDNS1123Subdomain,
  isEnvVarName,
  isIP,
  isQualifiedName,
  isValidLabelValue,
  isValidPortName,
  isValidPortNum,
} from "../names.ts";
import { quantityValue } from "../quantity.ts";
import type { Container, EnvVar, LifecycleHandler, Probe, ResourceRequirements } from "./container.ts";
import type { PodSpec } from "./pod-types.ts";
import type { Affinity, NodeSelectorRequirement, Toleration } from "./scheduling.ts";
import { VOLUME_SOURCES, type Volume } from "./volume.ts";

function notFound(field: string, value: unknown): FieldError {
  return { reason: "FieldValueNotFound", field, message: `Not found: ${JSON.stringify(value)}` };
}

function nonNegative(value: number | undefined, path: string): FieldError[] {
  return value !== undefined && value < 0 ? [invalid(path, value, "must be greater than or equal to 0")] : [];
}

function validateMode(mode: number | undefined, path: string): FieldError[] {
  if (mode === undefined) return [];
  return mode < 0 || mode > 0o777
    ? [invalid(path, mode, "must be a number between 0 and 0777 (octal), both inclusive")]
    : [];
}

function validateKeyToPaths(
  items: { key: string; path: string; mode?: number }[] | undefined,
  path: string,
): FieldError[] {
  const errs: FieldError[] = [];
  (items ?? []).forEach((item, i) => {
    const p = index(path, i);
    if (!item.key) errs.push(required(child(p, "key")));
    errs.push(...validateLocalPath(item.path, child(p, "path")));
    errs.push(...validateMode(item.mode, child(p, "mode")));
  });
  return errs;
}

function validateLocalPath(target: string, path: string): FieldError[] {
  if (!target) return [required(path)];
  if (target.startsWith("/")) return [invalid(path, target, "must be a relative path")];
  if (target.split("/").includes("..")) return [invalid(path, target, "must not contain '..'")];
  return [];
}

export function validateVolumes(
  volumes: Volume[] | undefined,
  path: string,
): { errs: FieldError[]; names: Set<string> } {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  (volumes ?? []).forEach((v, i) => {
    const p = index(path, i);
    if (!v.name) {
      errs.push(required(child(p, "name")));
    } else {
      for (const msg of isDNS1123Label(v.name)) errs.push(invalid(child(p, "name"), v.name, msg));
      if (names.has(v.name)) errs.push(duplicate(child(p, "name"), v.name));
      names.add(v.name);
    }
    const sources = VOLUME_SOURCES.filter((s) => v[s] !== undefined);
    if (sources.length === 0) errs.push(required(p, "must specify a volume type"));
    if (sources.length > 1) {
      errs.push(forbidden(child(p, sources[1] as string), "may not specify more than 1 volume type"));
      return;
    }
    if (v.hostPath) {
      if (!v.hostPath.path) errs.push(required(child(child(p, "hostPath"), "path")));
      const types = [
        "",
        "DirectoryOrCreate",
        "Directory",
        "FileOrCreate",
        "File",
        "Socket",
        "CharDevice",
        "BlockDevice",
      ];
      if (v.hostPath.type !== undefined && !types.includes(v.hostPath.type)) {
        errs.push(notSupported(child(child(p, "hostPath"), "type"), v.hostPath.type, types));
      }
    }
    if (v.emptyDir?.medium && !["", "Memory", "HugePages"].includes(v.emptyDir.medium)) {
      errs.push(notSupported(child(child(p, "emptyDir"), "medium"), v.emptyDir.medium, ["", "Memory"]));
    }
    if (v.secret) {
      const sp = child(p, "secret");
      if (!v.secret.secretName) errs.push(required(child(sp, "secretName")));
      errs.push(...validateMode(v.secret.defaultMode, child(sp, "defaultMode")));
      errs.push(...validateKeyToPaths(v.secret.items, child(sp, "items")));
    }
    if (v.configMap) {
      const cp = child(p, "configMap");
      if (!v.configMap.name) errs.push(required(child(cp, "name")));
      errs.push(...validateMode(v.configMap.defaultMode, child(cp, "defaultMode")));
      errs.push(...validateKeyToPaths(v.configMap.items, child(cp, "items")));
    }
    if (v.persistentVolumeClaim && !v.persistentVolumeClaim.claimName) {
      errs.push(required(child(child(p, "persistentVolumeClaim"), "claimName")));
    }
    if (v.downwardAPI) {
      const dp = child(p, "downwardAPI");
      errs.push(...validateMode(v.downwardAPI.defaultMode, child(dp, "defaultMode")));
      (v.downwardAPI.items ?? []).forEach((item, j) => {
        const ip = index(child(dp, "items"), j);
        errs.push(...validateLocalPath(item.path, child(ip, "path")));
        errs.push(...validateMode(item.mode, child(ip, "mode")));
        if (!item.fieldRef && !item.resourceFieldRef)
          errs.push(required(ip, "one of fieldRef and resourceFieldRef is required"));
      });
    }
    if (v.projected) {
      const pp = child(p, "projected");
      errs.push(...validateMode(v.projected.defaultMode, child(pp, "defaultMode")));
      (v.projected.sources ?? []).forEach((source, j) => {
        const sp = index(child(pp, "sources"), j);
        const kinds = Object.keys(source);
        if (kinds.length > 1) errs.push(forbidden(sp, "may not specify more than 1 volume type per source"));
        if (source.configMap)
          errs.push(...validateKeyToPaths(source.configMap.items, child(child(sp, "configMap"), "items")));
        if (source.secret)
          errs.push(...validateKeyToPaths(source.secret.items, child(child(sp, "secret"), "items")));
        const token = source.serviceAccountToken;
        if (token) {
          const tp = child(sp, "serviceAccountToken");
          errs.push(...validateLocalPath(token.path, child(tp, "path")));
          if (token.expirationSeconds !== undefined && token.expirationSeconds < 600) {
            errs.push(
              invalid(
                child(tp, "expirationSeconds"),
                token.expirationSeconds,
                "may not specify a duration less than 10 minutes",
              ),
            );
          }
        }
      });
    }
  });
  return { errs, names };
}

function validateProbeHandler(
  h: Record<string, unknown>,
  path: string,
  handlers: readonly string[],
): FieldError[] {
  const set = handlers.filter((k) => h[k] !== undefined && h[k] !== null);
  if (set.length === 0) return [required(path, "must specify a handler type")];
  if (set.length > 1)
    return [forbidden(child(path, set[1] as string), "may not specify more than 1 handler type")];
  return validateActionPorts(h, path);
}

function validatePortOrName(port: number | string | undefined, path: string): FieldError[] {
  if (typeof port === "number") return isValidPortNum(port).map((m) => invalid(path, port, m));
  if (typeof port === "string") return isValidPortName(port).map((m) => invalid(path, port, m));
  return [required(path)];
}

function validateActionPorts(h: Record<string, unknown>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const httpGet = h.httpGet as { port?: number | string; scheme?: string; path?: string } | undefined;
  if (httpGet) {
    errs.push(...validatePortOrName(httpGet.port, child(child(path, "httpGet"), "port")));
    if (httpGet.scheme && !["HTTP", "HTTPS"].includes(httpGet.scheme)) {
      errs.push(notSupported(child(child(path, "httpGet"), "scheme"), httpGet.scheme, ["HTTP", "HTTPS"]));
    }
  }
  const tcp = h.tcpSocket as { port?: number | string } | undefined;
  if (tcp) errs.push(...validatePortOrName(tcp.port, child(child(path, "tcpSocket"), "port")));
  const exec = h.exec as { command?: string[] } | undefined;
  if (exec && (exec.command ?? []).length === 0) errs.push(required(child(child(path, "exec"), "command")));
  const grpc = h.grpc as { port?: number } | undefined;
  if (grpc)
    errs.push(
      ...isValidPortNum(grpc.port ?? 0).map((m) => invalid(child(child(path, "grpc"), "port"), grpc.port, m)),
    );
  return errs;
}

function validateProbe(
  probe: Probe | undefined,
  path: string,
  kind: "liveness" | "readiness" | "startup",
): FieldError[] {
  if (!probe) return [];
  const errs = validateProbeHandler(probe as Record<string, unknown>, path, [
    "exec",
    "httpGet",
    "tcpSocket",
    "grpc",
  ]);
  errs.push(...nonNegative(probe.initialDelaySeconds, child(path, "initialDelaySeconds")));
  for (const f of ["timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold"] as const) {
    const v = probe[f];
    if (v !== undefined && v < 1) errs.push(invalid(child(path, f), v, "must be greater than or equal to 1"));
  }
  if (kind !== "readiness" && probe.successThreshold !== undefined && probe.successThreshold !== 1) {
    errs.push(invalid(child(path, "successThreshold"), probe.successThreshold, "must be 1"));
  }
  if (probe.terminationGracePeriodSeconds !== undefined) {
    if (kind === "readiness") {
      errs.push(
        invalid(
          child(path, "terminationGracePeriodSeconds"),
          probe.terminationGracePeriodSeconds,
          "must not be set for readinessProbes",
        ),
      );
    } else if (probe.terminationGracePeriodSeconds <= 0) {
      errs.push(
        invalid(
          child(path, "terminationGracePeriodSeconds"),
          probe.terminationGracePeriodSeconds,
          "must be greater than 0",
        ),
      );
    }
  }
  return errs;
}

function validateLifecycleHandler(h: LifecycleHandler | undefined, path: string): FieldError[] {
  if (!h) return [];
  return validateProbeHandler(h as Record<string, unknown>, path, ["exec", "httpGet", "tcpSocket", "sleep"]);
}

function validateEnv(env: EnvVar[] | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  (env ?? []).forEach((e, i) => {
    const p = index(path, i);
    if (!e.name) {
      errs.push(required(child(p, "name")));
    } else {
      for (const msg of isEnvVarName(e.name)) errs.push(invalid(child(p, "name"), e.name, msg));
    }
    const from = e.valueFrom;
    if (from) {
      const fp = child(p, "valueFrom");
      const sources = (["fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef"] as const).filter(
        (k) => from[k] !== undefined,
      );
      if (sources.length === 0) {
        errs.push(
          invalid(
            fp,
            "",
            "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
          ),
        );
      } else if (sources.length > 1) {
        errs.push(invalid(fp, "", "may not have more than one field specified at a time"));
      }
      if (e.value) errs.push(invalid(fp, "", "may not be specified when `value` is not empty"));
      if (from.fieldRef && !from.fieldRef.fieldPath)
        errs.push(required(child(child(fp, "fieldRef"), "fieldPath")));
      if (from.configMapKeyRef) {
        const kp = child(fp, "configMapKeyRef");
        if (!from.configMapKeyRef.name) errs.push(required(child(kp, "name")));
        if (!from.configMapKeyRef.key) errs.push(required(child(kp, "key")));
        else
          for (const msg of isConfigMapKey(from.configMapKeyRef.key))
            errs.push(invalid(child(kp, "key"), from.configMapKeyRef.key, msg));
      }
      if (from.secretKeyRef) {
        const kp = child(fp, "secretKeyRef");
        if (!from.secretKeyRef.name) errs.push(required(child(kp, "name")));
        if (!from.secretKeyRef.key) errs.push(required(child(kp, "key")));
        else
          for (const msg of isConfigMapKey(from.secretKeyRef.key))
            errs.push(invalid(child(kp, "key"), from.secretKeyRef.key, msg));
      }
      if (from.resourceFieldRef && !from.resourceFieldRef.resource) {
        errs.push(required(child(child(fp, "resourceFieldRef"), "resource")));
      }
    }
  });
  return errs;
}

const STANDARD_CONTAINER_RESOURCES = new Set(["cpu", "memory", "ephemeral-storage"]);

function validateResources(res: ResourceRequirements | undefined, path: string): FieldError[] {
  if (!res) return [];
  const errs: FieldError[] = [];
  for (const group of ["limits", "requests"] as const) {
    for (const [name, value] of Object.entries(res[group] ?? {})) {
      const p = `${child(path, group)}[${name}]`;
      if (!name.includes("/") && !STANDARD_CONTAINER_RESOURCES.has(name) && !name.startsWith("hugepages-")) {
        errs.push(notSupported(p, name, ["cpu", "ephemeral-storage", "memory"]));
        continue;
      }
      for (const msg of isQualifiedName(name)) errs.push(invalid(p, name, msg));
      const v = quantityValue(value);
      if (v !== undefined && v < 0) errs.push(invalid(p, value, "must be greater than or equal to 0"));
    }
  }
  for (const [name, request] of Object.entries(res.requests ?? {})) {
    const limit = res.limits?.[name];
    if (limit === undefined) continue;
    const r = quantityValue(request);
    const l = quantityValue(limit);
    if (r !== undefined && l !== undefined && r > l) {
      errs.push(
        invalid(
          `${child(path, "requests")}[${name}]`,
          request,
          `must be less than or equal to ${name} limit of ${limit}`,
        ),
      );
    }
  }
  return errs;
}

interface ContainerContext {
  volumes: Set<string>;
  portNames: Set<string>;
  containerNames: Set<string>;
  hostNetwork: boolean;
}

function validateContainer(c: Container, path: string, ctx: ContainerContext, init: boolean): FieldError[] {
  const errs: FieldError[] = [];
  if (!c.name) {
    errs.push(required(child(path, "name")));
  } else {
    for (const msg of isDNS1123Label(c.name)) errs.push(invalid(child(path, "name"), c.name, msg));
    if (ctx.containerNames.has(c.name)) errs.push(duplicate(child(path, "name"), c.name));
    ctx.containerNames.add(c.name);
  }
  if (!c.image || c.image.trim() === "") {
    errs.push(required(child(path, "image")));
  } else if (c.image !== c.image.trim()) {
    errs.push(invalid(child(path, "image"), c.image, "must not have leading or trailing whitespace"));
  }
  (c.ports ?? []).forEach((port, i) => {
    const p = index(child(path, "ports"), i);
    if (port.name) {
      for (const msg of isValidPortName(port.name)) errs.push(invalid(child(p, "name"), port.name, msg));
      if (ctx.portNames.has(port.name)) errs.push(duplicate(child(p, "name"), port.name));
      ctx.portNames.add(port.name);
    }
    if (!port.containerPort) {
      errs.push(required(child(p, "containerPort")));
    } else {
      for (const msg of isValidPortNum(port.containerPort))
        errs.push(invalid(child(p, "containerPort"), port.containerPort, msg));
    }
    if (port.hostPort) {
      for (const msg of isValidPortNum(port.hostPort))
        errs.push(invalid(child(p, "hostPort"), port.hostPort, msg));
      if (ctx.hostNetwork && port.hostPort !== port.containerPort) {
        errs.push(
          invalid(
            child(p, "hostPort"),
            port.hostPort,
            "must match `containerPort` when `hostNetwork` is true",
          ),
        );
      }
    }
    if (port.hostIP && !isIP(port.hostIP))
      errs.push(invalid(child(p, "hostIP"), port.hostIP, "must be a valid IP address"));
  });
  errs.push(...validateEnv(c.env, child(path, "env")));
  (c.envFrom ?? []).forEach((from, i) => {
    const p = index(child(path, "envFrom"), i);
    const n = (from.configMapRef ? 1 : 0) + (from.secretRef ? 1 : 0);
    if (n === 0) errs.push(invalid(p, "", "must specify one of: `configMapRef` or `secretRef`"));
    if (n > 1) errs.push(invalid(p, "", "may not have more than one field specified at a time"));
    if (from.prefix)
      for (const msg of isEnvVarName(from.prefix)) errs.push(invalid(child(p, "prefix"), from.prefix, msg));
  });
  const mountPaths = new Set<string>();
  (c.volumeMounts ?? []).forEach((m, i) => {
    const p = index(child(path, "volumeMounts"), i);
    if (!m.name) errs.push(required(child(p, "name")));
    else if (!ctx.volumes.has(m.name)) errs.push(notFound(child(p, "name"), m.name));
    if (!m.mountPath) {
      errs.push(required(child(p, "mountPath")));
    } else {
      if (mountPaths.has(m.mountPath))
        errs.push(invalid(child(p, "mountPath"), m.mountPath, "must be unique"));
      mountPaths.add(m.mountPath);
    }
    if (m.subPath && m.subPathExpr)
      errs.push(
        invalid(child(p, "subPathExpr"), m.subPathExpr, "subPathExpr and subPath are mutually exclusive"),
      );
    if (m.subPath) errs.push(...validateSubPath(m.subPath, child(p, "subPath")));
  });
  errs.push(...validateResources(c.resources, child(path, "resources")));
  if (init) {
    const sidecar = c.restartPolicy === "Always";
    if (c.restartPolicy !== undefined && !sidecar) {
      errs.push(notSupported(child(path, "restartPolicy"), c.restartPolicy, ["Always"]));
    }
    if (!sidecar) {
      for (const probe of ["livenessProbe", "readinessProbe", "startupProbe"] as const) {
        if (c[probe])
          errs.push(
            forbidden(child(path, probe), "may not be set for init containers without restartPolicy=Always"),
          );
      }
      if (c.lifecycle)
        errs.push(
          forbidden(
            child(path, "lifecycle"),
            "may not be set for init containers without restartPolicy=Always",
          ),
        );
    }
  } else if (c.restartPolicy !== undefined) {
    errs.push(forbidden(child(path, "restartPolicy"), "may not be set for non-init containers"));
  }
  errs.push(...validateProbe(c.livenessProbe, child(path, "livenessProbe"), "liveness"));
  errs.push(...validateProbe(c.readinessProbe, child(path, "readinessProbe"), "readiness"));
  errs.push(...validateProbe(c.startupProbe, child(path, "startupProbe"), "startup"));
  errs.push(
    ...validateLifecycleHandler(c.lifecycle?.postStart, child(child(path, "lifecycle"), "postStart")),
  );
  errs.push(...validateLifecycleHandler(c.lifecycle?.preStop, child(child(path, "lifecycle"), "preStop")));
  const sc = c.securityContext;
  if (sc) {
    const sp = child(path, "securityContext");
    errs.push(...nonNegative(sc.runAsUser, child(sp, "runAsUser")));
    errs.push(...nonNegative(sc.runAsGroup, child(sp, "runAsGroup")));
    if (sc.privileged && sc.allowPrivilegeEscalation === false) {
      errs.push(invalid(sp, "", "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"));
    }
  }
  return errs;
}

function validateSubPath(subPath: string, path: string): FieldError[] {
  if (subPath.startsWith("/")) return [invalid(path, subPath, "must be a relative path")];
  if (subPath.split("/").includes("..")) return [invalid(path, subPath, "must not contain '..'")];
  return [];
}

function validateNodeSelectorRequirement(
  r: NodeSelectorRequirement,
  path: string,
  byField: boolean,
): FieldError[] {
  const errs: FieldError[] = [];
  const values = r.values ?? [];
  switch (r.operator) {
    case "In":
    case "NotIn":
      if (values.length === 0)
        errs.push(required(child(path, "values"), "must be specified when `operator` is 'In' or 'NotIn'"));
      break;
    case "Exists":
    case "DoesNotExist":
      if (values.length > 0)
        errs.push(
          forbidden(
            child(path, "values"),
            "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
          ),
        );
      break;
    case "Gt":
    case "Lt":
      if (values.length !== 1)
        errs.push(
          required(child(path, "values"), "must be specified single value when `operator` is 'Lt' or 'Gt'"),
        );
      break;
    default:
      errs.push(invalid(child(path, "operator"), r.operator, "not a valid selector operator"));
  }
  if (!byField) for (const msg of isQualifiedName(r.key)) errs.push(invalid(child(path, "key"), r.key, msg));
  return errs;
}

function validateAffinity(a: Affinity | undefined, path: string): FieldError[] {
  if (!a) return [];
  const errs: FieldError[] = [];
  const na = a.nodeAffinity;
  if (na) {
    const np = child(path, "nodeAffinity");
    const req = na.requiredDuringSchedulingIgnoredDuringExecution;
    if (req) {
      const rp = child(np, "requiredDuringSchedulingIgnoredDuringExecution");
      if (req.nodeSelectorTerms.length === 0)
        errs.push(required(child(rp, "nodeSelectorTerms"), "must have at least one node selector term"));
      req.nodeSelectorTerms.forEach((term, i) => {
        const tp = index(child(rp, "nodeSelectorTerms"), i);
        (term.matchExpressions ?? []).forEach((r, j) => {
          errs.push(...validateNodeSelectorRequirement(r, index(child(tp, "matchExpressions"), j), false));
        });
        (term.matchFields ?? []).forEach((r, j) => {
          errs.push(...validateNodeSelectorRequirement(r, index(child(tp, "matchFields"), j), true));
        });
      });
    }
    (na.preferredDuringSchedulingIgnoredDuringExecution ?? []).forEach((term, i) => {
      const tp = index(child(np, "preferredDuringSchedulingIgnoredDuringExecution"), i);
      if (term.weight < 1 || term.weight > 100)
        errs.push(invalid(child(tp, "weight"), term.weight, "must be in the range 1-100"));
      (term.preference.matchExpressions ?? []).forEach((r, j) => {
        const rp = index(child(child(tp, "preference"), "matchExpressions"), j);
        errs.push(...validateNodeSelectorRequirement(r, rp, false));
      });
    });
  }
  for (const kind of ["podAffinity", "podAntiAffinity"] as const) {
    const pa = a[kind];
    if (!pa) continue;
    const pp = child(path, kind);
    (pa.requiredDuringSchedulingIgnoredDuringExecution ?? []).forEach((term, i) => {
      const tp = index(child(pp, "requiredDuringSchedulingIgnoredDuringExecution"), i);
      if (!term.topologyKey) errs.push(required(child(tp, "topologyKey"), "can not be empty"));
    });
    (pa.preferredDuringSchedulingIgnoredDuringExecution ?? []).forEach((term, i) => {
      const tp = index(child(pp, "preferredDuringSchedulingIgnoredDuringExecution"), i);
      if (term.weight < 1 || term.weight > 100)
        errs.push(invalid(child(tp, "weight"), term.weight, "must be in the range 1-100"));
      if (!term.podAffinityTerm.topologyKey)
        errs.push(required(child(child(tp, "podAffinityTerm"), "topologyKey"), "can not be empty"));
    });
  }
  return errs;
}

export function validateTolerations(tolerations: Toleration[] | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  (tolerations ?? []).forEach((t, i) => {
    const p = index(path, i);
    if (t.key) for (const msg of isQualifiedName(t.key)) errs.push(invalid(child(p, "key"), t.key, msg));
    if (!t.key && t.operator !== "Exists") {
      errs.push(
        invalid(
          child(p, "operator"),
          t.operator ?? "",
          'operator must be Exists when `key` is empty, which means "match all values and all keys"',
        ),
      );
    }
    if (t.tolerationSeconds !== undefined && t.effect !== "NoExecute") {
      errs.push(
        invalid(
          child(p, "effect"),
          t.effect ?? "",
          "effect must be 'NoExecute' when `tolerationSeconds` is set",
        ),
      );
    }
    switch (t.operator ?? "") {
      case "":
      case "Equal":
        if (t.value)
          for (const msg of isValidLabelValue(t.value)) errs.push(invalid(child(p, "value"), t.value, msg));
        break;
      case "Exists":
        if (t.value)
          errs.push(
            invalid(child(p, "operator"), t.value, "value must be empty when `operator` is 'Exists'"),
          );
        break;
      default:
        errs.push(notSupported(child(p, "operator"), t.operator, ["Equal", "Exists"]));
    }
    if (t.effect && !["NoExecute", "NoSchedule", "PreferNoSchedule"].includes(t.effect)) {
      errs.push(notSupported(child(p, "effect"), t.effect, ["NoExecute", "NoSchedule", "PreferNoSchedule"]));
    }
  });
  return errs;
}

/** Validates a PodSpec found at `path` ("spec" for pods, "spec.template.spec" for templates). */
export function validatePodSpec(spec: PodSpec, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const vols = validateVolumes(spec.volumes, child(path, "volumes"));
  errs.push(...vols.errs);
  const ctx: ContainerContext = {
    volumes: vols.names,
    portNames: new Set(),
    containerNames: new Set(),
    hostNetwork: spec.hostNetwork === true,
  };
  if (!spec.containers || spec.containers.length === 0) errs.push(required(child(path, "containers")));
  (spec.initContainers ?? []).forEach((c, i) => {
    errs.push(...validateContainer(c, index(child(path, "initContainers"), i), ctx, true));
  });
  (spec.containers ?? []).forEach((c, i) => {
    errs.push(...validateContainer(c, index(child(path, "containers"), i), ctx, false));
  });
  if ((spec.ephemeralContainers ?? []).length > 0) {
    errs.push(forbidden(child(path, "ephemeralContainers"), "cannot be set on create"));
  }
  if (spec.dnsPolicy === "None" && !spec.dnsConfig) {
    errs.push(required(child(path, "dnsConfig"), "must provide `dnsConfig` when `dnsPolicy` is None"));
  }
  const dns = spec.dnsConfig;
  if (dns) {
    const dp = child(path, "dnsConfig");
    if ((dns.nameservers ?? []).length > 3)
      errs.push(invalid(child(dp, "nameservers"), dns.nameservers, "must not have more than 3 nameservers"));
    (dns.nameservers ?? []).forEach((ns, i) => {
      if (!isIP(ns)) errs.push(invalid(index(child(dp, "nameservers"), i), ns, "must be valid IP address"));
    });
    if ((dns.searches ?? []).length > 32)
      errs.push(invalid(child(dp, "searches"), dns.searches, "must not have more than 32 search paths"));
    (dns.options ?? []).forEach((o, i) => {
      if (!o.name) errs.push(required(child(index(child(dp, "options"), i), "name"), "must not be empty"));
    });
  }
  errs.push(...nonNegative(spec.terminationGracePeriodSeconds, child(path, "terminationGracePeriodSeconds")));
  if (
    spec.activeDeadlineSeconds !== undefined &&
    (spec.activeDeadlineSeconds < 1 || spec.activeDeadlineSeconds > 2147483647)
  ) {
    errs.push(
      invalid(
        child(path, "activeDeadlineSeconds"),
        spec.activeDeadlineSeconds,
        "must be between 1 and 2147483647, inclusive",
      ),
    );
  }
  errs.push(...validateLabels(spec.nodeSelector, child(path, "nodeSelector")));
  if (spec.nodeName) {
    for (const msg of isDNS1123Subdomain(spec.nodeName))
      errs.push(invalid(child(path, "nodeName"), spec.nodeName, msg));
  }
  if (spec.serviceAccountName) {
    for (const msg of isDNS1123Subdomain(spec.serviceAccountName)) {
      errs.push(invalid(child(path, "serviceAccountName"), spec.serviceAccountName, msg));
    }
  }
  if (spec.hostname)
    for (const msg of isDNS1123Label(spec.hostname))
      errs.push(invalid(child(path, "hostname"), spec.hostname, msg));
  if (spec.subdomain)
    for (const msg of isDNS1123Label(spec.subdomain))
      errs.push(invalid(child(path, "subdomain"), spec.subdomain, msg));
  errs.push(...validateAffinity(spec.affinity, child(path, "affinity")));
  errs.push(...validateTolerations(spec.tolerations, child(path, "tolerations")));
  (spec.hostAliases ?? []).forEach((alias, i) => {
    const p = index(child(path, "hostAliases"), i);
    if (!isIP(alias.ip)) errs.push(invalid(child(p, "ip"), alias.ip, "must be valid IP address"));
    (alias.hostnames ?? []).forEach((h, j) => {
      for (const msg of isDNS1123Subdomain(h)) errs.push(invalid(index(child(p, "hostnames"), j), h, msg));
    });
  });
  (spec.readinessGates ?? []).forEach((gate, i) => {
    for (const msg of isQualifiedName(gate.conditionType)) {
      errs.push(
        invalid(child(index(child(path, "readinessGates"), i), "conditionType"), gate.conditionType, msg),
      );
    }
  });
  (spec.imagePullSecrets ?? []).forEach((s, i) => {
    if (!s.name) errs.push(required(child(index(child(path, "imagePullSecrets"), i), "name")));
  });
  const sc = spec.securityContext;
  if (sc) {
    const sp = child(path, "securityContext");
    errs.push(...nonNegative(sc.runAsUser, child(sp, "runAsUser")));
    errs.push(...nonNegative(sc.runAsGroup, child(sp, "runAsGroup")));
    errs.push(...nonNegative(sc.fsGroup, child(sp, "fsGroup")));
  }
  return errs;
}

/** Pod spec fields that may change on update, per upstream's ValidatePodUpdate. */
export function validatePodSpecUpdate(spec: PodSpec, old: PodSpec, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (old.activeDeadlineSeconds !== undefined) {
    if (spec.activeDeadlineSeconds === undefined) {
      errs.push(
        invalid(
          child(path, "activeDeadlineSeconds"),
          null,
          "must not update from a positive integer to nil value",
        ),
      );
    } else if (spec.activeDeadlineSeconds > old.activeDeadlineSeconds) {
      errs.push(
        invalid(
          child(path, "activeDeadlineSeconds"),
          spec.activeDeadlineSeconds,
          "must be less than or equal to previous value",
        ),
      );
    }
  }
  // Compare everything else after carrying over what may change.
  const mutable = structuredClone(spec);
  const withImages = (list: Container[] | undefined, prev: Container[] | undefined) =>
    list?.map((c, i) => {
      const before = prev?.[i];
      return before && before.name === c.name ? { ...c, image: before.image } : c;
    });
  if (mutable.containers) mutable.containers = withImages(mutable.containers, old.containers) as Container[];
  if (mutable.initContainers) mutable.initContainers = withImages(mutable.initContainers, old.initContainers);
  delete mutable.activeDeadlineSeconds;
  const oldComparable = structuredClone(old);
  delete oldComparable.activeDeadlineSeconds;
  const oldTolerations = old.tolerations ?? [];
  const newTolerations = spec.tolerations ?? [];
  const isAddition = oldTolerations.every((t) => newTolerations.some((n) => sameJson(n, t)));
  if (isAddition) mutable.tolerations = old.tolerations;
  if (
    oldComparable.terminationGracePeriodSeconds !== undefined &&
    oldComparable.terminationGracePeriodSeconds < 0
  ) {
    oldComparable.terminationGracePeriodSeconds = mutable.terminationGracePeriodSeconds;
  }
  if ((old.schedulingGates ?? []).length > 0) {
    // Gates may be removed, and scheduling constraints added, while the pod is still gated.
    mutable.schedulingGates = old.schedulingGates;
    mutable.nodeSelector = old.nodeSelector;
    mutable.affinity = old.affinity;
  }
  if (!sameJson(mutable, oldComparable)) {
    errs.push(
      forbidden(
        path,
        "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
      ),
    );
  }
  return errs;
}

/** JSON-level equality (key order independent). */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== "object") return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => sameJson(v, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const ak = Object.keys(ao).filter((k) => ao[k] !== undefined);
  const bk = Object.keys(bo).filter((k) => bo[k] !== undefined);
  return ak.length === bk.length && ak.every((k) => sameJson(ao[k], bo[k]));
}
