/**
 * Request-target and authority rules (RFC 9112 §3.2, RFC 3986 §3.2): which authorities are valid,
 * how a target splits into path and query, and the absolute form.
 *
 * @module
 */

const UNRESERVED_OR_SUBDELIM = (() => {
  const t = new Uint8Array(128);
  for (const ch of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=") {
    t[ch.charCodeAt(0)] = 1;
  }
  return t;
})();

/**
 * `uri-host [ ":" port ]` (RFC 9110 §7.2, RFC 3986 §3.2.2). With `allowEmpty`, the empty value
 * that RFC 9112 §3.2 permits in a Host field is accepted.
 */
export function validAuthority(value: string, allowEmpty: boolean): boolean {
  if (value === "") return allowEmpty;
  let i = 0;
  const n = value.length;
  if (value.charCodeAt(0) === 0x5b) {
    // IP-literal: "[" ( IPv6address / IPvFuture ) "]"
    const close = value.indexOf("]");
    if (close < 3) return false;
    for (let j = 1; j < close; j++) {
      const c = value.charCodeAt(j);
      const ok = (c >= 0x30 && c <= 0x3a) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66) ||
        c === 0x2e ||
        c === 0x76 || c === 0x56;
      if (!ok) return false;
    }
    i = close + 1;
  } else {
    while (i < n) {
      const c = value.charCodeAt(i);
      if (c === 0x3a) break;
      if (c === 0x25) {
        if (!isHex(value.charCodeAt(i + 1)) || !isHex(value.charCodeAt(i + 2))) return false;
        i += 3;
        continue;
      }
      if (c >= 128 || UNRESERVED_OR_SUBDELIM[c] !== 1) return false;
      i++;
    }
  }
  if (i === n) return true;
  if (value.charCodeAt(i) !== 0x3a) return false;
  for (i++; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/** Splits `target` from `start` into raw path and raw query; a fragment, if sent, is dropped. */
export function splitPathQuery(target: string, start: number): [string, string] {
  let q = -1;
  let hash = -1;
  for (let i = start; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c === 0x3f && q === -1) q = i;
    else if (c === 0x23) {
      hash = i;
      break;
    }
  }
  const end = hash === -1 ? target.length : hash;
  if (q === -1) return [start === end ? "/" : target.slice(start, end), ""];
  return [start === q ? "/" : target.slice(start, q), target.slice(q + 1, end)];
}

/**
 * absolute-form (RFC 9112 §3.2.2) for the http and https schemes: returns
 * `[authority, path, query]`, or undefined when the target is not a valid one. Userinfo is
 * refused (RFC 9110 §4.2.4 asks recipients to treat it as an error).
 */
export function parseAbsoluteForm(target: string): [string, string, string] | undefined {
  const colon = target.indexOf("://");
  if (colon <= 0) return undefined;
  const scheme = target.slice(0, colon).toLowerCase();
  if (scheme !== "http" && scheme !== "https") return undefined;
  const authStart = colon + 3;
  let authEnd = target.length;
  for (let i = authStart; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c === 0x2f || c === 0x3f || c === 0x23) {
      authEnd = i;
      break;
    }
  }
  const authority = target.slice(authStart, authEnd);
  if (authority === "" || authority.includes("@") || !validAuthority(authority, false)) return undefined;
  const [path, query] = splitPathQuery(target, authEnd);
  return [authority, path, query];
}
