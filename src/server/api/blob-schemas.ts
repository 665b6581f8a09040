/** zod schemas of the blob transfer routes (packs, upload plans). */
import { z } from 'zod';

const digest = z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 hex digest');

export const uploadPlan = z.object({
  blobs: z.array(z.object({ digest, size: z.number().int().nonnegative() })).max(100_000),
});

/** A pack download names at most this many blobs; the client asks for packs of at most 2000. */
export const packRequest = z.object({ digests: z.array(digest).min(1).max(10_000) });
