// Small HTTP helpers for starting the test bed: free ports and health probes, loopback only.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A port the kernel just handed out on 127.0.0.1, released again for a server to bind. */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port assigned'));
      });
    });
  });
}

export interface ProbeOptions {
  /** PEM trust anchors for https URLs. */
  ca?: string;
  headers?: Record<string, string>;
}

/** GET with a short timeout; resolves with the status and body, rejects on connection errors. */
export function httpGet(url: string, opts: ProbeOptions = {}): Promise<{ status: number; body: string }> {
  const target = new URL(url);
  if (target.hostname !== '127.0.0.1') throw new Error(`test bed probes stay on loopback, not ${target.hostname}`);
  const client = target.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const request = client.get(target, { ca: opts.ca, headers: opts.headers, timeout: 2_000 }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`timeout on ${url}`)));
    request.on('error', reject);
  });
}
