/**
 * A config's upload `users`: names with bcrypt hashes (as `htpasswd -B` and Python's `bcrypt`
 * write them), checked with `bcryptjs`. A bcrypt check costs tens of milliseconds by design, so a
 * pair that passed is remembered (as a SHA-256 of name, password and hash, never the password)
 * for a few minutes; failures are not remembered, and the upload module's throttle slows guessing.
 *
 * @module
 */

import bcrypt from "bcryptjs";
import { createHash } from "node:crypto";
import { BoundedMap } from "../bounded_map.ts";

/** How long a checked pair is trusted without a new bcrypt check. */
const REMEMBER_MS = 5 * 60 * 1000;

/**
 * The `verify` function of the upload module for `users` (name → bcrypt hash).
 *
 * @example
 * ```ts ignore
 * const verify = bcryptUsers({ alice: "$2b$10$…" });
 * await verify("alice", "s3cret"); // true or false
 * ```
 */
export function bcryptUsers(users: Record<string, string>): (user: string, pass: string) => Promise<boolean> {
  const hashes = new Map(Object.entries(users));
  const passed = new BoundedMap<number>(64 * 1024, () => 128);
  // A hash for unknown names, so that they cost what a known one does.
  const decoy = bcrypt.hashSync("decoy", 10);
  return async function verify(user: string, pass: string): Promise<boolean> {
    const hash = hashes.get(user);
    const key = createHash("sha256").update(`${user}\0${pass}\0${hash ?? ""}`).digest("base64");
    const at = passed.get(key);
    if (at !== undefined && Date.now() - at < REMEMBER_MS) return true;
    const ok = await bcrypt.compare(pass, hash ?? decoy);
    if (!ok || hash === undefined) return false;
    passed.set(key, Date.now());
    return true;
  };
}
