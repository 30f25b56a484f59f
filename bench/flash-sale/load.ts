/**
 * The load generator: keep-alive HTTP/1.1 (node:http, no pipelining) and closed-loop virtual
 * users that think 0 ms. The same code drives Evently and the bare Fastify ceiling, so the two
 * request rates are comparable.
 */
import http from 'node:http';

export interface Reply {
  status: number;
  /** The parsed JSON body when asked for (or for any error), else null. */
  json: unknown;
  bytes: number;
  /** The Retry-After header, when the answer had one (503 OVERLOADED, 429, ...). */
  retryAfter?: string;
}

export interface RequestOptions {
  body?: unknown;
  token?: string;
  headers?: Record<string, string>;
  /** Parse a successful body as JSON (error bodies are always parsed, for their code). */
  parse?: boolean;
}

export class HttpClient {
  readonly agent: http.Agent;
  private readonly url: URL;

  constructor(base: string, sockets: number) {
    this.url = new URL(base);
    this.agent = new http.Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets });
  }

  request(method: string, path: string, options: RequestOptions = {}): Promise<Reply> {
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(payload));
    }
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    return new Promise<Reply>((resolve, reject) => {
      const req = http.request(
        {
          host: this.url.hostname,
          port: this.url.port,
          method,
          path,
          headers,
          agent: this.agent,
        },
        (res) => {
          const chunks: Buffer[] = [];
          let bytes = 0;
          res.on('data', (chunk: Buffer) => {
            bytes += chunk.length;
            chunks.push(chunk);
          });
          res.on('error', reject);
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            let json: unknown = null;
            if (options.parse || status >= 300) {
              try {
                json = bytes > 0 ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : null;
              } catch {
                json = null;
              }
            }
            const retryAfter = res.headers['retry-after'];
            resolve({ status, json, bytes, ...(retryAfter ? { retryAfter } : {}) });
          });
        },
      );
      req.on('error', reject);
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

export interface EndpointSummary {
  requests: number;
  perSecond: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
  byStatus: Record<string, number>;
}

export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

/** The code of the 503 a server answers when it sheds load (come back after Retry-After). */
export const OVERLOADED_CODE = 'OVERLOADED';
/** How such an answer is keyed in an endpoint's `byStatus`. */
export const OVERLOADED = `503 ${OVERLOADED_CODE}`;

function summarize(
  list: number[],
  byStatus: Map<string, number>,
  seconds: number,
): EndpointSummary {
  const sorted = Float64Array.from(list).sort();
  const sum = list.reduce((a, b) => a + b, 0);
  const round = (x: number) => Math.round(x * 10) / 10;
  return {
    requests: list.length,
    perSecond: Math.round(list.length / seconds),
    p50: round(percentile(sorted, 50)),
    p95: round(percentile(sorted, 95)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted[sorted.length - 1] ?? 0),
    mean: round(sum / Math.max(1, list.length)),
    byStatus: Object.fromEntries([...byStatus].sort()),
  };
}

/** Latencies and answers per endpoint (route pattern, not URL). */
export class Stats {
  private readonly latencies = new Map<string, number[]>();
  private readonly statuses = new Map<string, Map<string, number>>();
  /** Durations that are not one answer (the open model's whole iterations). */
  private readonly timings = new Map<string, number[]>();
  readonly counters = new Map<string, number>();
  networkErrors = 0;

  record(endpoint: string, ms: number, status: number, code?: string): void {
    let list = this.latencies.get(endpoint);
    if (!list) this.latencies.set(endpoint, (list = []));
    list.push(ms);
    let byStatus = this.statuses.get(endpoint);
    if (!byStatus) this.statuses.set(endpoint, (byStatus = new Map()));
    const key = code ? `${status} ${code}` : String(status);
    byStatus.set(key, (byStatus.get(key) ?? 0) + 1);
  }

  recordTiming(name: string, ms: number): void {
    let list = this.timings.get(name);
    if (!list) this.timings.set(name, (list = []));
    list.push(ms);
  }

  count(name: string, by = 1): void {
    this.counters.set(name, (this.counters.get(name) ?? 0) + by);
  }

  get(name: string): number {
    return this.counters.get(name) ?? 0;
  }

  totalRequests(): number {
    let n = 0;
    for (const list of this.latencies.values()) n += list.length;
    return n;
  }

  /** Answers of every endpoint whose status (and code) key passes `test`, e.g. '503 OVERLOADED'. */
  answers(test: (key: string) => boolean): number {
    let n = 0;
    for (const byStatus of this.statuses.values()) {
      for (const [key, count] of byStatus) if (test(key)) n += count;
    }
    return n;
  }

  /** 503 OVERLOADED answers: the server shedding load, retried by the VU, not an error. */
  overloaded(): number {
    return this.answers((key) => key === OVERLOADED);
  }

  /** Network errors (status 0) and 5xx answers other than 503 OVERLOADED. */
  errors(): number {
    return this.answers((key) => {
      const status = Number(key.split(' ')[0]);
      return (status === 0 || status >= 500) && key !== OVERLOADED;
    });
  }

  summary(seconds: number): Record<string, EndpointSummary> {
    const out: Record<string, EndpointSummary> = {};
    for (const [endpoint, list] of this.latencies) {
      out[endpoint] = summarize(list, this.statuses.get(endpoint) ?? new Map(), seconds);
    }
    return out;
  }

  /** Every answer of every endpoint together: the latency a buyer sees whatever they ask. */
  overall(seconds: number): EndpointSummary {
    const all: number[] = [];
    const byStatus = new Map<string, number>();
    for (const list of this.latencies.values()) for (const ms of list) all.push(ms);
    for (const statuses of this.statuses.values()) {
      for (const [key, n] of statuses) byStatus.set(key, (byStatus.get(key) ?? 0) + n);
    }
    return summarize(all, byStatus, seconds);
  }

  timingSummary(seconds: number): Record<string, EndpointSummary> {
    const out: Record<string, EndpointSummary> = {};
    for (const [name, list] of this.timings) out[name] = summarize(list, new Map(), seconds);
    return out;
  }
}

/**
 * A request timed and tallied under `endpoint`; network errors count as status 0. The latency
 * runs from `origin` when given (the open model: the moment the request should have been
 * sent), else from the moment it is sent.
 */
export async function timed(
  stats: Stats,
  endpoint: string,
  send: () => Promise<Reply>,
  origin?: number,
): Promise<Reply> {
  const started = origin ?? performance.now();
  try {
    const reply = await send();
    const code =
      reply.status >= 300 && reply.json && typeof reply.json === 'object'
        ? (reply.json as { code?: string }).code
        : undefined;
    stats.record(endpoint, performance.now() - started, reply.status, code);
    return reply;
  } catch (error) {
    stats.networkErrors++;
    stats.record(endpoint, performance.now() - started, 0, (error as Error).message.slice(0, 40));
    return { status: 0, json: null, bytes: 0 };
  }
}

export type Step = 'continue' | 'done';

export interface RunResult {
  /** Seconds from the start to the deadline, or to the moment the last VU finished. */
  seconds: number;
  /** Whether every VU said it was done (sold out) before the deadline. */
  finishedEarly: boolean;
}

/**
 * `vus` closed loops, each running `iteration` back to back (0 ms think time) until the
 * deadline or until it answers 'done'. An iteration in flight at the deadline is finished
 * (and counted) but no new one starts.
 */
export async function runVus(
  vus: number,
  durationMs: number,
  iteration: (vu: number, round: number) => Promise<Step>,
): Promise<RunResult> {
  const started = performance.now();
  const deadline = started + durationMs;
  let early = 0;
  await Promise.all(
    Array.from({ length: vus }, async (_, vu) => {
      for (let round = 0; performance.now() < deadline; round++) {
        if ((await iteration(vu, round)) === 'done') {
          early++;
          return;
        }
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  return {
    seconds: Math.max(0.001, elapsed),
    finishedEarly: early === vus,
  };
}
