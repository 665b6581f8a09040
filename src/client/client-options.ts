/** How a Client is made: where it sends requests and how, and what it may do on this machine. */
import type { HashFileResult, StoreFilesResult } from '../files/file-jobs.js';
import type { FetchLike } from './http.js';
import type { RetryPolicy } from './retry.js';

export interface ClientOptions {
  url: string;
  token: string;
  /** Retry requests that a dropped connection failed (runners); none: fail at once. */
  retry?: RetryPolicy;
  /**
   * How requests are sent; node:http by default. A runner inside the server passes the
   * server's own fetch handler, which skips sockets but keeps the same routes, auth and checks.
   */
  fetch?: FetchLike;
  /**
   * The server's blob folder, when the server is the embedded one on this machine (its
   * `server.json`): downloads copy blobs from it in the kernel (files/local-copy.ts).
   */
  localBlobs?: string;
  /**
   * The embedded server's process, when that is the server: a follower whose stream breaks
   * checks it still runs. `dataDir`: its folder, named when it answers that its storage is full.
   */
  localServer?: { pid: number; dataDir?: string };
  /** The runner inside the server only, with a store on local disk: it stores files itself (it reads any path). */
  localStore?: LocalStore;
  /** Where `token` came from, for the message when the server refuses it; none: the server's own message. */
  tokenSource?: TokenSource;
  /**
   * Where `url` came from (`--server`), named when what answers there is no dstack server;
   * none: the CLI's own places, DSTACK_SERVER or a profile.
   */
  urlSource?: string;
}

/** Where a token came from and how to get a good one: a refusal names these, never the token. */
export interface TokenSource {
  /** The token as the user knows it: `DSTACK_TOKEN`, `the --token`, `the token of profile 'x' (…/config.yml)`. */
  what: string;
  /** What to do about it: `ask its admin for a new one and …`. */
  fix: string;
}

/** A blob store on this machine's disk that reads files straight from their paths (LocalBlobStore). */
export interface LocalStore {
  /** A big file, hashed and copied in one read. */
  putFile(path: string, size: number): Promise<HashFileResult>;
  /** Small files, each read whole once, hashed and written. */
  putFiles(files: { path: string; size: number }[]): Promise<StoreFilesResult>;
}
