/**
 * Loads the request fixtures of nodejs/llhttp (`../shared/conformance/llhttp/request/*.md`, MIT)
 * as data: the input bytes, prepared the way llhttp's own test runner prepares them, and the
 * outcome llhttp logs for them.
 *
 * @module
 */

import { fromFileUrl, join } from "../helpers/paths.ts";

/** One strict request fixture. */
export interface Fixture {
  /** `file.md: heading`. */
  name: string;
  /** The request bytes as llhttp's runner builds them. */
  input: Uint8Array;
  /** Messages llhttp completed. */
  messages: number;
  /** Messages whose head llhttp completed. */
  heads: number;
  /** llhttp's error code, if it stopped on one. */
  errorCode?: number;
  /** llhttp's error reason, if any. */
  errorReason?: string;
  /** Offsets where each message began, and its HTTP version, from the log. */
  starts: Array<{ offset: number; versionEnd?: number; version?: string; hasHost: boolean }>;
}

/** Where the fixtures live: `shared/` beside the repository. */
export const FIXTURE_DIR = join(
  fromFileUrl(new URL("../../", import.meta.url)),
  "..",
  "shared",
  "conformance",
  "llhttp",
  "request",
);

/** Turns the text of an `http` block into bytes, following llhttp's test/md-test.ts rules. */
export function prepareInput(raw: string): Uint8Array {
  let input = raw.replace(/\n$/, "");
  input = input.replace(/\\(\r\n|\r|\n)/g, "");
  input = input.replace(/\r\n|\r|\n/g, "\r\n");
  input = input.replace(/\\r/g, "\r").replace(/\\n/g, "\n").replace(/\\t/g, "\t").replace(/\\f/g, "\f");
  input = input.replace(/\\x([0-9a-fA-F]+)/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
  input = input.replace(/\\([0-7]{1,3})/g, (_, digits) => String.fromCharCode(parseInt(digits, 8)));
  input = input.replace(/\$\{(.+?)\}/g, (_, code: string) => {
    // The fixtures use this for long repeated strings: `${"a".repeat(N)}`.
    const m = /^"(.*)"\.repeat\((\d+)\)$/.exec(code.trim());
    if (!m) throw new Error(`unsupported inline code in fixture: ${code}`);
    return m[1].repeat(Number(m[2]));
  });
  const out = new Uint8Array(input.length);
  for (let i = 0; i < input.length; i++) out[i] = input.charCodeAt(i) & 0xff;
  return out;
}

/** Whether the fixtures are beside the repository (they are optional: CI lays them there). */
export const FIXTURES_PRESENT: boolean = (() => {
  try {
    return Deno.statSync(FIXTURE_DIR).isDirectory;
  } catch {
    return false;
  }
})();

/** Why the llhttp replay did not run, for the name of the test that stands in for it. */
export const SKIPPED_NOTE = `llhttp fixtures: ${FIXTURE_DIR} is absent ` +
  "(ferry's own table in tests/http1/conformance_table.ts still runs)";

/**
 * Reads every fixture whose meta type is exactly `request` (the strict ones); none when the
 * fixtures are absent.
 */
export function loadStrictFixtures(): Fixture[] {
  const fixtures: Fixture[] = [];
  if (!FIXTURES_PRESENT) return fixtures;
  const files = [...Deno.readDirSync(FIXTURE_DIR)].map((e) => e.name).filter((n) => n.endsWith(".md")).sort();
  for (const file of files) {
    const text = Deno.readTextFileSync(join(FIXTURE_DIR, file));
    const lines = text.split("\n");
    let heading = "";
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i];
      const h = /^#+\s+(.*)$/.exec(line);
      if (h) heading = h[1];
      const meta = /^<!--\s*meta=(\{.*\})\s*-->/.exec(line);
      if (!meta) continue;
      const m = JSON.parse(meta[1]);
      if (m.type !== "request") continue;
      // The next ```http block, then the next ```log block.
      let j = i + 1;
      while (j < lines.length && !lines[j].startsWith("```http")) j++;
      const httpStart = j + 1;
      j = httpStart;
      while (j < lines.length && lines[j] !== "```") j++;
      const httpText = lines.slice(httpStart, j).join("\n") + "\n";
      while (j < lines.length && !lines[j].startsWith("```log")) j++;
      const logStart = j + 1;
      j = logStart;
      while (j < lines.length && lines[j] !== "```") j++;
      const log = lines.slice(logStart, j);
      fixtures.push(describe(`${file}: ${heading}`, prepareInput(httpText), log));
      i = j;
    }
  }
  return fixtures;
}

function describe(name: string, input: Uint8Array, log: string[]): Fixture {
  const f: Fixture = { name, input, messages: 0, heads: 0, starts: [] };
  for (const line of log) {
    const off = Number(/^off=(\d+)/.exec(line)?.[1] ?? -1);
    if (line.endsWith("message begin")) f.starts.push({ offset: off, hasHost: false });
    else if (line.endsWith("message complete")) f.messages++;
    else if (line.includes(" headers complete ")) f.heads++;
    else if (line.endsWith("version complete") && f.starts.length > 0) {
      f.starts[f.starts.length - 1].versionEnd = off;
    } else if (/span\[version\]="(.*)"/.test(line) && f.starts.length > 0) {
      f.starts[f.starts.length - 1].version = /span\[version\]="(.*)"/.exec(line)![1];
    } else if (/span\[header_field\]="host"/i.test(line) && f.starts.length > 0) {
      f.starts[f.starts.length - 1].hasHost = true;
    }
    const err = /error code=(\d+) reason="(.*)"/.exec(line);
    if (err) {
      f.errorCode = Number(err[1]);
      f.errorReason = err[2];
    }
  }
  return f;
}

/**
 * The input with `Host: fixture` added to each HTTP/1.1 message that lacks one, right after its
 * request line, as the engine issue asks (llhttp does not require Host; RFC 9112 §3.2 does).
 */
export function withHost(f: Fixture): Uint8Array {
  const inserts: number[] = [];
  for (const s of f.starts) {
    if (s.version !== "1.1" || s.hasHost || s.versionEnd === undefined) continue;
    const at = s.versionEnd;
    if (f.input[at] === 0x0d && f.input[at + 1] === 0x0a) inserts.push(at + 2);
  }
  if (inserts.length === 0) return f.input;
  const host = new TextEncoder().encode("Host: fixture\r\n");
  const out = new Uint8Array(f.input.length + host.length * inserts.length);
  let from = 0;
  let to = 0;
  for (const at of inserts) {
    out.set(f.input.subarray(from, at), to);
    to += at - from;
    out.set(host, to);
    to += host.length;
    from = at;
  }
  out.set(f.input.subarray(from), to);
  return out;
}

/** llhttp's pause codes: not rejections (CONNECT and Upgrade hand the socket over; PRI is h2). */
export const LLHTTP_PAUSE_CODES: ReadonlySet<number> = new Set([21, 22, 23]);
/** llhttp's "Data after `Connection: close`": the request before it was accepted. */
export const LLHTTP_CLOSED_CONNECTION = 5;
