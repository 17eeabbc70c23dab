/**
 * A config file from text to a checked {@linkcode FerryConfig}: JSONC parsed with `jsonc-parser`
 * (comments and trailing commas), checked against `ferry.schema.json`, then by
 * {@linkcode resolveConfig}; every problem with its JSON path and the line it is on.
 *
 * @module
 */

import { findNodeAtLocation, type Node, type ParseError, parseTree, printParseErrorCode } from "jsonc-parser";
import { dirname, resolve } from "node:path";
import schemaJson from "../../ferry.schema.json" with { type: "json" };
import type { FerryConfig } from "./types.ts";
import { type ConfigProblem, type SchemaNode, validate } from "./validate.ts";
import { resolveConfig } from "./resolve.ts";

/** ferry's config schema (`ferry.schema.json`). */
export const SCHEMA: SchemaNode = schemaJson as SchemaNode;

/** A config that cannot be used: every problem, each with its JSON path. */
export class ConfigError extends Error {
  /** The problems, in document order. */
  readonly problems: readonly ConfigProblem[];

  /** An error listing `problems` (one per line in the message). */
  constructor(problems: ConfigProblem[], source = "config") {
    super(
      `${source}: ${problems.length} problem${problems.length === 1 ? "" : "s"}:\n` +
        formatProblems(problems),
    );
    this.name = "ConfigError";
    this.problems = problems;
  }
}

/** One line per problem: `path: message`. */
export function formatProblems(problems: readonly ConfigProblem[]): string {
  return problems.map((p) => `${p.path === "" ? "(top)" : p.path}: ${p.message}`).join("\n");
}

/** Options of {@linkcode parseConfig}. */
export interface ParseOptions {
  /** Relative paths resolve against this folder. */
  baseDir: string;
  /** Whether the reverse proxy is built in. @default {false} */
  proxy?: boolean;
}

/**
 * Parses and checks config text (JSONC, or a value already parsed from JSON); throws
 * {@linkcode ConfigError}.
 *
 * @example
 * ```ts
 * import { parseConfig } from "./load.ts";
 * const c = parseConfig('{ "sites": [{ "routes": [{ "path": "/ping", "respond": { "body": "pong" } }] }] } // ok', {
 *   baseDir: ".",
 * });
 * console.log(c.sites?.[0].routes?.[0].respond?.body); // "pong"
 * ```
 */
export function parseConfig(source: string | unknown, options: ParseOptions): FerryConfig {
  let value: unknown = source;
  let tree: Node | undefined;
  if (typeof source === "string") {
    const errors: ParseError[] = [];
    tree = parseTree(source, errors, { allowTrailingComma: true, disallowComments: false });
    if (errors.length > 0) {
      throw new ConfigError(errors.map((e) => ({
        path: "",
        message: `line ${lineAt(source, e.offset)}: JSON syntax: ${printParseErrorCode(e.error)}`,
      })));
    }
    value = tree === undefined ? undefined : nodeValue(tree);
  }
  let problems = validate(value, SCHEMA);
  if (problems.length === 0) {
    problems = resolveConfig(value as FerryConfig, {
      baseDir: options.baseDir,
      proxy: options.proxy ?? false,
    });
  }
  if (problems.length > 0) {
    if (typeof source === "string" && tree !== undefined) {
      problems = problems.map((p) => withLine(p, source, tree!));
    }
    throw new ConfigError(problems);
  }
  return value as FerryConfig;
}

/**
 * Reads and checks the config file `file`; relative paths in it resolve against its folder.
 * Throws {@linkcode ConfigError} (a missing file too).
 */
export async function loadConfigFile(file: string, proxy = false): Promise<FerryConfig> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (e) {
    throw new ConfigError([{
      path: "",
      message: `cannot read ${file}: ${e instanceof Error ? e.message : e}`,
    }]);
  }
  return parseConfig(text, { baseDir: dirname(resolve(file)), proxy });
}

/** The value of a parse tree (a plain object: keys such as `__proto__` stay data). */
function nodeValue(n: Node): unknown {
  switch (n.type) {
    case "object": {
      const o: Record<string, unknown> = {};
      for (const p of n.children ?? []) {
        const [k, v] = p.children ?? [];
        if (k !== undefined && v !== undefined) {
          Object.defineProperty(o, String(k.value), {
            value: nodeValue(v),
            enumerable: true,
            writable: true,
            configurable: true,
          });
        }
      }
      return o;
    }
    case "array":
      return (n.children ?? []).map(nodeValue);
    default:
      return n.value;
  }
}

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** Splits a JSON path back into segments: `a.b[0]["X-Y"]` → `["a", "b", 0, "X-Y"]`. */
function segments(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  const re = /\.?([A-Za-z_$][\w$]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/gy;
  let m;
  while ((m = re.exec(path)) !== null) {
    out.push(m[1] ?? (m[2] !== undefined ? Number(m[2]) : JSON.parse(m[3])));
  }
  return out;
}

function withLine(p: ConfigProblem, text: string, tree: Node): ConfigProblem {
  const node = findNodeAtLocation(tree, segments(p.path));
  if (node === undefined) return p;
  // An unknown key: point at the key, which is what the reader looks for.
  const at = node.parent?.type === "property" ? node.parent.offset : node.offset;
  return { path: p.path, message: `${p.message} (line ${lineAt(text, at)})` };
}
