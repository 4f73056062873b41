import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdir, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import S3rver from 's3rver';
import { freePort } from '../../support/ports';

/**
 * s3rver as a separate process on 127.0.0.1 (its CLI), for measuring the memory of this process
 * alone. Resolves once it accepts connections.
 */
export async function startS3rverProcess(directory: string, bucket: string): Promise<{ endpoint: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [resolve(__dirname, '../../../node_modules/s3rver/bin/s3rver.js'), '-a', '127.0.0.1', '-p', String(port), '-d', directory, '--silent', '--configure-bucket', bucket],
    { stdio: 'ignore' },
  );
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill();
      await once(child, 'exit');
    }
  };
  for (let attempt = 0; ; attempt++) {
    const reachable = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.end();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (reachable) return { endpoint: `http://127.0.0.1:${port}`, stop };
    if (attempt > 200 || child.exitCode !== null) {
      await stop();
      throw new Error(`s3rver did not start on 127.0.0.1:${port}`);
    }
    await delay(25);
  }
}

/**
 * s3rver in this process on 127.0.0.1, behind a plain http.Server so a test can cut every
 * connection at once (a crash) and start it again on the same port and directory.
 *
 * s3rver 3.7 has no AbortMultipartUpload (405) nor ListMultipartUploads (501). Both are answered
 * here from s3rver's own on-disk layout (`<bucket>/._S3rver_uploads/<uploadId>/`), so a test can
 * see whether a store's cleanup really aborted its upload; everything else is s3rver's.
 */
export class TestS3Server {
  /** The only access key s3rver knows; it does not check signatures, so any secret passes. */
  static readonly accessKeyId = 'S3RVER';
  /** When set, HeadObject reports this ETag instead of the real one: a store that kept other bytes. */
  misreportedETag: string | undefined;
  private server: Server | undefined;
  private port = 0;

  constructor(
    readonly directory: string,
    readonly bucket: string,
  ) {}

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const s3rver = new S3rver({ directory: this.directory, silent: true, configureBuckets: [{ name: this.bucket, configs: [] }] });
    await s3rver.configureBuckets();
    const handle = s3rver.callback();
    const server = createServer((request, response) => {
      if (this.serveMissingOperation(request, response)) return;
      const misreported = this.misreportedETag;
      if (request.method === 'HEAD' && misreported !== undefined) {
        const setHeader = response.setHeader.bind(response);
        response.setHeader = (name, value) => setHeader(name, name.toLowerCase() === 'etag' ? `"${misreported}"` : value);
      }
      handle(request, response);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Like a crash: open connections are cut, not finished. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Upload IDs of multipart uploads neither completed nor aborted, straight from s3rver's directory. */
  async pendingUploads(): Promise<string[]> {
    try {
      return await readdir(this.uploadsDirectory());
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  }

  /** Parts stored so far of all pending uploads. */
  async storedParts(): Promise<number> {
    let parts = 0;
    for (const uploadId of await this.pendingUploads()) {
      const files = await readdir(join(this.uploadsDirectory(), uploadId)).catch(() => []);
      parts += files.filter((file) => /^\d+$/.test(file)).length;
    }
    return parts;
  }

  private uploadsDirectory(): string {
    return join(this.directory, this.bucket, '._S3rver_uploads');
  }

  private serveMissingOperation(request: IncomingMessage, response: ServerResponse): boolean {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const [bucket, ...key] = url.pathname.slice(1).split('/');
    if (bucket !== this.bucket) return false;
    const uploadId = url.searchParams.get('uploadId');
    if (request.method === 'DELETE' && uploadId !== null && key.join('/') !== '') {
      void this.abortUpload(uploadId, response);
      return true;
    }
    if (request.method === 'GET' && url.searchParams.has('uploads') && key.join('/') === '') {
      void this.listUploads(response);
      return true;
    }
    return false;
  }

  private async abortUpload(uploadId: string, response: ServerResponse): Promise<void> {
    const pending = await this.pendingUploads();
    if (!/^[0-9a-f]+$/.test(uploadId) || !pending.includes(uploadId)) {
      xml(response, 404, '<Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist.</Message></Error>');
      return;
    }
    await rm(join(this.uploadsDirectory(), uploadId), { recursive: true, force: true });
    response.writeHead(204).end();
  }

  private async listUploads(response: ServerResponse): Promise<void> {
    const uploads: string[] = [];
    for (const uploadId of await this.pendingUploads()) {
      const key = await readFile(join(this.uploadsDirectory(), uploadId, 'key'), 'utf8');
      uploads.push(`<Upload><Key>${escapeXml(key)}</Key><UploadId>${uploadId}</UploadId></Upload>`);
    }
    xml(
      response,
      200,
      `<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>${this.bucket}</Bucket>` +
        `<IsTruncated>false</IsTruncated>${uploads.join('')}</ListMultipartUploadsResult>`,
    );
  }
}

function xml(response: ServerResponse, status: number, body: string): void {
  response.writeHead(status, { 'content-type': 'application/xml' }).end(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`);
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
