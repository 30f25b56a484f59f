/**
 * `--ramp`: the open model at rising rates, to find the knee — the highest arrival rate the
 * server answers within the latency targets (hold p99 ≤ 100 ms, booking p99 ≤ 250 ms, from
 * the scheduled starts). A closed loop cannot find it: it never offers more than the server
 * takes. Each step runs on fresh events (runScenario creates them) for `--duration` seconds,
 * and the ramp stops at the first step over a target, with errors, or with skipped starts
 * (the server fell so far behind that the in-flight bound was hit).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchOptions } from './options.js';
import { loadAverage, machine, ROOT } from './processes.js';
import { table } from './report.js';
import {
  bookP99,
  holdP99,
  runScenario,
  type ScenarioOptions,
  type ScenarioResult,
} from './scenario-run.js';
import type { ScenarioName } from './scenarios.js';
import { openSession, startSimulator, type Session } from './session.js';

export const HOLD_P99_TARGET_MS = 100;
export const BOOK_P99_TARGET_MS = 250;
/** Errors (network, 5xx other than OVERLOADED) tolerated per answer before a step fails. */
const ERROR_SHARE = 0.001;
const GROWTH = 1.5;
const MAX_STEPS = 20;

export interface RampStep {
  rate: number;
  result: ScenarioResult;
  /** Why the step is past the knee, or null when it is within every target. */
  over: string | null;
}

export interface Ramp {
  scenario: ScenarioName;
  steps: RampStep[];
  /** The highest rate within every target, or null when even the first step was not. */
  knee: number | null;
}

export function overTargets(result: ScenarioResult): string | null {
  const reasons: string[] = [];
  const hold = holdP99(result) ?? 0;
  const book = bookP99(result) ?? 0;
  if (hold > HOLD_P99_TARGET_MS) reasons.push(`hold p99 ${hold} > ${HOLD_P99_TARGET_MS} ms`);
  if (book > BOOK_P99_TARGET_MS) reasons.push(`booking p99 ${book} > ${BOOK_P99_TARGET_MS} ms`);
  const answers = result.allAnswers.requests;
  if (result.errors > ERROR_SHARE * answers) reasons.push(`${result.errors} errors`);
  if ((result.open?.skipped ?? 0) > 0) reasons.push(`${result.open!.skipped} starts skipped`);
  if ((result.invariants?.violations.length ?? 0) > 0) reasons.push('invariants FAILED');
  return reasons.length > 0 ? reasons.join(', ') : null;
}

export async function runRamp(
  session: Session,
  scenario: ScenarioName,
  options: Omit<ScenarioOptions, 'load'> & { startRate: number; maxInFlight: number },
): Promise<Ramp> {
  const steps: RampStep[] = [];
  let rate = options.startRate;
  for (let step = 1; step <= MAX_STEPS; step++) {
    options.log(`\n-- ramp ${scenario}, step ${step}: ${rate}/s --`);
    const [result] = await runScenario(session, scenario, {
      ...options,
      load: { kind: 'open', rate, maxInFlight: options.maxInFlight },
    });
    const over = overTargets(result!);
    steps.push({ rate, result: result!, over });
    if (over) break;
    rate = Math.round(rate * GROWTH);
  }
  // Steps rise and the ramp stops at the first one over, so the knee is the last within.
  const within = steps.filter((s) => s.over === null);
  return { scenario, steps, knee: within.length > 0 ? within[within.length - 1]!.rate : null };
}

export function rampTable(ramp: Ramp): string {
  return table(
    [
      'rate/s',
      'started',
      'skipped',
      'bookings/s',
      'hold p99',
      'booking p99',
      'iteration p99',
      'all p99',
      'OVERLOADED',
      'errors',
      'machine busy',
      'load avg',
      'invariants',
      'verdict',
    ],
    ramp.steps.map(({ rate, result: r, over }) => [
      rate,
      r.open?.started ?? '',
      r.open?.skipped ?? '',
      r.confirmedBookingsPerSecond,
      holdP99(r) ?? '',
      bookP99(r) ?? '',
      r.open?.iteration?.p99 ?? '',
      r.allAnswers.p99,
      r.overloaded,
      r.errors,
      `${Math.round(r.resources.machineBusy * 100)}%`,
      r.resources.loadAverage.join(' '),
      r.invariants ? (r.invariants.violations.length === 0 ? 'ok' : 'FAILED') : '',
      over ?? 'within targets',
    ]),
  );
}

/** `--ramp` as a whole: one session on this tree, a ramp per scenario, the tables, the JSON. */
export async function runRampMode(
  options: BenchOptions,
  log: (line?: string) => void,
): Promise<number> {
  const info = machine();
  log(
    `flash-sale ramp: ${options.mode}, ${options.instances} instance(s), from ${options.ramp!.startRate}/s ` +
      `x${GROWTH} per step, ${options.durationMs / 1000} s per step, ${options.users} users, ` +
      `at most ${Math.min(options.users, options.maxInFlight)} in flight, ` +
      `pool ${options.pool}; scenarios ${options.scenarios.join(', ')}`,
  );
  log(
    `machine: ${info.cpus} x ${info.cpuModel}, ${info.memoryMb} MB, load ${info.loadAverageAtStart.join(' ')}`,
  );
  const serverLog = join(options.resultsDir, `${options.stamp}-ramp-${options.mode}-server.log`);
  const sim = await startSimulator();
  const ramps: Ramp[] = [];
  try {
    const session = await openSession({
      root: ROOT,
      embedded: options.embedded,
      instances: options.instances,
      pool: options.pool,
      users: options.users,
      sockets: options.sockets,
      simBase: sim.base,
      profileDir: null,
      keep: options.keep,
      serverLog,
      label: 'ramp',
      log,
    });
    try {
      for (const scenario of options.scenarios) {
        ramps.push(
          await runRamp(session, scenario, {
            ...options,
            log,
            startRate: options.ramp!.startRate,
            maxInFlight: options.maxInFlight,
          }),
        );
      }
    } finally {
      await session.close();
    }
  } finally {
    await sim.stop();
  }

  log('\n== ramp ==');
  for (const ramp of ramps) {
    log(`\n${ramp.scenario}:`);
    log(rampTable(ramp));
    log(
      ramp.knee === null
        ? `knee: below ${ramp.steps[0]?.rate}/s (the first step already missed a target)`
        : `knee: ${ramp.knee}/s — the highest rate with hold p99 <= ${HOLD_P99_TARGET_MS} ms and ` +
            `booking p99 <= ${BOOK_P99_TARGET_MS} ms` +
            (ramp.steps[ramp.steps.length - 1]!.over === null
              ? ' (the ramp ran out of steps)'
              : ''),
    );
  }
  const failures = ramps.flatMap((r) =>
    r.steps.filter((s) => (s.result.invariants?.violations.length ?? 1) > 0),
  );
  mkdirSync(options.resultsDir, { recursive: true });
  const file = join(options.resultsDir, `${options.stamp}-ramp-${options.mode}.json`);
  const report = {
    at: options.startedAt.toISOString(),
    kind: 'ramp',
    mode: options.mode,
    instances: options.instances,
    durationSeconds: options.durationMs / 1000,
    users: options.users,
    poolSize: options.pool,
    targets: { holdP99Ms: HOLD_P99_TARGET_MS, bookingP99Ms: BOOK_P99_TARGET_MS },
    machine: { ...info, loadAverageAtEnd: loadAverage() },
    ramps,
    invariantFailures: failures.length,
  };
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  log(`\nwritten to ${file} (server output: ${serverLog})`);
  return failures.length > 0 ? 1 : 0;
}
