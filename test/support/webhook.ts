import { createServer, type Server } from 'node:http';

export interface ReceivedAlert {
  event: string;
  task: { id: string; name: string; type: string; projectId: string };
  message: string;
  execution?: { id: string; status: string };
  details?: Record<string, unknown>;
  [key: string]: unknown;
}

/** A webhook receiver on loopback that keeps what it is sent; `failWith` makes it answer an error. */
export interface TestWebhook {
  url: string;
  received: ReceivedAlert[];
  rawBodies: string[];
  failWith: number | null;
  /** Resolves with the first alert matching, waiting up to `timeoutMs`. */
  waitFor(match: (alert: ReceivedAlert) => boolean, timeoutMs?: number): Promise<ReceivedAlert>;
  close(): Promise<void>;
}

export async function startWebhook(path = '/hooks/alerts'): Promise<TestWebhook> {
  const hook: Omit<TestWebhook, 'url'> & { url: string } = {
    url: '',
    received: [],
    rawBodies: [],
    failWith: null,
    async waitFor(match, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = hook.received.find(match);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no matching alert within ${timeoutMs} ms; received: ${JSON.stringify(hook.received.map((a) => a.event))}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => {
      if (hook.failWith !== null) {
        response.writeHead(hook.failWith).end();
        return;
      }
      if (request.method === 'POST' && request.url === path && request.headers['content-type']?.startsWith('application/json')) {
        hook.rawBodies.push(body);
        hook.received.push(JSON.parse(body) as ReceivedAlert);
        response.writeHead(204).end();
      } else {
        response.writeHead(404).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no address');
  hook.url = `http://127.0.0.1:${address.port}${path}`;
  return hook;
}
