/**
 * The driver micro-benchmark: `npx tsx bench/driver/main.ts [options]`
 *
 *   --url URL            PostgreSQL server (default DATABASE_URL or
 *                        postgres://postgres@127.0.0.1:5432/test); a scratch database
 *                        evently_driver_<random> is created beside it and dropped at the end
 *   --seconds 9          measured seconds per run (after --warmup 1)
 *   --callers 64,256     closed-loop callers (one run per value and setup)
 *   --setups all         kysely-pg,pg-pool,pg-pipeline,postgres-js
 *   --batch-setups kysely-pg,postgres-js   setups also run with 16 requests per statement
 *   --batch 16           the size of those batches
 *   --pool 20            connections per setup (the app's DATABASE_POOL_SIZE)
 *   --users 20000        buyers, taken in turn
 *   --async-commit       hold_batch's p_async_commit (the app's HOLD_ASYNC_COMMIT; default off)
 *   --reverse            run the plan in reverse order (a second run, against drift)
 *   --keep               keep the scratch database
 *
 * Every setup runs the hold path's one statement (hold_batch, migration 010) with a batch of
 * GA requests; each run gets its own untouched GA event. Before the runs, each setup holds a
 * reserved seat and is refused it the second time, so every driver is seen answering the same
 * rows (uuid[] as text[], jsonb, integers). Prints a table; writes JSON to bench/results/.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { runLoop, type LoopResult } from './loop.js';
import { createScratchDatabase, migrateAndSeed, type Seed } from './seed.js';
import { openSetup, SETUP_NAMES, type HoldRequest, type SetupName } from './setups.js';

interface Options {
  url: string;
  seconds: number;
  warmupSeconds: number;
  callers: number[];
  setups: SetupName[];
  batchSetups: SetupName[];
  batch: number;
  pool: number;
  users: number;
  asyncCommit: boolean;
  reverse: boolean;
  keep: boolean;
}

function readOptions(argv: string[]): Options {
  const value = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const setupList = (raw: string | undefined, fallback: readonly SetupName[]): SetupName[] => {
    if (raw === undefined || raw === 'all') return [...fallback];
    if (raw === 'none') return [];
    return raw.split(',').map((s) => {
      if (!(SETUP_NAMES as readonly string[]).includes(s)) throw new Error(`unknown setup ${s}`);
      return s as SetupName;
    });
  };
  return {
    url: value('--url') ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    seconds: Number(value('--seconds') ?? 9),
    warmupSeconds: Number(value('--warmup') ?? 1),
    callers: (value('--callers') ?? '64,256').split(',').map(Number),
    setups: setupList(value('--setups'), SETUP_NAMES),
    batchSetups: setupList(value('--batch-setups'), ['kysely-pg', 'postgres-js']),
    batch: Number(value('--batch') ?? 16),
    pool: Number(value('--pool') ?? 20),
    users: Number(value('--users') ?? 20_000),
    asyncCommit: argv.includes('--async-commit'),
    reverse: argv.includes('--reverse'),
    keep: argv.includes('--keep'),
  };
}

function packageVersion(name: string): string {
  const file = new URL(`../../node_modules/${name}/package.json`, import.meta.url);
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

/** Each setup holds one reserved seat, then is refused the same seat: same answers from all. */
async function checkAnswers(options: Options, url: string, seed: Seed): Promise<void> {
  let i = 0;
  for (const name of options.setups) {
    const seatId = seed.seatIds[i]!;
    const userId = seed.userIds[seed.userIds.length - 1 - i]!;
    i += 1;
    const request = (): HoldRequest => ({
      holdId: randomUUID(),
      userId,
      seatIds: [seatId],
      expiresAt: new Date(Date.now() + 600_000).toISOString(),
      audit: { actorId: userId, actorRole: 'user', ip: '127.0.0.1', requestId: randomUUID() },
      idempotency: null,
      traceContext: null,
    });
    const setup = openSetup(name, url, { poolSize: 2, asyncCommit: options.asyncCommit });
    try {
      const [held] = await setup.hold(seed.reservedEventId, new Date(), [request()]);
      const [refused] = await setup.hold(seed.reservedEventId, new Date(), [request()]);
      const expected = [
        { outcome: 'HELD', seatIds: [seatId], totalCents: 5000, currency: 'EUR', detail: null },
        {
          outcome: 'SEAT_UNAVAILABLE',
          seatIds: [seatId],
          totalCents: null,
          currency: null,
          detail: null,
        },
      ];
      if (!isDeepStrictEqual([{ ...held }, { ...refused }], expected)) {
        throw new Error(`${name} answered ${JSON.stringify([held, refused])}`);
      }
    } finally {
      await setup.close();
    }
  }
}

const fmt = (n: number, digits = 0) =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : '-';

function table(results: LoopResult[]): string {
  const header = [
    'setup',
    'batch',
    'callers',
    'stmts/s',
    'holds/s',
    'p50 ms',
    'p99 ms',
    'CPU µs/stmt',
    'CPU µs/hold',
    'node CPU %',
    'machine busy %',
    'load1',
    'errors',
  ];
  const rows = results.map((r) => [
    r.setup,
    String(r.batch),
    String(r.callers),
    fmt(r.statementsPerSecond),
    fmt(r.requestsPerSecond),
    fmt(r.p50Ms, 1),
    fmt(r.p99Ms, 1),
    fmt(r.cpuUsPerStatement),
    fmt(r.cpuUsPerRequest),
    fmt(r.nodeCpuPercent),
    fmt(r.machineBusyPercent),
    fmt(r.load1, 2),
    String(r.errors),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) =>
    `| ${cells.map((cell, c) => (c < 1 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join(' | ')} |`;
  return [
    line(header),
    `| ${widths.map((w, c) => (c < 1 ? '-'.repeat(w) : `${'-'.repeat(w - 1)}:`)).join(' | ')} |`,
    ...rows.map(line),
  ].join('\n');
}

async function main(): Promise<void> {
  const options = readOptions(process.argv.slice(2));
  const plan: { setup: SetupName; batch: number; callers: number }[] = [];
  for (const callers of options.callers) {
    for (const setup of options.setups) plan.push({ setup, batch: 1, callers });
    for (const setup of options.batchSetups) plan.push({ setup, batch: options.batch, callers });
  }
  if (options.reverse) plan.reverse();
  const loadBefore = loadavg();
  const started = Date.now();
  console.log(
    `pg ${packageVersion('pg')}, kysely ${packageVersion('kysely')}, postgres.js ${packageVersion('postgres')}, node ${process.version}`,
  );
  console.log(`load average before: ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`);
  console.log(
    `${plan.length} runs of ${options.warmupSeconds} s warm-up + ${options.seconds} s, pool ${options.pool}, async commit ${options.asyncCommit ? 'on' : 'off'}`,
  );

  const scratch = await createScratchDatabase(options.url);
  const results: LoopResult[] = [];
  let server: Record<string, string> = {};
  try {
    const seed = await migrateAndSeed(scratch.url, {
      users: options.users,
      seats: 10_000,
      gaEvents: plan.length,
    });
    const probe = new pg.Client({ connectionString: scratch.url });
    await probe.connect();
    const settings = await probe.query<{ name: string; setting: string }>(
      `SELECT name, setting FROM pg_settings
       WHERE name IN ('server_version', 'fsync', 'synchronous_commit', 'max_connections')`,
    );
    await probe.end();
    server = Object.fromEntries(settings.rows.map((r) => [r.name, r.setting]));
    console.log(`scratch database ${scratch.name}; server ${JSON.stringify(server)}`);

    await checkAnswers(options, scratch.url, seed);
    console.log(`answers checked: ${options.setups.join(', ')} answer the same rows`);

    for (const [i, run] of plan.entries()) {
      const setup = openSetup(run.setup, scratch.url, {
        poolSize: options.pool,
        asyncCommit: options.asyncCommit,
      });
      try {
        const result = await runLoop({
          setup,
          eventId: seed.gaEventIds[i]!,
          userIds: seed.userIds,
          callers: run.callers,
          batch: run.batch,
          warmupSeconds: options.warmupSeconds,
          seconds: options.seconds,
        });
        results.push(result);
        console.log(
          `${result.setup} batch ${result.batch} x ${result.callers}: ${fmt(result.statementsPerSecond)} stmts/s, p99 ${fmt(result.p99Ms, 1)} ms, ${fmt(result.cpuUsPerStatement)} µs CPU/stmt` +
            (Object.keys(result.refused).length
              ? `, refused ${JSON.stringify(result.refused)}`
              : '') +
            (result.errors ? `, ${result.errors} errors (${result.firstError})` : ''),
        );
      } finally {
        await setup.close();
      }
    }
  } finally {
    if (!options.keep) await scratch.drop();
  }

  const loadAfter = loadavg();
  console.log(`\n${table(results)}\n`);
  console.log(`load average before: ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`load average after:  ${loadAfter.map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`total ${((Date.now() - started) / 1000).toFixed(0)} s`);

  const dir = join(process.cwd(), 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `driver-${new Date().toISOString().replaceAll(':', '-')}.json`);
  writeFileSync(
    file,
    JSON.stringify({ options, server, loadBefore, loadAfter, results }, null, 2) + '\n',
  );
  console.log(`written ${file}`);
  if (results.some((r) => r.errors > 0)) process.exitCode = 1;
}

await main();
