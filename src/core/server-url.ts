/** Whether a server URL (a flag, DSTACK_SERVER, a profile's `server`) is one dstack can talk to. */

const PORT = /^https?:\/\/(?:[^@/?#]*@)?(?:\[[^\]]*\]|[^:/?#[]*):(\d+)(?:[/?#]|$)/i;

/** What is wrong with `value` as a server URL, as advice (`give an http:// or https:// URL`); undefined when nothing is. */
export function serverUrlProblem(value: string): string | undefined {
  // `new URL` refuses `http://h:99999` as a whole, which would read as a wrong scheme.
  const port = PORT.exec(value)?.[1];
  if (port !== undefined && !(Number(port) >= 1 && Number(port) <= 65535)) {
    return `port ${port} is out of range (1 to 65535)`;
  }
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  // `localhost:3111` parses, as a URL of scheme `localhost:`.
  if ((url?.protocol !== 'http:' && url?.protocol !== 'https:') || !url.host) return 'give an http:// or https:// URL';
  return undefined;
}

/**
 * What is wrong with `value` as the URL of a dstack server (a flag, DSTACK_SERVER, a profile):
 * what `serverUrlProblem` says, or that it holds a user name or password. dstack authenticates
 * with its token alone and never sends them, and every message and log that names the server
 * would show them.
 */
export function dstackServerUrlProblem(value: string): string | undefined {
  const problem = serverUrlProblem(value);
  if (problem !== undefined) return problem;
  const { username, password } = new URL(value);
  if (username === '' && password === '') return undefined;
  return 'it holds a user name or password (USER:PASSWORD@), which dstack never sends (the server checks its token): give the URL without them';
}

/** Whether only this machine can reach `host`: localhost, 127.0.0.0/8 or ::1 (bracketed or not). */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return h === 'localhost' || h === '::1' || /^(::ffff:)?127\.\d+\.\d+\.\d+$/.test(h);
}
