/**
 * A closed loop: N callers, each calling the hold statement again as soon as its answer is
 * in (no think time), every call a batch of fresh GA requests (1 ticket each) from buyers
 * taken in turn, so no buyer comes near the event's 100-ticket limit. After a warm-up
 * (connections opened, statements prepared), one measured window: statements and requests
 * answered in it, their latencies, and the CPU time this Node process used in it.
 */
import { randomUUID } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DriverSetup, HoldRequest } from './setups.js';

export interface LoopSpec {
  setup: DriverSetup;
  eventId: string;
  userIds: readonly string[];
  callers: number;
  batch: number;
  warmupSeconds: number;
  seconds: number;
}

export interface LoopResult {
  setup: string;
  batch: number;
  callers: number;
  seconds: number;
  statements: number;
  requests: number;
  statementsPerSecond: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** user + system CPU of this process per statement / per request, in microseconds. */
  cpuUsPerStatement: number;
  cpuUsPerRequest: number;
  /** This process's CPU time over the window, as a share of one core. */
  nodeCpuPercent: number;
  /** All cores of the machine (PostgreSQL, this process and whatever else runs). */
  machineBusyPercent: number;
  load1: number;
  /** Answers other than HELD, by outcome. */
  refused: Record<string, number>;
  errors: number;
  firstError: string | null;
}

function cpuTimes() {
  let idle = 0;
  let total = 0;
  for (const cpu of cpus()) {
    const t = cpu.times;
    idle += t.idle;
    total += t.user + t.nice + t.sys + t.idle + t.irq;
  }
  return { idle, total };
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export async function runLoop(spec: LoopSpec): Promise<LoopResult> {
  const { setup, eventId, userIds, batch } = spec;
  if (userIds.length < batch) throw new Error('fewer buyers than a batch');
  let phase: 'warmup' | 'measure' | 'stop' = 'warmup';
  let userCursor = 0;
  let statements = 0;
  let requests = 0;
  let errors = 0;
  let firstError: string | null = null;
  const latencies: number[] = [];
  const refused: Record<string, number> = {};

  const nextBatch = (): HoldRequest[] => {
    const expiresAt = new Date(Date.now() + 600_000).toISOString();
    const list: HoldRequest[] = new Array(batch);
    for (let i = 0; i < batch; i++) {
      const userId = userIds[userCursor++ % userIds.length]!;
      list[i] = {
        holdId: randomUUID(),
        userId,
        quantity: 1,
        expiresAt,
        audit: { actorId: userId, actorRole: 'user', ip: '127.0.0.1', requestId: randomUUID() },
        idempotency: null,
        traceContext: null,
      };
    }
    return list;
  };

  const caller = async () => {
    while (phase !== 'stop') {
      const list = nextBatch();
      const started = performance.now();
      try {
        const answers = await setup.hold(eventId, new Date(), list);
        if (phase !== 'measure') continue;
        latencies.push(performance.now() - started);
        statements += 1;
        requests += list.length;
        for (const answer of answers) {
          if (answer.outcome !== 'HELD')
            refused[answer.outcome] = (refused[answer.outcome] ?? 0) + 1;
        }
      } catch (error) {
        if (phase === 'measure') errors += 1;
        firstError ??= error instanceof Error ? error.message : String(error);
        // A broken setup must not spin: back off a little.
        await sleep(10);
      }
    }
  };

  const running = Array.from({ length: spec.callers }, () => caller());
  await sleep(spec.warmupSeconds * 1000);

  phase = 'measure';
  const cpu0 = process.cpuUsage();
  const machine0 = cpuTimes();
  const t0 = performance.now();
  await sleep(spec.seconds * 1000);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const machine1 = cpuTimes();
  const counted = { statements, requests };
  phase = 'stop';
  await Promise.all(running);

  const sorted = Float64Array.from(latencies.slice(0, counted.statements)).sort();
  const cpuUs = cpu.user + cpu.system;
  const idle = machine1.idle - machine0.idle;
  const total = machine1.total - machine0.total;
  return {
    setup: setup.name,
    batch,
    callers: spec.callers,
    seconds,
    statements: counted.statements,
    requests: counted.requests,
    statementsPerSecond: counted.statements / seconds,
    requestsPerSecond: counted.requests / seconds,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    cpuUsPerStatement: cpuUs / counted.statements,
    cpuUsPerRequest: cpuUs / counted.requests,
    nodeCpuPercent: (cpuUs / 1e6 / seconds) * 100,
    machineBusyPercent: total > 0 ? (1 - idle / total) * 100 : NaN,
    load1: loadavg()[0]!,
    refused,
    errors,
    firstError,
  };
}
