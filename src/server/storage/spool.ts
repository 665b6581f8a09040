/**
 * Taking in a stream of unknown length that must be verified before it is stored anywhere
 * readers look: it is hashed as it arrives and kept in memory up to a limit, in a temp
 * file beyond it. S3 has no rename, so this is how a put stays atomic and verified.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { makeFolder } from '../../files/make-folder.js';

export interface Spooled {
  /** sha256 hex of the content. */
  digest: string;
  size: number;
  /** The content when it fit in memory. */
  buffer?: Buffer;
  /** Otherwise the temp file holding it. */
  file?: string;
  open(): Readable;
  dispose(): Promise<void>;
}

/**
 * Room in `out` again, or its error: a write that fails (a full disk) ends the stream with
 * 'error' and no 'drain', and waiting for 'drain' alone held the upload, and its request, for good.
 */
function drained(out: WriteStream): Promise<void> {
  if (out.errored) return Promise.reject(out.errored);
  return new Promise<void>((resolve, reject) => {
    const done = (error?: Error) => {
      out.off('drain', onDrain);
      out.off('error', done);
      if (error) reject(error);
      else resolve();
    };
    const onDrain = () => done();
    out.once('drain', onDrain);
    out.once('error', done);
  });
}

/** Write `data` to `out`, waiting for room; a write that failed before throws its error. */
async function write(out: WriteStream, data: Buffer): Promise<void> {
  if (out.errored) throw out.errored;
  if (!out.write(data)) await drained(out);
}

/** Read `content` to its end; memory holds at most `memoryLimit` bytes of it. */
export async function spool(content: Readable, dir: string, memoryLimit = 8 << 20): Promise<Spooled> {
  const hash = createHash('sha256');
  const chunks: Buffer[] = [];
  let size = 0;
  let file: string | undefined;
  let out: WriteStream | undefined;
  try {
    for await (const chunk of content) {
      const data = chunk as Buffer;
      hash.update(data);
      size += data.length;
      if (!out && size > memoryLimit) {
        await makeFolder(dir);
        file = join(dir, `spool-${randomBytes(8).toString('hex')}`);
        out = createWriteStream(file);
        // Heard here too: an 'error' no one listens for would end the server's process.
        out.on('error', () => {});
        for (const c of chunks.splice(0)) await write(out, c);
      }
      if (out) await write(out, data);
      else chunks.push(data);
    }
    if (out) {
      out.end();
      await finished(out);
    }
  } catch (e) {
    out?.destroy();
    if (file) await rm(file, { force: true });
    throw e;
  }
  const buffer = out ? undefined : Buffer.concat(chunks);
  return {
    digest: hash.digest('hex'),
    size,
    ...(buffer ? { buffer } : { file: file! }),
    open: () => (buffer ? Readable.from([buffer]) : createReadStream(file!)),
    dispose: async () => {
      if (file) await rm(file, { force: true });
    },
  };
}
