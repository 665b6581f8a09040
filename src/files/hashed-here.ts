/**
 * Bytes this process has hashed itself, so that the server need not hash them again when
 * they reach it without leaving the process: the embedded runner's packs go to the server's
 * routes in-process (server/in-process-fetch.ts), as views of the very buffer the runner read
 * the files into and hashed.
 *
 * Why this is safe: an entry counts only when it is a view of the same ArrayBuffer, at the
 * same offset and length, as bytes registered here with the same digest. Only code in this
 * process can hold that ArrayBuffer object: bytes from a socket (any remote runner, any
 * client) arrive in buffers Node allocates, never in one registered here, and a pack entry
 * that the parser had to copy (it spanned chunks) is a new buffer too; both are hashed as
 * before. Registered buffers are SharedArrayBuffers of their own, so that no other Buffer
 * shares their memory; besides the main thread, only this process's file worker threads
 * touch them (files/file-workers.ts: the read that filled them, a write of them to the
 * store). They are not written once registered, and they are forgotten when their upload
 * ends (or with the buffer, by the WeakMap).
 */

interface Hashed {
  length: number;
  digest: string;
}

const registry = new WeakMap<ArrayBufferLike, Map<number, Hashed>>();

/** Record that `view`'s bytes hash to `digest` (computed by this process from exactly these bytes). */
export function rememberHashed(view: Uint8Array, digest: string): void {
  let spans = registry.get(view.buffer);
  if (!spans) registry.set(view.buffer, (spans = new Map()));
  spans.set(view.byteOffset, { length: view.length, digest });
}

/** Whether `view` is exactly bytes this process hashed to `digest`. */
export function hashedHere(view: Uint8Array, digest: string): boolean {
  const hit = registry.get(view.buffer)?.get(view.byteOffset);
  return hit !== undefined && hit.length === view.length && hit.digest === digest;
}

/** Forget every span of `buffer` (its upload is over). */
export function forgetHashed(buffer: ArrayBufferLike): void {
  registry.delete(buffer);
}
