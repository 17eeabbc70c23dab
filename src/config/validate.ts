/**
 * Checks a parsed config against `ferry.schema.json`, read as data: the one schema editors use is
 * the one ferry enforces. The keywords it uses are the ones interpreted here (`type`,
 * `properties`, `additionalProperties`, `required`, `enum`, `const`, `anyOf`, `items`, `minItems`,
 * `minimum`, `maximum`, `exclusiveMinimum`, `minLength`, `pattern`, local `$ref`). Each problem
 * names its JSON path (`sites[1].routes[0].static.root`) and, for an unknown key, the known key it
 * was probably meant to be.
 *
 * @module
 */

import { didYouMean } from "./did_you_mean.ts";

/** One problem found in a config: where (a JSON path) and what. */
export interface ConfigProblem {
  /** `sites[1].routes[0].static.root`; `""` for the whole document. */
  path: string;
  /** What is wrong and what to do. */
  message: string;
}

/** A JSON Schema node (the subset ferry's schema uses). */
export interface SchemaNode {
  /** A JSON type or several. */
  type?: string | string[];
  /** Object members. */
  properties?: Record<string, SchemaNode>;
  /** Other members: false (none), or the schema they follow. */
  additionalProperties?: boolean | SchemaNode;
  /** Members that must be present. */
  required?: string[];
  /** Allowed values. */
  enum?: unknown[];
  /** The one allowed value. */
  const?: unknown;
  /** Valid when one of these is. */
  anyOf?: SchemaNode[];
  /** Array items. */
  items?: SchemaNode;
  /** Fewest array items. */
  minItems?: number;
  /** Smallest number. */
  minimum?: number;
  /** Largest number. */
  maximum?: number;
  /** Numbers must be above. */
  exclusiveMinimum?: number;
  /** Shortest string. */
  minLength?: number;
  /** A regular expression strings must match. */
  pattern?: string;
  /** A local reference, `#/$defs/name`. */
  $ref?: string;
  /** Help text (shown in editors). */
  description?: string;
}

/**
 * Appends a key or an index to a JSON path: `a.b`, `a["X-Site"]`, `a[0]`.
 *
 * @example
 * ```ts
 * import { jsonPath } from "./validate.ts";
 * console.log(jsonPath(jsonPath("sites", 1), "headers")); // "sites[1].headers"
 * ```
 */
export function jsonPath(base: string, key: string | number): string {
  if (typeof key === "number") return `${base}[${key}]`;
  if (/^[A-Za-z_$][\w$]*$/.test(key)) return base === "" ? key : `${base}.${key}`;
  return `${base}[${JSON.stringify(key)}]`;
}

/** The JSON type name of a value, as the schema's `type` says it. */
function typeOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

function typeMatches(want: string, got: string): boolean {
  return want === got || (want === "number" && got === "integer");
}

/** What a schema node expects, in words, for a message. */
function expected(node: SchemaNode, root: SchemaNode): string {
  node = deref(node, root);
  if (node.const !== undefined) return JSON.stringify(node.const);
  if (node.enum !== undefined) return `one of ${node.enum.map((e) => JSON.stringify(e)).join(", ")}`;
  if (node.anyOf !== undefined) return node.anyOf.map((n) => expected(n, root)).join(" or ");
  const t = node.type;
  const name = (x: string) => (x === "object" ? "an object" : x === "array" ? "a list" : `a ${x}`);
  if (Array.isArray(t)) return t.map(name).join(" or ");
  return t === undefined ? "a value" : name(t);
}

function deref(node: SchemaNode, root: SchemaNode): SchemaNode {
  let n = node;
  for (let i = 0; n.$ref !== undefined && i < 16; i++) {
    if (!n.$ref.startsWith("#/")) throw new TypeError(`only local $ref are supported: ${n.$ref}`);
    let at: unknown = root;
    for (const part of n.$ref.slice(2).split("/")) at = (at as Record<string, unknown>)[part];
    if (at === undefined) throw new TypeError(`dangling $ref ${n.$ref}`);
    n = at as SchemaNode;
  }
  return n;
}

/**
 * Every problem of `value` against `schema` (empty when it is valid).
 *
 * @example
 * ```ts
 * import { validate } from "./validate.ts";
 * const schema = { type: "object", additionalProperties: false, properties: { port: { type: "integer" } } };
 * console.log(validate({ prot: 1 }, schema));
 * // [{ path: "prot", message: "unknown key (did you mean \"port\"?)" }]
 * ```
 */
export function validate(value: unknown, schema: SchemaNode, root: SchemaNode = schema): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  check(value, schema, root, "", out);
  return out;
}

function check(v: unknown, node: SchemaNode, root: SchemaNode, path: string, out: ConfigProblem[]): void {
  node = deref(node, root);
  const got = typeOf(v);
  if (node.anyOf !== undefined) {
    const branches = node.anyOf.map((b) => validate(v, b, root));
    if (branches.some((b) => b.length === 0)) return;
    // The branch of the value's own type says best what is wrong; else say what was expected.
    const typed = node.anyOf.findIndex((b) => {
      const d = deref(b, root);
      const t = d.type === undefined ? [] : Array.isArray(d.type) ? d.type : [d.type];
      return t.some((x) => typeMatches(x, got));
    });
    if (typed >= 0) {
      for (const p of branches[typed]) out.push({ path: joinPaths(path, p.path), message: p.message });
    } else out.push({ path, message: `expected ${expected(node, root)}, got ${describe(v)}` });
    return;
  }
  if (node.const !== undefined && v !== node.const) {
    out.push({ path, message: `expected ${JSON.stringify(node.const)}, got ${describe(v)}` });
    return;
  }
  if (node.enum !== undefined && !node.enum.includes(v)) {
    out.push({ path, message: `expected ${expected(node, root)}, got ${describe(v)}` });
    return;
  }
  if (node.type !== undefined) {
    const types = Array.isArray(node.type) ? node.type : [node.type];
    if (!types.some((t) => typeMatches(t, got))) {
      out.push({ path, message: `expected ${expected(node, root)}, got ${describe(v)}` });
      return;
    }
  }
  if (typeof v === "string") {
    if (node.minLength !== undefined && v.length < node.minLength) {
      out.push({
        path,
        message: v.length === 0 ? "must not be empty" : `must be at least ${node.minLength} long`,
      });
    } else if (node.pattern !== undefined && !new RegExp(node.pattern, "u").test(v)) {
      out.push({ path, message: `${JSON.stringify(v)} is not valid here${hint(node)}` });
    }
  } else if (typeof v === "number") {
    if (node.minimum !== undefined && v < node.minimum) {
      out.push({ path, message: `must be ${node.minimum} or more` });
    }
    if (node.maximum !== undefined && v > node.maximum) {
      out.push({ path, message: `must be ${node.maximum} or less` });
    }
    if (node.exclusiveMinimum !== undefined && v <= node.exclusiveMinimum) {
      out.push({ path, message: `must be more than ${node.exclusiveMinimum}` });
    }
  } else if (Array.isArray(v)) {
    if (node.minItems !== undefined && v.length < node.minItems) {
      out.push({ path, message: `needs at least ${node.minItems} item${node.minItems === 1 ? "" : "s"}` });
    }
    if (node.items !== undefined) {
      v.forEach((item, i) => check(item, node.items!, root, jsonPath(path, i), out));
    }
  } else if (got === "object") {
    checkObject(v as Record<string, unknown>, node, root, path, out);
  }
}

function checkObject(
  v: Record<string, unknown>,
  node: SchemaNode,
  root: SchemaNode,
  path: string,
  out: ConfigProblem[],
): void {
  const props = node.properties ?? {};
  for (const name of node.required ?? []) {
    if (!(name in v)) out.push({ path, message: `missing ${JSON.stringify(name)}` });
  }
  for (const [key, item] of Object.entries(v)) {
    const sub = jsonPath(path, key);
    if (key in props) check(item, props[key], root, sub, out);
    else if (node.additionalProperties === false) {
      const guess = didYouMean(key, Object.keys(props));
      const known = Object.keys(props).filter((k) => k !== "$schema").join(", ");
      out.push({
        path: sub,
        message: guess !== undefined
          ? `unknown key (did you mean ${JSON.stringify(guess)}?)`
          : `unknown key (known here: ${known})`,
      });
    } else if (typeof node.additionalProperties === "object") {
      check(item, node.additionalProperties, root, sub, out);
    }
  }
}

/** A value in a message: short, as JSON. */
function describe(v: unknown): string {
  const t = typeOf(v);
  if (t === "object") return "an object";
  if (t === "array") return "a list";
  const s = JSON.stringify(v);
  return s.length > 40 ? s.slice(0, 37) + "…" : s;
}

function hint(node: SchemaNode): string {
  return node.description !== undefined ? ` (${node.description.replace(/\.$/, "")})` : "";
}

function joinPaths(base: string, sub: string): string {
  if (sub === "") return base;
  if (base === "") return sub;
  return sub.startsWith("[") ? base + sub : `${base}.${sub}`;
}
