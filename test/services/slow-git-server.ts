/**
 * A bare repository served over git's "dumb" HTTP protocol (its files as they are), with every
 * request held while the server is closed off: a remote whose clone lasts as long as a test
 * wants, and which tells when git gives up on it (its connections close).
 */
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { join, normalize } from 'node:path';

export interface SlowGitServer {
  /** The repository's URL. */
  url: string;
  /** How many requests are being held now. */
  held(): number;
  /** How many connections git has open now. */
  connections(): number;
  /** Hold every request from now on (the default), or serve them, those held included. */
  hold(holding: boolean): void;
  close(): Promise<void>;
}

export async function slowGitServer(bare: string): Promise<SlowGitServer> {
  execFileSync('git', ['--git-dir', bare, 'update-server-info']); // the dumb protocol's index of refs and packs
  let holding = true;
  const waiting = new Set<() => void>();
  const sockets = new Set<Socket>();
  const serve = async (request: IncomingMessage, response: ServerResponse) => {
    const path = normalize(decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname));
    const file = join(bare, path.replace(/^\/repo\.git\//, ''));
    // Not `application/x-git-...`: git then reads the files as they are (the dumb protocol).
    const content = await readFile(file).catch(() => undefined);
    if (content === undefined) response.writeHead(404).end();
    else response.writeHead(200, { 'content-type': 'application/octet-stream' }).end(content);
  };
  const server = createServer((request, response) => {
    const go = () => void serve(request, response);
    if (!holding) return go();
    waiting.add(go);
    response.once('close', () => waiting.delete(go)); // git gave up on it
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/repo.git`,
    held: () => waiting.size,
    connections: () => sockets.size,
    hold(value) {
      holding = value;
      if (value) return;
      const held = [...waiting];
      waiting.clear();
      for (const go of held) go();
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
