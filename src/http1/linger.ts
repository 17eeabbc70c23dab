/**
 * The lingering close of RFC 9112 §9.6: a connection that closes with unread input half-closes,
 * then reads and discards what the client still sends for a moment, so that our last response
 * is not destroyed by a reset caused by that unread input.
 *
 * @module
 */

/** How long a closing connection keeps reading (and discarding) what the client still sends. */
export const LINGER_MS = 2000;
/** Most bytes discarded while lingering. */
const LINGER_BYTES = 1024 * 1024;

/**
 * Half-closes `conn`, calls `lingering` (the caller sets its deadline, which closes the socket),
 * then discards input until the peer closes, the deadline closes the socket, or 1 MiB went by.
 */
export async function lingerClose(conn: Deno.Conn, lingering: () => void): Promise<void> {
  try {
    await conn.closeWrite();
  } catch {
    return;
  }
  lingering();
  const scratch = new Uint8Array(16 * 1024);
  let seen = 0;
  try {
    while (seen < LINGER_BYTES) {
      const n = await conn.read(scratch);
      if (n === null) break;
      seen += n;
    }
  } catch {
    // closed by the deadline, or reset
  }
}
