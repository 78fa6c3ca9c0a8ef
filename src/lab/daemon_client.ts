/**
 * HTTP with a JSON body over a unix socket: how the lab talks to the
 * daemon (its --socket) and to the agents (their --health-socket) without
 * going through any network namespace.
 */
import http from 'node:http';

export interface UnixResponse {
  status: number;
  text: string;
  json: any;
}

/** Never throws for a status; only for a connection that fails or times out. */
export function unixRequest(socketPath: string, method: string, urlPath: string, body?: unknown, timeoutMs = 30_000): Promise<UnixResponse> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      { socketPath, method, path: urlPath, timeout: timeoutMs, headers: payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          let json: any;
          try {
            json = text === '' ? undefined : JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, text, json });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${urlPath} on ${socketPath}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

/** The JSON answer, or an error naming the request and the status. */
export async function must(socketPath: string, method: string, urlPath: string, body?: unknown): Promise<any> {
  const r = await unixRequest(socketPath, method, urlPath, body);
  if (r.status >= 300) throw new Error(`${method} ${urlPath}: ${r.status} ${r.text}`);
  return r.json;
}

export interface DaemonHost {
  name: string;
  ip: string;
  tags: Record<string, string>;
  groups: Array<{ group_name: string; cidr: string }>;
}

export interface DaemonBlock {
  cidr: string;
  host: string;
  tenant: string;
  allocated_ip_count: number;
}

export async function daemonHosts(socket: string): Promise<DaemonHost[]> {
  return (await must(socket, 'GET', '/hosts')).hosts as DaemonHost[];
}

export async function daemonBlocks(socket: string): Promise<DaemonBlock[]> {
  return (await must(socket, 'GET', '/blocks')).blocks as DaemonBlock[];
}
