/**
 * The runner's memory of small blobs it has downloaded, shared by its jobs: every job of a
 * run writes the same code files, and every job after a shared step the same small artifacts
 * of it. 16 MiB at most, no blob over 1 MiB.
 */
import { BlobCache } from '../files/blob-cache.js';

export const smallBlobs = new BlobCache(16 << 20);
