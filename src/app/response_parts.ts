/**
 * A fetch app's `Response`, taken apart for a writer: the status, the header fields in one pass,
 * and the body — whole when it is already complete (a string, bytes, `Response.json`), else the
 * stream to pipe, with its length when the body knows it (a `Blob`, a `FormData`).
 *
 * A `Response` keeps what `Deno.serve` reads under symbols: for a plain 200 (`new Response(text)`,
 * `Response.json(data)`, a single Content-Type) its status, body and content type as given, and
 * for any other its inner record (status, header list, body source). Reading them costs no stream,
 * no `Headers` object and no turn of the event loop. The symbols are found once from probe
 * responses and checked; when they are not the shape expected (another Deno), the public members
 * are read instead: the same parts, with every body a stream.
 *
 * @module
 */

/** Header fields as name/value pairs. */
export type FieldPairs = ReadonlyArray<readonly [string, string]>;

/** A response taken apart. */
export interface ResponseParts {
  /** The status code. */
  status: number;
  /** The header fields, as the app set them (repeats kept). */
  headers: FieldPairs;
  /** The whole body when it is already complete; null when the body is a stream or there is none. */
  body: string | Uint8Array | null;
  /** The body still to be read, when it is a stream; null otherwise. */
  stream: ReadableStream<Uint8Array> | null;
  /** The stream's length when known (a `Blob`'s size), else -1. */
  length: number;
}

/** The inner record of a Deno `Response`: the fields read here. */
interface InnerResponse {
  type: string;
  status: number;
  headerList: Array<[string, string]>;
  bodyDecoded?: boolean;
  body: null | {
    streamOrStatic?: { body?: unknown; consumed?: boolean };
    length: number | null;
  };
}

/** The symbols of Deno's `Response` state used here. */
interface Keys {
  inner: symbol;
  fastStatus: symbol;
  fastBody: symbol;
  fastKind: symbol;
  fastType: symbol;
  fastConsumed: symbol;
  lazyBody: symbol;
  lazyType: symbol;
}

/** The fast fields' header kinds: no header, the default text type, or the type given. */
const KIND_NONE = 0;
const KIND_TEXT = 1;
const KIND_TYPE = 2;

const NO_FIELDS: FieldPairs = [];
/** One array per content type, so that the writer's memo of encoded fields knows it by identity. */
const TEXT_FIELDS: FieldPairs = [["content-type", "text/plain;charset=UTF-8"]];
const typeFields = new Map<string, FieldPairs>();
const TYPE_FIELDS_KEPT = 64;

/** The header fields of a response whose only field is `content-type: type`. */
function fieldsOfType(type: string): FieldPairs {
  let fields = typeFields.get(type);
  if (fields === undefined) {
    fields = [["content-type", type]];
    if (typeFields.size < TYPE_FIELDS_KEPT) typeFields.set(type, fields);
  }
  return fields;
}

/** Deno's `Response` symbols, when present. */
function findKeys(): Keys | undefined {
  const bySymbol = new Map<string | undefined, symbol>();
  for (const s of Object.getOwnPropertySymbols(new Response(null))) bySymbol.set(s.description, s);
  const keys = {
    inner: bySymbol.get("response"),
    fastStatus: bySymbol.get("serve fast status"),
    fastBody: bySymbol.get("serve fast body"),
    fastKind: bySymbol.get("serve fast header kind"),
    fastType: bySymbol.get("serve fast content type"),
    fastConsumed: bySymbol.get("serve fast consumed"),
    lazyBody: bySymbol.get("lazy static body"),
    lazyType: bySymbol.get("lazy static content type"),
  };
  return Object.values(keys).every((s) => s !== undefined) ? keys as Keys : undefined;
}

/** The parts from the public members: every body a stream. */
export function publicParts(response: Response): ResponseParts {
  const headers: Array<[string, string]> = [];
  for (const pair of response.headers) headers.push(pair);
  return { status: response.status, headers, body: null, stream: response.body, length: -1 };
}

/** Whether `body` is a complete body a writer takes as it is. */
function isComplete(body: unknown): body is string | Uint8Array {
  return typeof body === "string" || body instanceof Uint8Array;
}

/** Whether an inner response's body is a static source not yet read. */
function staticUnread(inner: InnerResponse | undefined): boolean {
  return inner?.body?.streamOrStatic?.consumed === false;
}

/** The parts from Deno's state, or undefined when the response is one to read publicly. */
function internalParts(response: Response, k: Keys): ResponseParts | undefined {
  const slots = response as unknown as Record<symbol, unknown>;
  const fastStatus = slots[k.fastStatus] as number;
  if (fastStatus !== 0 && slots[k.fastConsumed] === false) {
    const body = slots[k.fastBody];
    // A body read by the app keeps its fast fields: it is unread while still lazy (reading makes
    // it), or while its static source says so.
    if (isComplete(body) && (slots[k.lazyBody] != null || staticUnread(slots[k.inner] as InnerResponse))) {
      const kind = slots[k.fastKind];
      const headers = kind === KIND_NONE
        ? NO_FIELDS
        : kind === KIND_TEXT
        ? TEXT_FIELDS
        : kind === KIND_TYPE
        ? fieldsOfType(slots[k.fastType] as string)
        : undefined;
      if (headers !== undefined) return { status: fastStatus, headers, body, stream: null, length: -1 };
    }
  }
  // A body or content type kept unmaterialized, a body `fetch` decompressed (its length and
  // encoding fields no longer apply), an error response: the public members say it right.
  if (slots[k.lazyBody] != null || slots[k.lazyType] != null) return undefined;
  const inner = slots[k.inner] as InnerResponse | undefined;
  if (inner === undefined || inner.bodyDecoded === true || inner.type === "error") return undefined;
  const list = inner.headerList;
  const headers: Array<[string, string]> = new Array(list.length);
  for (let i = 0; i < list.length; i++) headers[i] = [list[i][0].toLowerCase(), list[i][1]];
  const innerBody = inner.body;
  if (innerBody === null) return { status: inner.status, headers, body: null, stream: null, length: -1 };
  const fixed = innerBody.streamOrStatic;
  if (fixed !== undefined && fixed.consumed === false && isComplete(fixed.body)) {
    return { status: inner.status, headers, body: fixed.body, stream: null, length: -1 };
  }
  return { status: inner.status, headers, body: null, stream: response.body, length: innerBody.length ?? -1 };
}

/** Checks the keys on probe responses of each kind. */
function usable(k: Keys | undefined): Keys | undefined {
  if (k === undefined) return undefined;
  try {
    const json = internalParts(Response.json({ a: 1 }), k);
    const bytes = internalParts(new Response(new Uint8Array([1, 2])), k);
    const text = internalParts(new Response("t", { status: 201, headers: new Headers({ "X-A": "b" }) }), k);
    const none = internalParts(new Response(null, { status: 204 }), k);
    const ok = json?.status === 200 && json.body === '{"a":1}' &&
      json.headers[0]?.[1] === "application/json" &&
      bytes?.body instanceof Uint8Array && bytes.body.length === 2 && bytes.headers.length === 0 &&
      text?.status === 201 && text.body === "t" &&
      text.headers.some(([n, v]) => n === "x-a" && v === "b") &&
      text.headers.some(([n, v]) => n === "content-type" && v.startsWith("text/plain")) &&
      none?.status === 204 && none.body === null && none.stream === null;
    return ok ? k : undefined;
  } catch {
    return undefined;
  }
}

const keys = usable(findKeys());

/** Whether responses are read from Deno's state here (else {@linkcode publicParts}). */
export const fastResponsesAvailable: boolean = keys !== undefined;

/**
 * `response` taken apart: status, header fields, and a complete body or a stream.
 *
 * @example
 * ```ts
 * import { responseParts } from "./response_parts.ts";
 * const parts = responseParts(Response.json({ ok: true }));
 * console.log(parts.status, parts.body); // 200 {"ok":true}
 * ```
 */
export function responseParts(response: Response): ResponseParts {
  // A subclass may override what its members say: only a plain Response is read from its fields.
  const plain = keys !== undefined && Object.getPrototypeOf(response) === Response.prototype;
  return (plain ? internalParts(response, keys) : undefined) ?? publicParts(response);
}
