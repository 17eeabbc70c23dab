/**
 * The descriptor budget of TLS handshakes: a TLS socket whose peer never sends its ClientHello
 * holds its descriptor until the peer acts (Deno 2.9.6), so the HTTPS listener pauses past a share
 * of the process's open-file limit, and plain HTTP keeps the descriptors it needs.
 *
 * @module
 */

/**
 * How many TLS sockets may be in a handshake (or abandoned in one) at once: a quarter of the
 * process's open-file limit (RLIMIT_NOFILE, from /proc/self/limits), at least 16; 4096 where the
 * limit cannot be read.
 */
export function tlsSocketBudget(): number {
  try {
    const limits = Deno.readTextFileSync("/proc/self/limits");
    const soft = /^Max open files\s+(\d+|unlimited)/m.exec(limits)?.[1];
    if (soft === undefined || soft === "unlimited") return 4096;
    return Math.max(16, Math.floor(Number(soft) / 4));
  } catch {
    return 4096;
  }
}
