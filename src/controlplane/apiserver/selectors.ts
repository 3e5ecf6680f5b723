// Label and field selectors with upstream's grammar (k8s.io/apimachinery/pkg/labels and pkg/fields).
// Parsing is pure and throws a 400 ApiError naming what could not be parsed.

import { badRequest } from "./errors.ts";

// Label selectors ------------------------------------------------------------------------------------------

export type LabelOperator = "exists" | "!" | "=" | "!=" | "in" | "notin" | "gt" | "lt";

export interface LabelRequirement {
  key: string;
  operator: LabelOperator;
  values: string[];
}

export interface LabelSelector {
  readonly requirements: readonly LabelRequirement[];
  /** True when the selector selects everything (no requirements). */
  readonly empty: boolean;
  matches(labels: Record<string, string> | undefined): boolean;
  toString(): string;
}

type Token =
  | { kind: "id"; value: string }
  | { kind: "op"; value: "!" | "=" | "==" | "!=" | "(" | ")" | "," | ">" | "<" }
  | { kind: "end" };

const SPECIAL = new Set(["!", "=", "(", ")", ",", ">", "<"]);

/** Upstream's lexer separates tokens on these four only; any other character (\f, \v, U+00A0) is part of an identifier. */
function isWhitespace(c: string): boolean {
  return c === " " || c === "\t" || c === "\n" || c === "\r";
}

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i] as string;
    if (isWhitespace(c)) {
      i++;
      continue;
    }
    if (c === "=" && input[i + 1] === "=") {
      tokens.push({ kind: "op", value: "==" });
      i += 2;
      continue;
    }
    if (c === "!" && input[i + 1] === "=") {
      tokens.push({ kind: "op", value: "!=" });
      i += 2;
      continue;
    }
    if (SPECIAL.has(c)) {
      tokens.push({ kind: "op", value: c as "!" | "=" | "(" | ")" | "," | ">" | "<" });
      i++;
      continue;
    }
    let j = i;
    while (j < input.length && !SPECIAL.has(input[j] as string) && !isWhitespace(input[j] as string)) j++;
    tokens.push({ kind: "id", value: input.slice(i, j) });
    i = j;
  }
  tokens.push({ kind: "end" });
  return tokens;
}

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Checks a label key: [prefix/]name, upstream's qualified-name rules. Returns an error message or undefined. */
export function labelKeyError(key: string): string | undefined {
  const slash = key.indexOf("/");
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (slash >= 0) {
    const prefix = key.slice(0, slash);
    if (prefix.length === 0) return "prefix part must be non-empty";
    if (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix)) {
      return "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
    }
  }
  if (name.length === 0) return "name part must be non-empty";
  if (name.length > 63) return "name part must be no more than 63 characters";
  if (!NAME_PART.test(name)) {
    return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
  }
  return undefined;
}

/** Checks a label value. Returns an error message or undefined. */
export function labelValueError(value: string): string | undefined {
  if (value.length > 63) return "must be no more than 63 characters";
  if (!LABEL_VALUE.test(value)) {
    return "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
  }
  return undefined;
}

function parseError(message: string): never {
  throw badRequest(`unable to parse requirement: ${message}`);
}

function checkKey(key: string): void {
  const error = labelKeyError(key);
  if (error) parseError(`Invalid value: "${key}": ${error}`);
}

function checkValue(value: string): void {
  const error = labelValueError(value);
  if (error) parseError(`Invalid value: "${value}": ${error}`);
}

function matchRequirement(r: LabelRequirement, labels: Record<string, string> | undefined): boolean {
  const has = labels !== undefined && Object.hasOwn(labels, r.key);
  const value = has ? (labels as Record<string, string>)[r.key] : undefined;
  switch (r.operator) {
    case "exists":
      return has;
    case "!":
      return !has;
    case "=":
    case "in":
      return has && r.values.includes(value as string);
    case "!=":
    case "notin":
      return !has || !r.values.includes(value as string);
    case "gt":
    case "lt": {
      if (!has || !/^-?\d+$/.test(value as string)) return false;
      const n = Number(value);
      const bound = Number(r.values[0]);
      return r.operator === "gt" ? n > bound : n < bound;
    }
  }
}

function renderRequirement(r: LabelRequirement): string {
  switch (r.operator) {
    case "exists":
      return r.key;
    case "!":
      return `!${r.key}`;
    case "=":
      return `${r.key}=${r.values[0]}`;
    case "!=":
      return `${r.key}!=${r.values[0]}`;
    case "in":
      return `${r.key} in (${[...r.values].sort().join(",")})`;
    case "notin":
      return `${r.key} notin (${[...r.values].sort().join(",")})`;
    case "gt":
      return `${r.key}>${r.values[0]}`;
    case "lt":
      return `${r.key}<${r.values[0]}`;
  }
}

export function makeLabelSelector(requirements: LabelRequirement[]): LabelSelector {
  const sorted = [...requirements].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return {
    requirements: sorted,
    empty: sorted.length === 0,
    matches: (labels) => sorted.every((r) => matchRequirement(r, labels)),
    toString: () => sorted.map(renderRequirement).join(","),
  };
}

export const EVERYTHING: LabelSelector = makeLabelSelector([]);

/** Parses a `labelSelector` query parameter. */
export function parseLabelSelector(input: string | null | undefined): LabelSelector {
  if (input === null || input === undefined) return EVERYTHING;
  const tokens = tokenize(input);
  if (tokens.length === 1) return EVERYTHING;
  let pos = 0;
  const peek = () => tokens[pos] as Token;
  const next = () => tokens[pos++] as Token;
  const describe = (t: Token) => (t.kind === "end" ? "end of string" : `'${t.value}'`);
  const requirements: LabelRequirement[] = [];

  for (;;) {
    let t = next();
    if (t.kind === "op" && t.value === "!") {
      const key = next();
      if (key.kind !== "id") parseError(`found ${describe(key)}, expected: identifier after '!'`);
      checkKey(key.value);
      requirements.push({ key: key.value, operator: "!", values: [] });
    } else if (t.kind === "id") {
      const key = t.value;
      checkKey(key);
      const op = peek();
      if (op.kind === "end" || (op.kind === "op" && op.value === ",")) {
        requirements.push({ key, operator: "exists", values: [] });
      } else if (op.kind === "op" && (op.value === "=" || op.value === "==" || op.value === "!=")) {
        next();
        const v = peek();
        let value = "";
        if (v.kind === "id") {
          value = v.value;
          next();
        } else if (!(v.kind === "end" || (v.kind === "op" && v.value === ","))) {
          parseError(`found ${describe(v)}, expected: identifier`);
        }
        checkValue(value);
        requirements.push({ key, operator: op.value === "!=" ? "!=" : "=", values: [value] });
      } else if (op.kind === "op" && (op.value === ">" || op.value === "<")) {
        next();
        const v = next();
        if (v.kind !== "id" || !/^-?\d+$/.test(v.value)) {
          parseError(`for 'Gt', 'Lt' operators, the value must be an integer`);
        }
        requirements.push({ key, operator: op.value === ">" ? "gt" : "lt", values: [v.value] });
      } else if (op.kind === "id" && (op.value === "in" || op.value === "notin")) {
        next();
        const open = next();
        if (open.kind !== "op" || open.value !== "(") parseError(`found ${describe(open)}, expected: '('`);
        const values: string[] = [];
        for (;;) {
          const v = peek();
          if (v.kind === "id") {
            checkValue(v.value);
            values.push(v.value);
            next();
          } else if (v.kind === "op" && (v.value === "," || v.value === ")")) {
            // An empty element, e.g. "in (a,)": upstream accepts it as the empty value.
            values.push("");
          } else {
            parseError(`found ${describe(v)}, expected: ',', ')' or identifier`);
          }
          const sep = next();
          if (sep.kind === "op" && sep.value === ")") break;
          if (!(sep.kind === "op" && sep.value === ","))
            parseError(`found ${describe(sep)}, expected: ',' or ')'`);
        }
        requirements.push({ key, operator: op.value, values: [...new Set(values)] });
      } else {
        parseError(`found ${describe(op)}, expected: in, notin, =, ==, !=, gt, lt`);
      }
    } else {
      parseError(`found ${describe(t)}, expected: !, identifier, or 'end of string'`);
    }
    t = next();
    if (t.kind === "end") break;
    if (!(t.kind === "op" && t.value === ",")) parseError(`found ${describe(t)}, expected: ','`);
  }
  return makeLabelSelector(requirements);
}

/** A metav1.LabelSelector object (matchLabels + matchExpressions). */
export interface LabelSelectorObject {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}

/** Converts a metav1.LabelSelector into a selector (upstream LabelSelectorAsSelector). */
export function selectorFromObject(obj: LabelSelectorObject | undefined | null): LabelSelector {
  if (!obj) return EVERYTHING;
  const requirements: LabelRequirement[] = [];
  for (const [key, value] of Object.entries(obj.matchLabels ?? {})) {
    requirements.push({ key, operator: "=", values: [value] });
  }
  for (const e of obj.matchExpressions ?? []) {
    const operator = (
      { In: "in", NotIn: "notin", Exists: "exists", DoesNotExist: "!" } as Record<string, LabelOperator>
    )[e.operator];
    if (!operator) throw badRequest(`"${e.operator}" is not a valid label selector operator`);
    requirements.push({ key: e.key, operator, values: [...(e.values ?? [])] });
  }
  return makeLabelSelector(requirements);
}

/** A map selector (ReplicationController's spec.selector) as a selector. */
export function selectorFromMap(map: Record<string, string> | undefined): LabelSelector {
  return makeLabelSelector(
    Object.entries(map ?? {}).map(([key, value]) => ({ key, operator: "=", values: [value] })),
  );
}

// Field selectors ------------------------------------------------------------------------------------------

export interface FieldRequirement {
  field: string;
  operator: "=" | "!=";
  value: string;
}

export interface FieldSelector {
  readonly requirements: readonly FieldRequirement[];
  readonly empty: boolean;
  /** The value a requirement pins with "=" (metadata.name=x lets a list read one key). */
  exactValue(field: string): string | undefined;
}

/** Splits on unescaped `sep`, keeping escapes for the next stage. */
function splitUnescaped(input: string, sep: string): string[] {
  const parts: string[] = [];
  let current = "";
  for (let i = 0; i < input.length; i++) {
    const c = input[i] as string;
    if (c === "\\" && i + 1 < input.length) {
      current += c + input[i + 1];
      i++;
    } else if (c === sep) {
      parts.push(current);
      current = "";
    } else {
      current += c;
    }
  }
  parts.push(current);
  return parts;
}

function unescapeFieldValue(value: string): string {
  let out = "";
  for (let i = 0; i < value.length; i++) {
    const c = value[i] as string;
    if (c === "\\") {
      const n = value[i + 1];
      if (n === undefined || !"\\,=!".includes(n)) {
        throw badRequest(`invalid field selector: invalid escape sequence in value "${value}"`);
      }
      out += n;
      i++;
    } else if (c === "," || c === "=") {
      throw badRequest(`invalid field selector: unescaped '${c}' in value "${value}"`);
    } else {
      out += c;
    }
  }
  return out;
}

/** Parses a `fieldSelector` query parameter. Field names are checked later, per resource. */
export function parseFieldSelector(input: string | null | undefined): FieldSelector {
  const requirements: FieldRequirement[] = [];
  if (input !== null && input !== undefined && input.trim() !== "") {
    for (const part of splitUnescaped(input, ",")) {
      if (part.trim() === "") continue;
      let operator: "=" | "!=" = "=";
      let field = "";
      let raw = "";
      const notEqual = /^([^=!]*)!=(.*)$/s.exec(part);
      const equal = /^([^=!]*)==(.*)$/s.exec(part) ?? /^([^=!]*)=(.*)$/s.exec(part);
      if (notEqual) {
        operator = "!=";
        field = notEqual[1] as string;
        raw = notEqual[2] as string;
      } else if (equal) {
        field = equal[1] as string;
        raw = equal[2] as string;
      } else {
        throw badRequest(`invalid field selector: '${part}': does not contain one of '=', '==' or '!='`);
      }
      requirements.push({ field: field.trim(), operator, value: unescapeFieldValue(raw) });
    }
  }
  return {
    requirements,
    empty: requirements.length === 0,
    exactValue: (field) => requirements.find((r) => r.field === field && r.operator === "=")?.value,
  };
}

/** Field values of one object, by selector field name. */
export type FieldSet = (field: string) => string | undefined;

export function matchFields(selector: FieldSelector, fields: FieldSet): boolean {
  for (const r of selector.requirements) {
    const value = fields(r.field) ?? "";
    if (r.operator === "=" ? value !== r.value : value === r.value) return false;
  }
  return true;
}
