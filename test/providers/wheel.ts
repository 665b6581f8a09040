/** A tiny wheel for pip tests, made by hand: no build tools, no index. */
import { execFileSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';

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
