/**
 * The shape of an option table: each option declared once, with its flag, its rule (how a flag's
 * text becomes a value, and how a value given in code is checked), its default and its help
 * text. `src/options.ts` (the server's options) and `src/app/python/wsgi_options.ts` (the Python
 * gateway's) are such tables; `src/cli.ts` builds the command line and its `--help` from them,
 * and the option types are derived from them, so nothing is written twice.
 *
 * @module
 */

import { isIP } from "node:net";
import { AllowList } from "./net/cidr.ts";
import { formatSize, parseInterval, parseSize } from "./units.ts";

/** How a value is read from a flag's text and checked when given in code. */
export interface Rule<T> {
  /** The flag's argument as `--help` shows it (`<n>`); `undefined` for a switch without one. */
  readonly arg: string | undefined;
  /** What a valid value is, for messages: `a whole number from 0 to 65535`. */
  readonly expected: string;
  /** The value of a flag's text; throws an Error whose message says what was expected. */
  parse(text: string): T;
  /** Why `value` (from code, or parsed) is not valid; `undefined` when it is. */
  problem(value: unknown): string | undefined;
  /** The value as `--help` shows it (a size as `64M`); `String` when absent. */
  show?(value: T): string;
}

/** One option: its flag, rule, default and help. */
export interface OptionSpec<T> {
  /**
   * The flag's name without dashes (`max-body-bytes`); a switch that defaults to true is given as
   * `--no-NAME`. `undefined`: not on the command line (set from the environment or by code).
   */
  readonly flag: string | undefined;
  /** The rule of its values. */
  readonly rule: Rule<T>;
  /** The default. */
  readonly default: T;
  /** The `--help` heading it is listed under. */
  readonly group: string;
  /** One line for `--help` and the README's flags table. */
  readonly help: string;
  /** How `--help` words the default when the value alone would mislead (`CPUs, at least 2`). */
  readonly shown?: string;
  /** The flag's argument when the rule's is too generic (`<bytes/s>`). */
  readonly arg?: string;
}

/** Any option table: option name → its spec. */
// deno-lint-ignore no-explicit-any
export type OptionTable = Record<string, OptionSpec<any>>;

/** The table of an options type `O`: one spec for each field, of that field's type. */
export type OptionTableOf<O> = { readonly [K in keyof O]-?: OptionSpec<O[K]> };

/**
 * Declares one option (only to infer its type).
 *
 * @example
 * ```ts
 * import { int, option } from "./option_spec.ts";
 * const port = option({ flag: "port", rule: int(0, 65535), default: 8080, group: "Listeners:", help: "HTTP port" });
 * console.log(port.rule.parse("9000")); // 9000
 * ```
 */
export function option<T>(spec: OptionSpec<T>): OptionSpec<T> {
  return spec;
}

/** The command-line form of an option's flag (`--no-http`, `--port`); `undefined` when it has none. */
export function flagOf(spec: OptionSpec<unknown>): string | undefined {
  if (spec.flag === undefined) return undefined;
  return spec.rule.arg === undefined && spec.default === true ? `--no-${spec.flag}` : `--${spec.flag}`;
}

/** Every option's default. */
export function defaultsOf<O>(table: OptionTableOf<O>): O {
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries<OptionSpec<unknown>>(table)) out[name] = spec.default;
  return out as O;
}

/**
 * Checks every value of `values` against its rule; throws `RangeError` naming the first bad
 * option (by `label(name)`: the field name in code, the flag on the command line).
 */
export function checkValues(
  table: OptionTable,
  values: Record<string, unknown>,
  label: (name: string) => string = (name) => name,
): void {
  for (const [name, spec] of Object.entries(table)) {
    const why = spec.rule.problem(values[name]);
    if (why !== undefined) throw new RangeError(`${label(name)} ${why}, got ${String(values[name])}`);
  }
}

// --- Rules -------------------------------------------------------------------------------------

/** A rule from its parts: `parse` may rely on `problem` being applied to what it returns. */
function rule<T>(
  arg: string | undefined,
  expected: string,
  parse: (text: string) => T,
  problem: (value: unknown) => boolean,
  show?: (value: T) => string,
): Rule<T> {
  return {
    arg,
    expected,
    parse(text: string): T {
      const v = parse(text);
      if (problem(v)) throw new RangeError(`expected ${expected}`);
      return v;
    },
    problem: (value) => problem(value) ? `must be ${expected}` : undefined,
    show,
  };
}

const isInt = (v: unknown, min: number, max: number) =>
  typeof v === "number" && Number.isInteger(v) && v >= min && v <= max;

/** A whole number from `min` to `max`. */
export function int(min: number, max = Number.MAX_SAFE_INTEGER): Rule<number> {
  const expected = max === Number.MAX_SAFE_INTEGER
    ? `a whole number >= ${min}`
    : `a whole number from ${min} to ${max}`;
  return rule("<n>", expected, (t) => /^\d+$/.test(t) ? Number(t) : NaN, (v) => !isInt(v, min, max));
}

/** A size in bytes, written with K, M or G (powers of 1024), of at least `min`. */
export function size(min: number): Rule<number> {
  return rule(
    "<size>",
    `a size of at least ${formatSize(min)} (bytes, or K, M, G)`,
    parseSize,
    (v) => !isInt(v, min, Number.MAX_SAFE_INTEGER),
    formatSize,
  );
}

/** A number of seconds >= 0 (fractions allowed). */
export const seconds: Rule<number> = rule(
  "<s>",
  "a number of seconds >= 0, like 10 or 0.5",
  (t) => /^\d+(\.\d+)?$/.test(t) ? Number(t) : NaN,
  (v) => typeof v !== "number" || !Number.isFinite(v) || v < 0,
);

/** A switch: present or not (`--no-NAME` for one that defaults to true). */
export const bool: Rule<boolean> = rule(
  undefined,
  "true or false",
  () => true,
  (v) => typeof v !== "boolean",
);

/** Any text (optionally refused by `bad`, which says why). */
export function text(arg: string, bad?: (v: string) => string | undefined): Rule<string> {
  return {
    arg,
    expected: "text",
    parse(t: string): string {
      const why = bad?.(t);
      if (why !== undefined) throw new RangeError(why);
      return t;
    },
    problem(v: unknown): string | undefined {
      if (typeof v !== "string") return "must be a string";
      const why = bad?.(v);
      return why === undefined ? undefined : `is not valid: ${why}`;
    },
  };
}

/** One of `values`. */
export function oneOf<const V extends string>(values: readonly V[]): Rule<V> {
  const expected = values.length === 2
    ? `${values[0]} or ${values[1]}`
    : `${values.slice(0, -1).join(", ")} or ${values[values.length - 1]}`;
  return rule(`<${values.join("|")}>`, expected, (t) => t as V, (v) => !values.includes(v as V));
}

/** A header value: no line breaks. */
export const fieldValue: Rule<string> = text(
  "<value>",
  (v) => /[\r\n]/.test(v) ? "no line breaks" : undefined,
);

/** Comma-separated CIDR blocks (empty: none). */
export const cidrs: Rule<string> = text("<cidrs>", (v) => {
  try {
    AllowList.parse(v);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
});

/** A URL prefix that starts and ends with `/`. */
export const prefix: Rule<string> = text(
  "<prefix>",
  (v) =>
    v.startsWith("/") && v.endsWith("/") ? undefined : "a prefix starts and ends with /, like /static/ or /",
);

/** A size kept as written (`10M`; empty: none). */
export const sizeText: Rule<string> = text("<size>", (v) => {
  if (v === "") return undefined;
  try {
    parseSize(v);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
});

/** An interval kept as written (`30m`, `6h`, `1d`; empty: none). */
export const intervalText: Rule<string> = text("<age>", (v) => {
  if (v === "") return undefined;
  try {
    parseInterval(v);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
});

/** An address to listen on: an IPv4 or IPv6 address, or a host name. */
export const host: Rule<string> = text("<addr>", (v) => {
  if (isIP(v) !== 0) return undefined;
  if (/^\d+(\.\d+){3}$/.test(v)) return "not an IPv4 address (each part is 0-255)";
  const name =
    /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
  return name.test(v) ? undefined : "expected an IP address or a host name, like 127.0.0.1, ::1 or localhost";
});

/** A count from 1 to `max`, or `auto` (0: decided at start). */
export function countOrAuto(max: number): Rule<number> {
  return rule(
    "<n|auto>",
    `auto or a whole number from 1 to ${max}`,
    (t) => t === "auto" ? 0 : /^\d+$/.test(t) && Number(t) >= 1 ? Number(t) : NaN,
    (v) => !isInt(v, 0, max),
  );
}

/** A list of paths, comma- or colon-separated on the command line. */
export const pathList: Rule<string[]> = {
  arg: "<dirs>",
  expected: "a list of directories",
  parse: (t) => t.split(/[,:]/).filter((p) => p !== ""),
  problem: (v) =>
    Array.isArray(v) && v.every((p) => typeof p === "string") ? undefined : "must be a list of paths",
  show: (v) => v.join(","),
};
