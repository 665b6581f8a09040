/**
 * The blob transfer API's bodies, shared by the server and the client: which blobs an
 * upload must send and how, and the thresholds that decide between packed, single and
 * direct (presigned) transfers.
 */

/** A request a client sends straight to the storage service, without the dstack server in the path. */
export interface DirectRequest {
  url: string;
  /** Headers the request must carry exactly (they are part of the signature). */
  headers: Record<string, string>;
}

/** `POST /api/blobs/uploads`: the blobs an upload has, by digest and size. */
export interface UploadPlanRequest {
  blobs: { digest: string; size: number }[];
}

/** The blobs the server lacks; `put` when the client should send it straight to storage. */
export interface UploadPlan {
  missing: { digest: string; put?: DirectRequest }[];
}

/**
 * Files smaller than this travel packed (many per request, as a tar of digest-named
 * entries); bigger ones one per request, straight to storage when it allows. 1 MiB.
 */
export const SMALL_BLOB = 1 << 20;
/** A pack holds at most this many bytes of content (32 MiB)... */
export const PACK_BYTES = 32 << 20;
/** ...and at most this many entries. */
export const PACK_ENTRIES = 2000;
