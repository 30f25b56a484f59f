/**
 * Where the time goes: a summary of the server's V8 CPU profiles (`--cpu-prof`) by function
 * and by package, and a sampler of pg_stat_activity (what the database's backends are doing,
 * statement and wait event), which stands in for pg_stat_statements when that extension is
 * not preloaded.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql, type Kysely } from 'kysely';
import type { DB } from '../../src/platform/database/schema.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  files: number;
  sampledMs: number;
  topFunctions: Array<{ frame: string; selfMs: number; share: number }>;
  byPackage: Array<{ name: string; selfMs: number; share: number }>;
}

/** Which package or part of the program a frame belongs to. */
function packageOf(url: string, functionName: string): string {
  if (!url) {
    if (functionName === '(garbage collector)') return '(gc)';
    if (functionName === '(idle)' || functionName === '(program)') return functionName;
    return '(native)';
  }
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const src = /\/(src\/[^/]+(?:\/[^/]+)?)/.exec(url);
  if (src) return src[1]!;
  return url.split('/').slice(-2).join('/');
}

/** A time window on the monotonic clock, in microseconds (`process.hrtime.bigint() / 1000`). */
export interface Window {
  startUs: number;
  endUs: number;
}

export const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

/**
 * Self time by function and by package over every profile in `dir`, counting only the
 * samples taken inside `window` (V8 stamps samples with the same monotonic clock), so server
 * start-up and seeding are left out.
 */
export function summarizeProfiles(dir: string, window?: Window, top = 25): ProfileSummary | null {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  } catch {
    return null;
  }
  if (files.length === 0) return null;
  const byFrame = new Map<string, number>();
  const byPackage = new Map<string, number>();
  let total = 0;
  for (const file of files) {
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
    const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
    const selfUs = new Map<number, number>();
    let at = profile.startTime;
    profile.samples.forEach((id, i) => {
      const delta = profile.timeDeltas[i] ?? 0;
      at += delta;
      if (window && (at < window.startUs || at > window.endUs)) return;
      selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
    });
    for (const [id, us] of selfUs) {
      const node = nodes.get(id);
      if (!node) continue;
      const { functionName, url, lineNumber } = node.callFrame;
      const pkg = packageOf(url, functionName);
      if (pkg === '(idle)') continue;
      const frame = `${functionName || '(anonymous)'} ${pkg}${url ? `:${lineNumber + 1}` : ''}`;
      byFrame.set(frame, (byFrame.get(frame) ?? 0) + us / 1000);
      byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us / 1000);
      total += us / 1000;
    }
  }
  const ranked = (map: Map<string, number>) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, ms]) => ({
        name,
        selfMs: Math.round(ms),
        share: Math.round((ms / total) * 1000) / 10,
      }));
  return {
    files: files.length,
    sampledMs: Math.round(total),
    topFunctions: ranked(byFrame).map(({ name, selfMs, share }) => ({
      frame: name,
      selfMs,
      share,
    })),
    byPackage: ranked(byPackage),
  };
}

export interface ActivitySummary {
  samples: number;
  /** Average number of backends of the bench database that were active (busy) per sample. */
  averageActive: number;
  byWait: Array<{ wait: string; share: number }>;
  byStatement: Array<{ statement: string; share: number }>;
  transactionsPerSecond: number;
  rollbacksPerSecond: number;
}

/** Samples pg_stat_activity of database `name` every `intervalMs` until stopped. */
export function samplePgActivity(db: Kysely<DB>, name: string, intervalMs = 100) {
  const waits = new Map<string, number>();
  const statements = new Map<string, number>();
  let samples = 0;
  let active = 0;
  let stopped = false;
  const counters = async () =>
    (
      await sql<{ commits: number; rollbacks: number }>`
        SELECT xact_commit::float8 AS commits, xact_rollback::float8 AS rollbacks
        FROM pg_stat_database WHERE datname = ${name}`.execute(db)
    ).rows[0] ?? { commits: 0, rollbacks: 0 };
  const started = performance.now();
  const first = counters();
  const loop = (async () => {
    while (!stopped) {
      const rows = (
        await sql<{ wait: string | null; query: string }>`
          SELECT COALESCE(wait_event_type || ':' || wait_event, 'CPU') AS wait,
                 regexp_replace(left(query, 160), '\\s+', ' ', 'g') AS query
          FROM pg_stat_activity
          WHERE datname = ${name} AND state = 'active' AND pid <> pg_backend_pid()`.execute(db)
      ).rows;
      samples++;
      active += rows.length;
      for (const row of rows) {
        const wait = row.wait ?? 'CPU';
        waits.set(wait, (waits.get(wait) ?? 0) + 1);
        statements.set(row.query, (statements.get(row.query) ?? 0) + 1);
      }
      await new Promise((done) => setTimeout(done, intervalMs));
    }
  })();
  return {
    async stop(): Promise<ActivitySummary> {
      stopped = true;
      await loop;
      const [before, after] = [await first, await counters()];
      const seconds = (performance.now() - started) / 1000;
      const ranked = (map: Map<string, number>, n: number) =>
        [...map]
          .sort((a, b) => b[1] - a[1])
          .slice(0, n)
          .map(([key, count]) => [key, Math.round((count / Math.max(1, active)) * 1000) / 10]);
      return {
        samples,
        averageActive: Math.round((active / Math.max(1, samples)) * 10) / 10,
        byWait: ranked(waits, 10).map(([wait, share]) => ({
          wait: wait as string,
          share: share as number,
        })),
        byStatement: ranked(statements, 12).map(([statement, share]) => ({
          statement: statement as string,
          share: share as number,
        })),
        transactionsPerSecond: Math.round((after.commits - before.commits) / seconds),
        rollbacksPerSecond: Math.round((after.rollbacks - before.rollbacks) / seconds),
      };
    },
  };
}
