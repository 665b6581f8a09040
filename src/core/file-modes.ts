/**
 * The modes a restore gives the files and folders a manifest names. A manifest's mode is meant
 * as permission bits only (a scan keeps `mode & 0o777`), but a manifest comes over the network
 * (a runner token may PUT any): setuid, setgid, sticky or file-type bits in it are dropped, never
 * applied. The owner always gets what the job, and whoever empties its workspace, needs.
 */

/** The bits of a mode a manifest may carry, and the most a server takes (rwx for all). */
export const PERMISSION_BITS = 0o777;

/** A restored file's mode: the manifest's permission bits, and read-write for its owner. */
export const restoredFileMode = (mode: number): number => (mode & PERMISSION_BITS) | 0o600;

/** A restored folder's mode: the manifest's permission bits, and rwx for its owner. */
export const restoredFolderMode = (mode: number): number => (mode & PERMISSION_BITS) | 0o700;
