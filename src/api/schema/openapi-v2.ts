// The Swagger 2.0 form of the same documents (/openapi/v2), which kubectl 1.27 and 1.28 still read for
// `explain` and `apply` (strategic-merge metadata, fieldValidation support). kubectl asks for it as protobuf
// (gnostic's openapi_v2.Document), so this module also holds a small encoder for exactly the messages used.
// Everything is derived from the v3 documents, which come from the kind schemas.

type Json = Record<string, unknown>;

const V3_REF = "#/components/schemas/";
const V2_REF = "#/definitions/";

/** Converts one v3 schema node to Swagger 2.0 (refs, allOf wrappers, oneOf primitives). */
function convertSchema(node: Json): Json {
  if (Array.isArray(node.allOf) && node.allOf.length === 1 && !node.properties) {
    const { allOf, default: _default, ...rest } = node;
    return { ...convertSchema((allOf as Json[])[0] as Json), ...convertAnnotations(rest) };
  }
  if (typeof node.$ref === "string") {
    const { $ref, default: _default, ...rest } = node;
    return { $ref: $ref.replace(V3_REF, V2_REF), ...convertAnnotations(rest) };
  }
  const out: Json = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === "oneOf") continue;
    if (key === "properties") {
      out.properties = Object.fromEntries(
        Object.entries(value as Record<string, Json>).map(([k, v]) => [k, convertSchema(v)]),
      );
    } else if (key === "items" || (key === "additionalProperties" && typeof value === "object")) {
      out[key] = convertSchema(value as Json);
    } else if (key !== "default") {
      out[key] = value;
    }
  }
  if (Array.isArray(node.oneOf) && out.type === undefined) out.type = "string"; // Quantity, IntOrString
  return out;
}

function convertAnnotations(node: Json): Json {
  const out: Json = {};
  for (const [key, value] of Object.entries(node))
    if (key === "description" || key.startsWith("x-")) out[key] = value;
  return out;
}

const OPERATIONS = ["get", "put", "post", "delete", "patch"] as const;

/** One Swagger 2.0 document covering every group-version's v3 document. */
export function swaggerFromV3(documents: Iterable<Json>): Json {
  const definitions: Json = {};
  const paths: Json = {};
  for (const doc of documents) {
    const schemas = ((doc.components as Json | undefined)?.schemas ?? {}) as Record<string, Json>;
    for (const [name, schema] of Object.entries(schemas)) definitions[name] = convertSchema(schema);
    for (const [path, item] of Object.entries((doc.paths ?? {}) as Record<string, Json>)) {
      const out: Json = {};
      const shared = (item.parameters as Json[] | undefined) ?? [];
      if (shared.length > 0) out.parameters = shared.map(convertParameter);
      for (const method of OPERATIONS) {
        const op = item[method] as Json | undefined;
        if (!op) continue;
        const converted: Json = {
          operationId: op.operationId,
          description: op.description,
          parameters: ((op.parameters as Json[] | undefined) ?? []).map(convertParameter),
          responses: { "200": { description: "OK" } },
        };
        for (const [k, v] of Object.entries(op)) if (k.startsWith("x-")) converted[k] = v;
        out[method] = converted;
      }
      paths[path] = out;
    }
  }
  return { swagger: "2.0", info: { title: "Kubernetes", version: "v1.32.0" }, paths, definitions };
}

function convertParameter(p: Json): Json {
  const schema = (p.schema as Json | undefined) ?? {};
  const out: Json = { name: p.name, in: p.in, type: schema.type ?? "string" };
  if (p.description) out.description = p.description;
  if (p.required) out.required = true;
  return out;
}

// Protobuf encoding of gnostic's openapi_v2 messages -------------------------------------------------------

class Writer {
  private readonly parts: Buffer[] = [];

  private varint(n: number): void {
    const bytes: number[] = [];
    let v = n;
    while (v > 0x7f) {
      bytes.push((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    bytes.push(v);
    this.parts.push(Buffer.from(bytes));
  }

  string(field: number, value: string | undefined): this {
    if (value === undefined || value === "") return this;
    return this.bytes(field, Buffer.from(value, "utf8"));
  }

  bool(field: number, value: boolean | undefined): this {
    if (!value) return this;
    this.varint(field << 3);
    this.varint(1);
    return this;
  }

  bytes(field: number, value: Buffer): this {
    this.varint((field << 3) | 2);
    this.varint(value.length);
    this.parts.push(value);
    return this;
  }

  message(field: number, build: (w: Writer) => void): this {
    const w = new Writer();
    build(w);
    return this.bytes(field, w.finish());
  }

  finish(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** Any { yaml = 2 } — JSON is valid YAML, which is how kubectl decodes vendor extensions and enums. */
function any(w: Writer, field: number, value: unknown): void {
  w.message(field, (a) => a.string(2, JSON.stringify(value)));
}

function vendorExtensions(w: Writer, field: number, node: Json): void {
  for (const [k, v] of Object.entries(node)) {
    if (!k.startsWith("x-")) continue;
    w.message(field, (named) => {
      named.string(1, k);
      any(named, 2, v);
    });
  }
}

function schema(w: Writer, s: Json): void {
  w.string(1, s.$ref as string | undefined);
  w.string(2, s.format as string | undefined);
  w.string(4, s.description as string | undefined);
  for (const r of (s.required as string[] | undefined) ?? []) w.string(19, r);
  for (const e of (s.enum as unknown[] | undefined) ?? []) any(w, 20, e);
  if (s.additionalProperties !== undefined) {
    const ap = s.additionalProperties;
    w.message(21, (item) => {
      if (typeof ap === "boolean") item.bool(2, ap);
      else item.message(1, (sub) => schema(sub, ap as Json));
    });
  }
  if (typeof s.type === "string") w.message(22, (t) => t.string(1, s.type as string));
  if (s.items) w.message(23, (items) => items.message(1, (sub) => schema(sub, s.items as Json)));
  if (s.properties) {
    w.message(25, (props) => {
      for (const [name, sub] of Object.entries(s.properties as Record<string, Json>)) {
        props.message(1, (named) => {
          named.string(1, name);
          named.message(2, (v) => schema(v, sub));
        });
      }
    });
  }
  vendorExtensions(w, 31, s);
}

function parameter(w: Writer, p: Json): void {
  // ParametersItem { parameter = 1 } → Parameter { non_body_parameter = 2 } → NonBodyParameter { query = 3 | path = 4 }
  w.message(1, (param) =>
    param.message(2, (nonBody) =>
      nonBody.message(p.in === "path" ? 4 : 3, (q) => {
        q.bool(1, p.required as boolean | undefined);
        q.string(2, p.in as string);
        q.string(3, p.description as string | undefined);
        q.string(4, p.name as string);
        q.string(p.in === "path" ? 5 : 6, p.type as string);
      }),
    ),
  );
}

function operation(w: Writer, op: Json): void {
  w.string(3, op.description as string | undefined);
  w.string(5, op.operationId as string | undefined);
  for (const p of (op.parameters as Json[] | undefined) ?? []) w.message(8, (item) => parameter(item, p));
  w.message(9, (responses) =>
    responses.message(1, (named) => {
      named.string(1, "200");
      named.message(2, (value) => value.message(1, (response) => response.string(1, "OK")));
    }),
  );
  vendorExtensions(w, 13, op);
}

const PATH_ITEM_FIELDS: Record<string, number> = { get: 2, put: 3, post: 4, delete: 5, patch: 8 };

/** Serializes a Swagger 2.0 document as gnostic's openapi_v2.Document protobuf. */
export function encodeSwaggerProtobuf(doc: Json): Buffer {
  const w = new Writer();
  w.string(1, doc.swagger as string);
  const info = doc.info as Json;
  w.message(2, (i) => i.string(1, info.title as string).string(2, info.version as string));
  w.message(8, (paths) => {
    for (const [path, item] of Object.entries(doc.paths as Record<string, Json>)) {
      paths.message(2, (named) => {
        named.string(1, path);
        named.message(2, (pi) => {
          for (const [method, field] of Object.entries(PATH_ITEM_FIELDS)) {
            const op = item[method] as Json | undefined;
            if (op) pi.message(field, (o) => operation(o, op));
          }
          for (const p of (item.parameters as Json[] | undefined) ?? [])
            pi.message(9, (x) => parameter(x, p));
        });
      });
    }
  });
  w.message(9, (defs) => {
    for (const [name, s] of Object.entries(doc.definitions as Record<string, Json>)) {
      defs.message(1, (named) => {
        named.string(1, name);
        named.message(2, (v) => schema(v, s));
      });
    }
  });
  return w.finish();
}
