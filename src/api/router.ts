import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { invalid } from '../util/errors.js';

// A request as every handler sees it. Handlers decode, call a service, and either
// return a JSON-able value (sent with `status`, 200 by default) or take over `res`
// for streams. Hijacked endpoints (attach) get the raw socket instead of `res`.
export interface ApiContext {
  req: IncomingMessage;
  res: ServerResponse | null; // null when the connection was upgraded (hijacked)
  socket: Duplex; // the underlying connection
  head: Buffer; // bytes already read past the headers of an upgraded request
  params: Record<string, string>;
  query: URLSearchParams;
  apiVersion: string; // from the /vX.Y prefix, or the daemon's own
  body(): Promise<Buffer>;
  json<T = Record<string, unknown>>(): Promise<T>;
}

export type Handler = (ctx: ApiContext) => Promise<unknown>;

export interface Route {
  method: string;
  path: string; // '/containers/{id}/start'
  handler: Handler;
}

// What a handler returns when the status is not 200 or the body is not JSON.
export class Reply {
  constructor(readonly status: number, readonly body?: unknown) {}
}
// The handler wrote the response itself (a stream).
export const Handled = Symbol('handled');

interface CompiledRoute extends Route {
  re: RegExp;
  names: string[];
}

export class Router {
  private readonly routes: CompiledRoute[] = [];

  add(routes: Route[]): void {
    for (const r of routes) {
      const names: string[] = [];
      // {name:.*} matches across slashes (image names contain them), {name} does not.
      const pattern = r.path.replace(/\{(\w+)(:\.\*)?\}/g, (_m, name: string, greedy?: string) => {
        names.push(name);
        return greedy ? '(.+)' : '([^/]+)';
      });
      this.routes.push({ ...r, re: new RegExp(`^${pattern}$`), names });
    }
  }

  match(method: string, path: string): { route: Route; params: Record<string, string> } | null | 'method' {
    let pathMatched = false;
    for (const r of this.routes) {
      const m = r.re.exec(path);
      if (!m) continue;
      pathMatched = true;
      if (r.method !== method && !(method === 'HEAD' && r.method === 'GET')) continue;
      const params: Record<string, string> = {};
      r.names.forEach((n, i) => (params[n] = decodeURIComponent(m[i + 1]!)));
      return { route: r, params };
    }
    return pathMatched ? 'method' : null;
  }
}

// Docker's boolean query values: "1", "true", "True" are true; "0", "false", "" are false.
export function boolParam(q: URLSearchParams, name: string, dflt = false): boolean {
  const v = q.get(name);
  if (v === null) return dflt;
  const s = v.trim().toLowerCase();
  if (s === '' || s === '0' || s === 'false' || s === 'no') return false;
  return true;
}

export function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw invalid(`invalid value for ${name}: ${v}`);
  return n;
}

// filters={"status":["running"]} or the legacy {"status":{"running":true}} shape.
export function filtersParam(q: URLSearchParams): Record<string, string[]> {
  const raw = q.get('filters');
  if (!raw) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw invalid(`invalid filter '${raw}'`);
  }
  const out: Record<string, string[]> = {};
  if (parsed && typeof parsed === 'object') {
    for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
      if (Array.isArray(v)) out[k] = v.map(String);
      else if (v && typeof v === 'object') out[k] = Object.keys(v as object).filter((x) => (v as Record<string, unknown>)[x]);
    }
  }
  return out;
}
