// OpenAPI v3 documents generated from the kind schemas (src/api/schema), shaped like kube-apiserver's
// /openapi/v3: a root listing one document per group-version, and per group-version documents with
// `components.schemas` named like upstream (io.k8s.api.core.v1.Pod, io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta),
// `x-kubernetes-group-version-kind` on kinds and on operations, and paths for every verb. kubectl reads them for
// `apply` (server-side field validation: PATCH operations must declare `fieldValidation`; strategic-merge
// metadata from x-kubernetes-patch-* extensions) and for `explain` (walks properties through $ref and allOf).

import { createHash } from "node:crypto";
import type { ResourceDefinition } from "./resource.ts";
import { Scale } from "./schema/autoscaling/scale-types.ts";
import { namedSchema, schemaName } from "./schema/dsl.ts";
import { DeleteOptions, Patch, Status, WatchEvent } from "./schema/meta.ts";
import { encodeSwaggerProtobuf, swaggerFromV3 } from "./schema/openapi-v2.ts";

type Json = Record<string, unknown>;

const REF_PREFIX = "#/components/schemas/";
const META = "io.k8s.apimachinery.pkg.apis.meta.v1";
const FIELD_ANNOTATIONS = ["description", "default"];

/** "api/v1" or "apis/apps/v1" */
export function groupVersionPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

/** Converts schemas to OpenAPI, collecting every named definition they reference. */
class ComponentCollector {
  readonly schemas = new Map<string, Json>();

  /** Adds a named definition (and what it references) to components.schemas; returns its component name. */
  add(schema: object, extensions: Json = {}): string {
    const name = schemaName(schema);
    if (!name) throw new Error("only named schemas can become OpenAPI components");
    if (!this.schemas.has(name)) {
      this.schemas.set(name, {}); // placeholder first: breaks reference cycles
      const canonical = (namedSchema(name) ?? schema) as Json;
      this.schemas.set(name, this.convert(canonical, true));
    }
    const existing = this.schemas.get(name) as Json;
    Object.assign(existing, extensions);
    return name;
  }

  convert(node: Json, top = false): Json {
    const name = schemaName(node);
    if (name && !top) {
      this.add(node);
      const ref = { $ref: `${REF_PREFIX}${name}` };
      const canonical = (namedSchema(name) ?? {}) as Json;
      const extras: Json = {};
      for (const key of Object.keys(node)) {
        const fieldLevel =
          FIELD_ANNOTATIONS.includes(key) ||
          key.startsWith("x-kubernetes-patch") ||
          key.startsWith("x-kubernetes-list");
        if (fieldLevel && JSON.stringify(node[key]) !== JSON.stringify(canonical[key]))
          extras[key] = node[key];
      }
      return Object.keys(extras).length === 0 ? ref : { ...extras, allOf: [ref] };
    }
    const out: Json = {};
    for (const [key, value] of Object.entries(node)) {
      if (key === "properties") {
        const props: Json = {};
        for (const [p, sub] of Object.entries(value as Record<string, Json>)) props[p] = this.convert(sub);
        out.properties = props;
      } else if (key === "items" || (key === "additionalProperties" && typeof value === "object")) {
        out[key] = this.convert(value as Json);
      } else if (key === "oneOf" || key === "allOf" || key === "anyOf") {
        out[key] = (value as Json[]).map((v) => this.convert(v));
      } else if (key === "required") {
        if (Array.isArray(value) && value.length > 0) out.required = value;
      } else {
        out[key] = value;
      }
    }
    return out;
  }
}

function param(
  name: string,
  location: "query" | "path",
  description: string,
  type = "string",
  required = false,
): Json {
  const p: Json = { description, in: location, name, schema: { type, uniqueItems: true } };
  if (required) p.required = true;
  return p;
}

const P = {
  pretty: param("pretty", "query", "If 'true', then the output is pretty printed."),
  dryRun: param(
    "dryRun",
    "query",
    "When present, indicates that modifications should not be persisted. Valid values are: - All: all dry run stages will be processed",
  ),
  fieldManager: param(
    "fieldManager",
    "query",
    "fieldManager is a name associated with the actor or entity that is making these changes.",
  ),
  fieldValidation: param(
    "fieldValidation",
    "query",
    "fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields. Valid values are: - Ignore, - Warn (the default), - Strict: fail the request on unknown fields.",
  ),
  force: param(
    "force",
    "query",
    'Force is going to "force" Apply requests: re-acquire conflicting fields owned by other people.',
    "boolean",
  ),
  gracePeriodSeconds: param(
    "gracePeriodSeconds",
    "query",
    "The duration in seconds before the object should be deleted.",
    "integer",
  ),
  orphanDependents: param(
    "orphanDependents",
    "query",
    "Deprecated: please use the PropagationPolicy.",
    "boolean",
  ),
  propagationPolicy: param(
    "propagationPolicy",
    "query",
    "Whether and how garbage collection will be performed: Orphan, Background or Foreground.",
  ),
  name: (kind: string) => param("name", "path", `name of the ${kind}`, "string", true),
  namespace: param(
    "namespace",
    "path",
    "object name and auth scope, such as for teams and projects",
    "string",
    true,
  ),
};

const LIST_PARAMS: Json[] = [
  param(
    "allowWatchBookmarks",
    "query",
    'allowWatchBookmarks requests watch events with type "BOOKMARK".',
    "boolean",
  ),
  param(
    "continue",
    "query",
    "The continue option should be set when retrieving more results from the server.",
  ),
  param(
    "fieldSelector",
    "query",
    "A selector to restrict the list of returned objects by their fields. Defaults to everything.",
  ),
  param(
    "labelSelector",
    "query",
    "A selector to restrict the list of returned objects by their labels. Defaults to everything.",
  ),
  param("limit", "query", "limit is a maximum number of responses to return for a list call.", "integer"),
  param(
    "resourceVersion",
    "query",
    "resourceVersion sets a constraint on what resource versions a request may be served from.",
  ),
  param(
    "resourceVersionMatch",
    "query",
    "resourceVersionMatch determines how resourceVersion is applied to list calls.",
  ),
  param(
    "sendInitialEvents",
    "query",
    "`sendInitialEvents=true` may be set together with `watch=true`.",
    "boolean",
  ),
  param("timeoutSeconds", "query", "Timeout for the list/watch call.", "integer"),
  param(
    "watch",
    "query",
    "Watch for changes to the described resources and return them as a stream of add, update, and remove notifications.",
    "boolean",
  ),
];

function ref(name: string): Json {
  return { $ref: `${REF_PREFIX}${name}` };
}

function content(
  schemaRef: Json,
  types = ["application/json", "application/yaml", "application/vnd.kubernetes.protobuf"],
): Json {
  return Object.fromEntries(types.map((t) => [t, { schema: schemaRef }]));
}

function responses(codes: Record<string, [string, Json]>): Json {
  const out: Json = {};
  for (const [code, [description, schemaRef]] of Object.entries(codes)) {
    out[code] = { content: content(schemaRef), description };
  }
  out["401"] = { description: "Unauthorized" };
  return out;
}

interface Gvk {
  group: string;
  version: string;
  kind: string;
}

function opId(verb: string, def: ResourceDefinition, namespaced: boolean, suffix = ""): string {
  const groupWord = def.group ? (def.group.split(".")[0] as string) : "core";
  const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
  return `${verb}${cap(groupWord)}${cap(def.version)}${namespaced ? "Namespaced" : ""}${def.kind}${suffix}`;
}

function tag(def: ResourceDefinition): string {
  const groupWord = def.group
    ? def.group
        .split(".")
        .map((w, i) => (i === 0 ? w : w.charAt(0).toUpperCase() + w.slice(1)))
        .join("")
    : "core";
  return `${groupWord}_${def.version}`;
}

function operation(
  def: ResourceDefinition,
  action: string,
  operationId: string,
  description: string,
  gvk: Gvk | undefined,
  extra: Json,
): Json {
  const op: Json = { description, operationId, tags: [tag(def)], "x-kubernetes-action": action, ...extra };
  if (gvk) op["x-kubernetes-group-version-kind"] = { group: gvk.group, kind: gvk.kind, version: gvk.version };
  return op;
}

function writeOps(
  def: ResourceDefinition,
  namespaced: boolean,
  objectRef: Json,
  gvk: Gvk,
  suffix: string,
  label: string,
): Json {
  const ops: Json = {};
  ops.get = operation(
    def,
    "get",
    opId("read", def, namespaced, suffix),
    `read ${label} of the specified ${def.kind}`,
    gvk,
    {
      responses: responses({ "200": ["OK", objectRef] }),
    },
  );
  ops.put = operation(
    def,
    "put",
    opId("replace", def, namespaced, suffix),
    `replace ${label} of the specified ${def.kind}`,
    gvk,
    {
      parameters: [P.dryRun, P.fieldManager, P.fieldValidation],
      requestBody: { content: { "*/*": { schema: objectRef } }, required: true },
      responses: responses({ "200": ["OK", objectRef], "201": ["Created", objectRef] }),
    },
  );
  ops.patch = operation(
    def,
    "patch",
    opId("patch", def, namespaced, suffix),
    `partially update ${label} of the specified ${def.kind}`,
    gvk,
    {
      parameters: [P.dryRun, P.fieldManager, P.fieldValidation, P.force],
      requestBody: {
        content: Object.fromEntries(
          [
            "application/apply-patch+yaml",
            "application/json-patch+json",
            "application/merge-patch+json",
            "application/strategic-merge-patch+json",
          ].map((t) => [t, { schema: ref(`${META}.Patch`) }]),
        ),
        required: true,
      },
      responses: responses({ "200": ["OK", objectRef], "201": ["Created", objectRef] }),
    },
  );
  return ops;
}

function resourcePaths(
  def: ResourceDefinition,
  kindName: string,
  collector: ComponentCollector,
): Record<string, Json> {
  const paths: Record<string, Json> = {};
  const prefix = `/${groupVersionPath(def.group, def.version)}`;
  const gvk: Gvk = { group: def.group, version: def.version, kind: def.kind };
  const objectRef = ref(kindName);
  const listRef = ref(`${kindName}List`);
  const ns = def.namespaced;
  const base = ns ? `${prefix}/namespaces/{namespace}/${def.plural}` : `${prefix}/${def.plural}`;
  const scopeParams = ns ? [P.namespace, P.pretty] : [P.pretty];
  const verbs = new Set(def.verbs);

  const collection: Json = { parameters: scopeParams };
  if (verbs.has("list")) {
    collection.get = operation(
      def,
      "list",
      opId("list", def, ns),
      `list or watch objects of kind ${def.kind}`,
      gvk,
      {
        parameters: LIST_PARAMS,
        responses: responses({ "200": ["OK", listRef] }),
      },
    );
  }
  if (verbs.has("create")) {
    collection.post = operation(def, "post", opId("create", def, ns), `create a ${def.kind}`, gvk, {
      parameters: [P.dryRun, P.fieldManager, P.fieldValidation],
      requestBody: { content: { "*/*": { schema: objectRef } }, required: true },
      responses: responses({
        "200": ["OK", objectRef],
        "201": ["Created", objectRef],
        "202": ["Accepted", objectRef],
      }),
    });
  }
  if (verbs.has("deletecollection")) {
    collection.delete = operation(
      def,
      "deletecollection",
      opId("deleteCollection", def, ns),
      `delete collection of ${def.kind}`,
      gvk,
      {
        parameters: [P.dryRun, P.gracePeriodSeconds, P.orphanDependents, P.propagationPolicy, ...LIST_PARAMS],
        requestBody: { content: { "*/*": { schema: ref(`${META}.DeleteOptions`) } } },
        responses: responses({ "200": ["OK", ref(`${META}.Status`)] }),
      },
    );
  }
  if (Object.keys(collection).length > 1) paths[base] = collection;

  const item: Json = { parameters: [P.name(def.kind), ...scopeParams] };
  if (verbs.has("get")) {
    item.get = operation(def, "get", opId("read", def, ns), `read the specified ${def.kind}`, gvk, {
      responses: responses({ "200": ["OK", objectRef] }),
    });
  }
  if (verbs.has("update") || verbs.has("patch")) {
    const w = writeOps(def, ns, objectRef, gvk, "", "");
    if (verbs.has("update"))
      item.put = { ...(w.put as Json), description: `replace the specified ${def.kind}` };
    if (verbs.has("patch"))
      item.patch = { ...(w.patch as Json), description: `partially update the specified ${def.kind}` };
  }
  if (verbs.has("delete")) {
    item.delete = operation(def, "delete", opId("delete", def, ns), `delete a ${def.kind}`, gvk, {
      parameters: [P.dryRun, P.gracePeriodSeconds, P.orphanDependents, P.propagationPolicy],
      requestBody: { content: { "*/*": { schema: ref(`${META}.DeleteOptions`) } } },
      responses: responses({ "200": ["OK", objectRef], "202": ["Accepted", objectRef] }),
    });
  }
  if (Object.keys(item).length > 1) paths[`${base}/{name}`] = item;

  if (ns && verbs.has("list")) {
    paths[`${prefix}/${def.plural}`] = {
      parameters: [P.pretty],
      get: operation(
        def,
        "list",
        opId("list", def, false, "ForAllNamespaces"),
        `list or watch objects of kind ${def.kind}`,
        gvk,
        {
          parameters: LIST_PARAMS,
          responses: responses({ "200": ["OK", listRef] }),
        },
      ),
    };
  }

  for (const sub of def.subresources) {
    const subPath = `${base}/{name}/${sub}`;
    const params = { parameters: [P.name(def.kind), ...scopeParams] };
    if (sub === "status") {
      paths[subPath] = { ...params, ...writeOps(def, ns, objectRef, gvk, "Status", "status") };
    } else if (sub === "scale") {
      const scaleName = collector.add(Scale);
      const scaleGvk: Gvk = { group: "autoscaling", version: "v1", kind: "Scale" };
      paths[subPath] = { ...params, ...writeOps(def, ns, ref(scaleName), scaleGvk, "Scale", "scale") };
    } else if (sub === "binding") {
      const bindingName = "io.k8s.api.core.v1.Binding";
      paths[subPath] = {
        ...params,
        post: operation(
          def,
          "post",
          opId("create", def, ns, "Binding"),
          `create binding of a ${def.kind}`,
          {
            group: "",
            version: "v1",
            kind: "Binding",
          },
          {
            parameters: [P.dryRun, P.fieldManager, P.fieldValidation],
            requestBody: { content: { "*/*": { schema: ref(bindingName) } }, required: true },
            responses: responses({ "200": ["OK", ref(bindingName)], "201": ["Created", ref(bindingName)] }),
          },
        ),
      };
    } else if (sub === "log") {
      paths[subPath] = {
        ...params,
        get: operation(
          def,
          "get",
          opId("read", def, ns, "Log"),
          `read log of the specified ${def.kind}`,
          gvk,
          {
            parameters: [
              "container",
              "follow",
              "previous",
              "sinceSeconds",
              "tailLines",
              "timestamps",
              "limitBytes",
            ].map((n) => param(n, "query", `log option ${n}`)),
            responses: {
              "200": { content: { "text/plain": { schema: { type: "string" } } }, description: "OK" },
            },
          },
        ),
      };
    } else {
      const connect = (method: string) =>
        operation(
          def,
          "connect",
          `connect${method}${def.group ? "" : "Core"}${def.version.toUpperCase()}Namespaced${def.kind}${sub.charAt(0).toUpperCase()}${sub.slice(1)}`,
          `connect ${method.toUpperCase()} requests to ${sub} of ${def.kind}`,
          undefined,
          {
            responses: { "200": { content: { "*/*": { schema: { type: "string" } } }, description: "OK" } },
          },
        );
      paths[subPath] = { ...params, get: connect("Get"), post: connect("Post") };
    }
  }
  return paths;
}

function listSchema(kindName: string, gvk: Gvk): Json {
  const short = gvk.kind;
  return {
    description: `${short}List is a list of ${short} objects.`,
    properties: {
      apiVersion: {
        description: "APIVersion defines the versioned schema of this representation of an object.",
        type: "string",
      },
      items: { description: `List of ${short} objects.`, items: ref(kindName), type: "array" },
      kind: {
        description: "Kind is a string value representing the REST resource this object represents.",
        type: "string",
      },
      metadata: { allOf: [ref(`${META}.ListMeta`)], default: {}, description: "Standard list metadata." },
    },
    required: ["items"],
    type: "object",
    "x-kubernetes-group-version-kind": [{ group: gvk.group, kind: `${short}List`, version: gvk.version }],
  };
}

/** The OpenAPI v3 document for one group-version ("api/v1", "apis/apps/v1"). */
export function openAPIDocument(defs: readonly ResourceDefinition[], gvPath: string): Json {
  const collector = new ComponentCollector();
  const served = defs.filter((d) => groupVersionPath(d.group, d.version) === gvPath);
  if (served.length === 0) throw new Error(`no resources are served under ${gvPath}`);
  for (const s of [DeleteOptions, Status, WatchEvent, Patch]) collector.add(s);
  collector.add(namedSchema(`${META}.ListMeta`) as object);
  let paths: Record<string, Json> = {};
  for (const def of served) {
    const gvk: Gvk = { group: def.group, version: def.version, kind: def.kind };
    const kindName = collector.add(def.schema);
    const component = collector.schemas.get(kindName) as Json;
    const gvks = (component["x-kubernetes-group-version-kind"] as Gvk[] | undefined) ?? [];
    if (!gvks.some((g) => g.group === gvk.group && g.version === gvk.version && g.kind === gvk.kind)) {
      component["x-kubernetes-group-version-kind"] = [
        ...gvks,
        { group: gvk.group, kind: gvk.kind, version: gvk.version },
      ];
    }
    if (def.verbs.includes("list")) collector.schemas.set(`${kindName}List`, listSchema(kindName, gvk));
    paths = { ...paths, ...resourcePaths(def, kindName, collector) };
  }
  const sortedSchemas = Object.fromEntries(
    [...collector.schemas.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
  return {
    openapi: "3.0.0",
    info: { title: "Kubernetes", version: "v1.32.0" },
    paths: Object.fromEntries(Object.entries(paths).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    components: { schemas: sortedSchemas },
  };
}

export interface OpenAPIDocumentSet {
  /** The /openapi/v3 root: { paths: { "api/v1": { serverRelativeURL: "/openapi/v3/api/v1?hash=…" } } }. */
  root: Json;
  /** Serialized documents by group-version path, with the hash the root advertises. */
  documents: Map<string, { json: string; hash: string }>;
}

/** Every group-version's document and the root that lists them (hash: SHA-512 of the JSON, upper-case hex). */
export function openAPIDocuments(defs: readonly ResourceDefinition[]): OpenAPIDocumentSet {
  const gvPaths = [...new Set(defs.map((d) => groupVersionPath(d.group, d.version)))].sort();
  const documents = new Map<string, { json: string; hash: string }>();
  const rootPaths: Json = {};
  for (const gv of gvPaths) {
    const json = JSON.stringify(openAPIDocument(defs, gv));
    const hash = createHash("sha512").update(json).digest("hex").toUpperCase();
    documents.set(gv, { json, hash });
    rootPaths[gv] = { serverRelativeURL: `/openapi/v3/${gv}?hash=${hash}` };
  }
  return { root: { paths: rootPaths }, documents };
}

export interface OpenAPIV2 {
  /** Swagger 2.0 JSON (served for Accept: application/json). */
  json: string;
  /** gnostic openapi_v2.Document protobuf (Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf). */
  protobuf: Buffer;
  /** SHA-512 of the JSON, upper-case hex; usable as an ETag. */
  hash: string;
}

/** The /openapi/v2 document kubectl 1.27 and 1.28 need for `explain` and `apply`. */
export function openAPIV2(defs: readonly ResourceDefinition[]): OpenAPIV2 {
  const v3 = openAPIDocuments(defs);
  const swagger = swaggerFromV3([...v3.documents.values()].map((d) => JSON.parse(d.json) as Json));
  const json = JSON.stringify(swagger);
  return {
    json,
    protobuf: encodeSwaggerProtobuf(swagger),
    hash: createHash("sha512").update(json).digest("hex").toUpperCase(),
  };
}
