/**
 * A proxy in front of a real S3-compatible server (moto) that fails what a test asks: a
 * request held open and never answered (a hung endpoint), an S3 error status (500, 503
 * SlowDown), or passed through. Storage's faults without touching the shared S3 server.
 */
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * What one request gets: passed to the real server, held without an answer, an S3 error, or its
 * connection cut once `cutAfter` bytes of its body came in (`delayMs` later: a long upload that failed).
 */
export type Fault =
  'pass' | 'hang' | { status: number; code: string; message?: string } | { cutAfter: number; delayMs?: number };

export interface FaultProxy {
  endpoint: string;
  /** Every request seen, in order: method and path (with its query). */
  seen: { method: string; url: string; fault: Fault }[];
  /** Decides each request's fault; replace it at any time. */
  fault: (method: string, url: string) => Fault;
  stop(): Promise<void>;
}

function s3Error(res: ServerResponse, status: number, code: string, message = `${code} from the test's proxy`): void {
  res.writeHead(status, { 'content-type': 'application/xml' });
  // As S3 writes them: the access key id and what was signed come along with a refusal.
  res.end(
    `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message>` +
      `<AWSAccessKeyId>AKIATESTPROXYKEY</AWSAccessKeyId><StringToSign>AWS4-HMAC-SHA256</StringToSign></Error>`,
  );
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  const sockets = new Set<Socket>();
  const proxy: FaultProxy = {
    endpoint: '',
    seen: [],
    fault: () => 'pass',
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const fault = proxy.fault(req.method ?? 'GET', req.url ?? '/');
    proxy.seen.push({ method: req.method ?? 'GET', url: req.url ?? '/', fault });
    if (fault === 'hang') return void req.resume(); // read what is sent, answer nothing
    if (typeof fault === 'object' && 'cutAfter' in fault) {
      let got = 0;
      req.on('data', (chunk: Buffer) => {
        got += chunk.length;
        if (got < fault.cutAfter) return;
        req.pause();
        setTimeout(() => req.socket.destroy(), fault.delayMs ?? 0);
      });
      return;
    }
    if (typeof fault === 'object') {
      req.resume();
      req.once('end', () => s3Error(res, fault.status, fault.code, fault.message));
      return;
    }
    const out = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return proxy;
}
