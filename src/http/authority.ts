/**
 * Authorities as text: an address and port joined for a URL or a log line, and the host part of
 * a Host header or `:authority`.
 *
 * @module
 */

/** `addr:port`, with brackets around an IPv6 address. */
export function hostPort(addr: string, port: number): string {
  return addr.includes(":") ? `[${addr}]:${port}` : `${addr}:${port}`;
}

/** The host part of an authority: `[::1]:8080` → `[::1]`, `a.b:80` → `a.b`. */
export function stripPort(authority: string): string {
  if (authority.startsWith("[")) return authority.slice(0, authority.indexOf("]") + 1);
  const colon = authority.indexOf(":");
  return colon === -1 ? authority : authority.slice(0, colon);
}
