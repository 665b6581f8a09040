/** A tiny wheel for pip tests, made by hand: no build tools, no index; and a folder of them served over HTTP. */
import { execFileSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, join } from 'node:path';

/** A zip with the package `tinypkg` and its dist-info. */
const MAKE_WHEEL = `
import base64, hashlib, sys, zipfile
files = {
    "tinypkg/__init__.py": b"def greet(who):\\n    return f'" + sys.argv[2].encode() + b" {who} from tinypkg'\\n",
    "tinypkg-0.1.dist-info/METADATA": b"Metadata-Version: 2.1\\nName: tinypkg\\nVersion: 0.1\\n",
    "tinypkg-0.1.dist-info/WHEEL": b"Wheel-Version: 1.0\\nGenerator: dstack-test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
}
def record(name, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"
lines = [record(k, v) for k, v in files.items()] + ["tinypkg-0.1.dist-info/RECORD,,"]
with zipfile.ZipFile(sys.argv[1], "w") as z:
    for name, data in files.items():
        z.writestr(name, data)
    z.writestr("tinypkg-0.1.dist-info/RECORD", "\\n".join(lines) + "\\n")
`;

/** Writes a wheel of package `tinypkg`, whose `greet(who)` says `greeting` to `who`, into `dir`. */
export async function makeWheel(dir: string, greeting = 'hello'): Promise<void> {
  await mkdir(dir, { recursive: true });
  execFileSync('python3', ['-c', MAKE_WHEEL, join(dir, 'tinypkg-0.1-py3-none-any.whl'), greeting]);
}

/**
 * `dir` served at a URL of this machine, for `PIP_FIND_LINKS`: a page linking its files, as
 * they are at each request. A local wheel folder leaves a virtualenv uncached (python-job.ts);
 * a URL is what a runner's cached one is made from. A container reaches it on the host's network.
 */
export async function serveWheels(dir: string): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    const name = basename(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    if (name === '') {
      void readdir(dir).then((files) => {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end(files.map((f) => `<a href="${encodeURIComponent(f)}">${f}</a><br>`).join('\n'));
      });
      return;
    }
    createReadStream(join(dir, name))
      .on('error', () => res.writeHead(404).end())
      .on('open', () => res.writeHead(200, { 'content-type': 'application/octet-stream' }))
      .pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections(); // pip keeps its connection open
      server.close(() => resolve());
    });
  return { url: `http://127.0.0.1:${port}/`, close };
}
