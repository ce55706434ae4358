/**
 * Internal: turning a {@linkcode PeerPolicy} into a check, and refusing a
 * connected peer the check does not allow — closing the socket and throwing
 * {@linkcode PeerRefused}. `FdServer` (for clients) and `connectUnix` (for
 * servers) share it.
 *
 * @module
 */

import { PeerRefused } from "../errors.ts";
import { checkInstance, checkInteger, checkObject } from "../_validate.ts";
import { native } from "../../ffi/lib.ts";
import {
  ownCredentials,
  type PeerCredentials,
  peerCredentials,
  type PeerPolicy,
} from "./peer_credentials.ts";

/** A compiled policy: whether it allows a peer, and what it allows, in words. */
export interface PeerCheck {
  readonly allows: (peer: PeerCredentials) => boolean;
  readonly describe: string;
}

/** The largest uid or gid: `(uid_t) -1` is "no id". */
const MAX_ID = 0xfffffffe;

/**
 * Checks a list of uids or gids and returns a frozen copy of it.
 *
 * @param action What the caller tried.
 * @param name The option's name, e.g. "allow.uids".
 * @param value The option as given; `undefined` passes through.
 * @returns The frozen copy, or `undefined`.
 * @throws {TypeError} When `value` is not an array, or an entry not a number.
 * @throws {RangeError} When an entry is not an integer between 0 and 2^32 − 2.
 */
export function checkIds(
  action: string,
  name: string,
  value: unknown,
): readonly number[] | undefined {
  if (value === undefined) return undefined;
  const ids: unknown[] = checkInstance(action, name, value, Array);
  return Object.freeze(ids.map((id, i) => checkInteger(action, `${name}[${i}]`, id, 0, MAX_ID)));
}

function list(name: string, values: readonly number[]): string {
  return values.length === 0 ? "" : `${name} ${values.join(", ")}`;
}

/**
 * Checks `policy` (before any state changes) and compiles it.
 *
 * @param action What the caller tried, e.g. "listen".
 * @param policy The caller's policy; `undefined` allows this process's
 * effective uid only.
 * @returns The compiled check.
 * @throws {TypeError} When `policy` is neither a function nor an object of
 * id arrays, or an id is not a number.
 * @throws {RangeError} When an id is not an integer between 0 and 2^32 − 2.
 */
export function peerCheck(action: string, policy: PeerPolicy | undefined): PeerCheck {
  if (typeof policy === "function") {
    return { allows: (peer) => policy(peer) === true, describe: "the allow function refused it" };
  }
  if (policy !== undefined) checkObject(action, "allow", policy);
  const uids = checkIds(action, "allow.uids", policy?.uids) ?? [ownCredentials().uid];
  const gids = checkIds(action, "allow.gids", policy?.gids) ?? [];
  const allowed = [list("uid", uids), list("gid", gids)].filter((s) => s !== "").join(" or ");
  return {
    allows: (peer) => uids.includes(peer.uid) || gids.includes(peer.gid),
    describe: allowed === "" ? "nobody is" : `allowed are ${allowed}`,
  };
}

/**
 * Reads the credentials of the peer on `socket` and, unless `check` allows
 * it, closes `socket` and throws. An exception from an allow function also
 * closes `socket` and is passed on.
 *
 * @param socket A connected socket, owned by the caller until this throws.
 * @param check The compiled policy.
 * @param refusal The start of the message, e.g. `Cannot accept on "/p" as the client`.
 * @returns The peer's credentials.
 * @throws {PeerRefused} When the policy does not allow the peer.
 */
export function admitPeer(socket: number, check: PeerCheck, refusal: string): PeerCredentials {
  let peer: PeerCredentials;
  let allowed: boolean;
  try {
    peer = peerCredentials(socket);
    allowed = check.allows(peer);
  } catch (error) {
    native().rmpsc_close(socket);
    throw error;
  }
  if (allowed) return peer;
  native().rmpsc_close(socket);
  throw new PeerRefused(
    `${refusal} (pid ${peer.pid}, uid ${peer.uid}, gid ${peer.gid}) is not allowed: ${check.describe}`,
    peer,
  );
}
