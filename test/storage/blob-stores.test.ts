import { spawn } from 'node:child_process';
import { createServer, type Socket } from 'node:net';
import { mkdtemp, readdir, rm, stat, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/core/errors.js';
import { LocalBlobStore } from '../../src/server/storage/local-blob-store.js';
import { openBlobStore } from '../../src/server/storage/open-blob-store.js';
import { S3BlobStore } from '../../src/server/storage/s3-blob-store.js';
import { createS3Client, parseS3Url } from '../../src/server/storage/s3-client.js';
import { readSettings } from '../../src/settings.js';
import { createBucket, startMoto, startS3rver, type S3Server } from '../services/s3.js';
import { blob, describeBlobStoreConformance } from './blob-store-conformance.js';

const root = await mkdtemp(join(tmpdir(), 'dstack-blobs-'));
afterAll(() => rm(root, { recursive: true, force: true }));
let counter = 0;

describeBlobStoreConformance('local disk', async () => new LocalBlobStore(join(root, `store-${++counter}`)));

const servers: Partial<Record<S3Server['name'], S3Server>> = {};
beforeAll(async () => {
  [servers.moto, servers.s3rver] = await Promise.all([startMoto(), startS3rver()]);
}, 60_000);
afterAll(async () => {
  await Promise.all(Object.values(servers).map((s) => s.stop()));
});

async function openS3(name: S3Server['name'], prefix = 'dstack/artifacts'): Promise<S3BlobStore> {
  const server = servers[name]!;
  const { bucket } = await createBucket(server);
  const store = new S3BlobStore(createS3Client(server.settings), { bucket, prefix }, { spoolDir: join(root, 'spool') });
  await store.check();
  return store;
}

describeBlobStoreConformance('S3 on moto_server', () => openS3('moto'));
describeBlobStoreConformance('S3 on s3rver', () => openS3('s3rver'));

describe('LocalBlobStore', () => {
  it('a blob folder removed by hand fails the blobs of a batch that go in it, saying to retry; a retry makes it again', async () => {
    const store = new LocalBlobStore(join(root, `store-${++counter}`));
    const first = blob(100);
    expect(await store.putMany([{ digest: first.digest, parts: [first.data] }])).toEqual([undefined]);
    const shard = join(store.root, first.digest.slice(0, 2));
    await rm(shard, { recursive: true });
    // Over a megabyte (a worker's batch); one blob named into the removed folder (taken as hashed, so not checked).
    // Random blobs outside the removed folder: one in it (1 in 256 each) would fail too, rightly.
    const others: ReturnType<typeof blob>[] = [];
    while (others.length < 8) {
      const other = blob(200_000);
      if (!other.digest.startsWith(first.digest.slice(0, 2))) others.push(other);
    }
    const lost = { digest: `${first.digest.slice(0, 2)}${'0'.repeat(62)}`, parts: [others[0]!.data], hashedHere: true };
    const outcomes = await store.putMany([...others.map(({ digest, data }) => ({ digest, parts: [data] })), lost]);
    expect(outcomes.slice(0, 8)).toEqual(Array(8).fill(undefined));
    expect(outcomes[8]?.message).toBe(`blob folder ${shard} vanished; retry the upload`);
    expect(await store.putMany([lost])).toEqual([undefined]);
    expect(await readdir(shard)).toEqual([lost.digest]);
  });
});

/** The store's temp files (`….tmp`) under `root`, with their sizes. */
async function temps(root: string): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  for (const entry of await readdir(root, { recursive: true })) {
    if (entry.endsWith('.tmp')) found.set(entry, (await stat(join(root, entry))).size);
  }
  return found;
}

describe('LocalBlobStore leftovers', () => {
  it('removes the temp files of puts a killed process never finished, once not written to for the cutoff', async () => {
    const store = new LocalBlobStore(join(root, `store-${++counter}`));
    const kept = blob(1000);
    expect(await store.putMany([{ digest: kept.digest, parts: [kept.data] }])).toEqual([undefined]);
    // A process dies halfway through two puts: a stream's (its temp in the blob's shard) and
    // a big file's (its temp in the store's root; the file /dev/zero, read as 4 GB).
    const half = blob(2000);
    const script = [
      `import { LocalBlobStore } from ${JSON.stringify(new URL('../../src/server/storage/local-blob-store.ts', import.meta.url).href)};`,
      "import { Readable } from 'node:stream';",
      `const store = new LocalBlobStore(${JSON.stringify(store.root)});`,
      'const endless = new Readable({ read() {} });',
      'endless.push(Buffer.alloc(1000, 1));',
      `void store.put(${JSON.stringify(half.digest)}, endless);`,
      "void store.putFile('/dev/zero', 4e9);",
      'setInterval(() => {}, 1000);',
    ].join('\n');
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: 'inherit',
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    let ended = false;
    void exited.then(() => (ended = true));
    const started = async () => [...(await temps(store.root)).values()].filter((n) => n > 0).length === 2;
    while (!(await started())) {
      if (ended) throw new Error('the process ended before both puts had written');
      await sleep(10);
    }
    child.kill('SIGKILL');
    await exited;
    const left = await temps(store.root);
    expect(left.size).toBe(2);
    const leftBytes = [...left.values()].reduce((a, b) => a + b, 0);

    // Written to within the cutoff: an upload may still be under way.
    expect(await store.removeLeftovers(Date.now() - 3600_000)).toEqual({ files: 0, bytes: 0 });
    const old = new Date(Date.now() - 2 * 3600_000);
    for (const path of left.keys()) await utimes(join(store.root, path), old, old);
    expect(await store.removeLeftovers(Date.now() - 3600_000)).toEqual({ files: 2, bytes: leftBytes });
    expect((await temps(store.root)).size).toBe(0);
    const listed = [];
    for await (const b of store.list()) listed.push(b.digest);
    expect(listed).toEqual([kept.digest]);
  });
});

describe('S3BlobStore', () => {
  it('a bucket that does not exist is an error that says what to check', async () => {
    const store = new S3BlobStore(createS3Client(servers.moto!.settings), { bucket: 'no-such-bucket', prefix: '' });
    await expect(store.check()).rejects.toThrow(
      "S3 bucket 'no-such-bucket' does not exist; create it, or check AWS_ENDPOINT_URL, AWS_REGION and the credentials",
    );
  });

  it('an endpoint that is not an http(s) URL, or has a port out of range, is a usage error naming its variable, without a password', () => {
    for (const [endpoint, endpointSetting, shown] of [
      ['http://[::1:9000', 'AWS_ENDPOINT_URL_S3', "'http://[::1:9000'"],
      ['http://key:se/cret@[::1', 'AWS_ENDPOINT_URL', "'http://key:***@[::1'"],
      ['localhost:9000', 'AWS_ENDPOINT_URL', "'localhost:9000'"],
    ] as const) {
      expect(() => createS3Client({ endpoint, endpointSetting })).toThrow(
        new UsageError(`invalid ${endpointSetting} ${shown}: give an http:// or https:// URL`),
      );
    }
    // A port out of range is named as such, as a server URL's is, not as a URL of the wrong kind.
    expect(() =>
      createS3Client({ endpoint: 'http://localhost:99999', endpointSetting: 'AWS_ENDPOINT_URL_S3' }),
    ).toThrow(
      new UsageError("invalid AWS_ENDPOINT_URL_S3 'http://localhost:99999': port 99999 is out of range (1 to 65535)"),
    );
    const settings = readSettings({ AWS_ENDPOINT_URL: 'http://a:9000', AWS_ENDPOINT_URL_S3: 'http://b:9000' }).s3;
    expect(settings).toMatchObject({ endpoint: 'http://b:9000', endpointSetting: 'AWS_ENDPOINT_URL_S3' });
    expect(readSettings({ AWS_ENDPOINT_URL: 'http://a:9000' }).s3).toMatchObject({
      endpointSetting: 'AWS_ENDPOINT_URL',
    });
    // `false` turned path-style on: anything but `0` did.
    for (const [value, forcePathStyle] of [
      ['false', false],
      ['0', false],
      ['TRUE', true],
      ['1', true],
    ] as const)
      expect(readSettings({ DSTACK_S3_PATH_STYLE: value }).s3).toEqual({ forcePathStyle });
  });

  it('an S3 that cannot be reached says what to check, and not to create the bucket', async () => {
    // A port nothing listens on: the request fails before any answer about the bucket.
    const s3 = createS3Client({ endpoint: 'http://127.0.0.1:9', region: 'us-east-1' });
    const store = new S3BlobStore(s3, { bucket: 'some-bucket', prefix: '' });
    const error = await store.check().then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).toMatch(
      /^S3 bucket 'some-bucket' cannot be reached \(.+\); check AWS_ENDPOINT_URL, AWS_REGION and the credentials$/,
    );
  }, 60_000);

  it('an S3 endpoint that takes connections and never answers is given up at the check, saying so', async () => {
    // A real listener that holds every connection open and says nothing: a hung S3-compatible server.
    const held: Socket[] = [];
    const silent = createServer((socket) => void held.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    try {
      const s3 = createS3Client({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1' });
      const store = new S3BlobStore(s3, { bucket: 'some-bucket', prefix: '' }, { checkMs: 1000 });
      await expect(store.check()).rejects.toThrow(
        "S3 bucket 'some-bucket' cannot be reached (no answer in 1 s); check AWS_ENDPOINT_URL, AWS_REGION and the credentials",
      );
      expect(held.length).toBeGreaterThan(0); // it was asked, and did not answer
    } finally {
      for (const socket of held) socket.destroy();
      silent.close();
    }
  });

  it('asks S3 again about every blob it remembered once a read finds one deleted outside dstack', async () => {
    const { bucket, s3 } = await createBucket(servers.moto!);
    const store = new S3BlobStore(s3, { bucket, prefix: 'p' });
    const [a, b] = [blob(10), blob(20)];
    for (const { digest, data } of [a, b]) await store.put(digest, Readable.from([data]));
    // The bucket emptied by hand: the store's memory still has both, and costs no request to ask.
    for (const { digest } of [a, b]) {
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: `p/${digest.slice(0, 2)}/${digest}` }));
    }
    expect(await store.missing([a.digest, b.digest])).toEqual([]);
    await expect(store.get(a.digest)).rejects.toThrow(`blob ${a.digest} is not stored`);
    // One remembered blob gone means the memory is stale: both are asked about, found missing, sent again.
    expect(await store.missing([a.digest, b.digest])).toEqual([a.digest, b.digest]);
    await store.put(b.digest, Readable.from([b.data]));
    expect(await store.missing([a.digest, b.digest])).toEqual([a.digest]);
  });

  it('says a bucket deleted while it runs does not exist, and forgets what it held', async () => {
    const { bucket, s3 } = await createBucket(servers.moto!);
    const store = new S3BlobStore(s3, { bucket, prefix: '' });
    const [a, c] = [blob(10), blob(5)];
    await store.put(a.digest, Readable.from([a.data]));
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: `${a.digest.slice(0, 2)}/${a.digest}` }));
    await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
    const gone = `S3 bucket '${bucket}' does not exist; create it, or check AWS_ENDPOINT_URL, AWS_REGION and the credentials`;
    await expect(store.get(a.digest)).rejects.toThrow(gone);
    await expect(store.put(c.digest, Readable.from([c.data]))).rejects.toThrow(gone);
    await expect(store.delete(a.digest)).rejects.toThrow(gone);
    await expect(
      (async () => {
        for await (const listed of store.list()) void listed;
      })(),
    ).rejects.toThrow(gone);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    expect(await store.missing([a.digest])).toEqual([a.digest]);
  });

  it('keeps blobs under its prefix and lists only them', async () => {
    const server = servers.moto!;
    const { bucket, s3 } = await createBucket(server);
    const store = new S3BlobStore(s3, { bucket, prefix: 'team/a' });
    const a = blob(10);
    await store.put(a.digest, Readable.from([a.data]));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'team/a/notes.txt', Body: 'not a blob' }));
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: `team/b/${a.digest.slice(0, 2)}/${a.digest}`, Body: 'x' }),
    );
    const listed = [];
    for await (const entry of store.list()) listed.push(entry.digest);
    expect(listed).toEqual([a.digest]);
  });

  it('spools a big put to disk while verifying it and leaves no temp file behind', async () => {
    const spoolDir = join(root, 'spool-check');
    const server = servers.s3rver!;
    const { bucket, s3 } = await createBucket(server);
    const store = new S3BlobStore(s3, { bucket, prefix: '' }, { spoolDir });
    const big = blob(10 << 20);
    await store.put(big.digest, Readable.from([big.data]));
    await expect(store.put(blob(1).digest, Readable.from([big.data]))).rejects.toThrow('does not match');
    expect(await readdir(spoolDir).catch(() => [])).toEqual([]);
  });
});

describe('parseS3Url', () => {
  it('takes the bucket and a prefix without slashes at its ends', () => {
    expect(parseS3Url('s3://my-bucket/some/prefix/')).toEqual({ bucket: 'my-bucket', prefix: 'some/prefix' });
    expect(parseS3Url('s3://my-bucket')).toEqual({ bucket: 'my-bucket', prefix: '' });
  });

  it('refuses what is not s3://BUCKET[/PREFIX]', () => {
    for (const bad of ['s3://', 's3:///x', 's3:/bucket', 's3:bucket']) {
      expect(() => parseS3Url(bad)).toThrow(`invalid --storage '${bad}': use s3://BUCKET/PREFIX (or a local folder)`);
    }
    // One of that shape whose bucket S3 would refuse says which rule it breaks.
    expect(() => parseS3Url('s3://H9Bucket/x')).toThrow(
      "invalid --storage 's3://H9Bucket/x': 'H9Bucket' is not an S3 bucket name " +
        '(3 to 63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit)',
    );
    expect(() => parseS3Url('s3:/b', 'DSTACK_STORAGE')).toThrow(
      "invalid DSTACK_STORAGE 's3:/b': use s3://BUCKET/PREFIX (or a local folder)",
    );
  });
});

describe('openBlobStore', () => {
  it('refuses anything that starts with s3: but is not s3://BUCKET, rather than take it as a folder', async () => {
    const dataDir = join(root, `store-${++counter}`);
    for (const bad of ['s3:/my-bucket/x', 's3:my-bucket', 'S3://my-bucket']) {
      await expect(openBlobStore(bad, dataDir, {}, 'DSTACK_STORAGE')).rejects.toThrow(
        `invalid DSTACK_STORAGE '${bad}': use s3://BUCKET/PREFIX (or a local folder)`,
      );
    }
    // A folder whose name holds `s3:` is still a folder (made under the test's root, not the cwd).
    expect((await openBlobStore(join(root, 's3:folder'), dataDir, {})) instanceof LocalBlobStore).toBe(true);
  });
});
