/**
 * `--compare <ref>`: the same scenarios on two builds, A (the ref, in a git worktree) and B
 * (this working tree, uncommitted changes included), interleaved A B A B so a drift of the
 * shared machine (other work, PostgreSQL's state) falls on both builds alike. Every build
 * run is a fresh session: its own database, migrated by that build's own `create-admin` (the
 * two builds may have different migrations), its own server; the payment simulator, the load
 * generator and the invariant checks are this tree's. Prints a table per scenario and the
 * ratios B/A of the means; exit code 1 when any invariant failed in either build.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchOptions } from './options.js';
import { loadAverage, machine, ROOT } from './processes.js';
import { table } from './report.js';
import { bookP99, holdP99, loadLabel, runScenario, type ScenarioResult } from './scenario-run.js';
import { openSession, startSimulator } from './session.js';
import { currentTree, prepareWorktree } from './worktree.js';

interface Build {
  name: 'A' | 'B';
  label: string;
  root: string;
}

interface CompareRun {
  build: 'A' | 'B';
  round: number;
  scenario: string;
  /** B only: the working tree's commit and fingerprint when its run started. */
  tree?: { sha: string; dirty: boolean; fingerprint: string };
  result: ScenarioResult;
}

/** The figures compared, each read from one scenario result (undefined: not measured). */
const METRICS: Array<[string, (r: ScenarioResult) => number | undefined]> = [
  ['bookings/s', (r) => r.confirmedBookingsPerSecond],
  ['hold p99 ms', holdP99],
  ['booking p99 ms', bookP99],
  ['all answers p99 ms', (r) => r.allAnswers.p99],
  ['iteration p99 ms (open model)', (r) => r.open?.iteration?.p99],
  ['503 OVERLOADED', (r) => r.overloaded],
];

const mean = (values: number[]) =>
  values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0) / values.length;
const round1 = (x: number) => Math.round(x * 10) / 10;
const invariantsOk = (r: ScenarioResult) => (r.invariants?.violations.length ?? 1) === 0;

export async function runCompare(
  options: BenchOptions,
  log: (line?: string) => void,
): Promise<number> {
  const info = machine();
  const worktree = await prepareWorktree(options.compare!, log);
  const here = currentTree();
  const builds: Build[] = [
    { name: 'A', label: `${worktree.ref} (${worktree.sha.slice(0, 8)})`, root: worktree.dir },
    {
      name: 'B',
      label: `working tree (HEAD ${here.sha.slice(0, 8)}${here.dirty ? ' + uncommitted changes' : ''})`,
      root: ROOT,
    },
  ];
  log(
    `compare: A = ${builds[0]!.label}, B = ${builds[1]!.label}; ${options.rounds} round(s) A B; ` +
      `scenarios ${options.scenarios.join(', ')}; ${loadLabel(options.load)}, ` +
      `${options.durationMs / 1000} s each, ${options.users} users, pool ${options.pool}`,
  );
  log(
    `machine: ${info.cpus} x ${info.cpuModel}, ${info.memoryMb} MB, load ${info.loadAverageAtStart.join(' ')}`,
  );

  const serverLog = join(options.resultsDir, `${options.stamp}-compare-${options.mode}-server.log`);
  const runs: CompareRun[] = [];
  const sim = await startSimulator();
  try {
    for (let round = 1; round <= options.rounds; round++) {
      for (const build of builds) {
        log(`\n######## round ${round}, build ${build.name}: ${build.label} ########`);
        const tree = build.name === 'B' ? currentTree() : undefined;
        if (tree)
          log(`working tree: HEAD ${tree.sha.slice(0, 8)}, fingerprint ${tree.fingerprint}`);
        const session = await openSession({
          root: build.root,
          embedded: options.embedded,
          instances: options.instances,
          pool: options.pool,
          users: options.users,
          sockets: options.sockets,
          simBase: sim.base,
          profileDir: null,
          keep: options.keep,
          serverLog,
          label: `round ${round}, build ${build.name}: ${build.label}`,
          log,
        });
        try {
          for (const scenario of options.scenarios) {
            const results = await runScenario(session, scenario, { ...options, log });
            // A scenario of several phases (browse) is compared by its last phase's figures.
            const result = results[results.length - 1]!;
            runs.push({ build: build.name, round, scenario, tree, result });
          }
        } finally {
          await session.close();
        }
      }
    }
  } finally {
    await sim.stop();
    if (!options.keep) {
      try {
        worktree.remove();
        log(`\nworktree ${worktree.dir} removed`);
      } catch (error) {
        log(`could not remove the worktree ${worktree.dir}: ${String(error)}`);
      }
    } else {
      log(`\nworktree kept: ${worktree.dir}`);
    }
  }

  // ---- The report ----
  log('\n== compare ==');
  log(`A = ${builds[0]!.label}; B = ${builds[1]!.label}`);
  const ratios: Array<{
    scenario: string;
    metric: string;
    a: number;
    b: number;
    ratio: number | null;
  }> = [];
  for (const scenario of options.scenarios) {
    const mine = runs.filter((r) => r.scenario === scenario);
    log(`\n${scenario}:`);
    log(
      table(
        [
          'build',
          'round',
          's',
          'bookings/s',
          'hold p99',
          'booking p99',
          'all p99',
          '503 OVERLOADED',
          'errors',
          'machine busy',
          'load avg',
          'invariants',
        ],
        mine.map(({ build, round, result: r }) => [
          build,
          round,
          `${r.seconds}${r.soldOut ? ' (sold out)' : ''}`,
          r.confirmedBookingsPerSecond,
          holdP99(r) ?? '',
          bookP99(r) ?? '',
          r.allAnswers.p99,
          r.overloaded,
          r.errors,
          `${Math.round(r.resources.machineBusy * 100)}%`,
          r.resources.loadAverage.join(' '),
          invariantsOk(r) ? 'ok' : 'FAILED',
        ]),
      ),
    );
    for (const [metric, read] of METRICS) {
      const of = (build: 'A' | 'B') =>
        mine
          .filter((r) => r.build === build)
          .map((r) => read(r.result))
          .filter((x): x is number => x !== undefined);
      if (of('A').length === 0 || of('B').length === 0) continue; // not measured (closed loop)
      const a = mean(of('A'));
      const b = mean(of('B'));
      ratios.push({
        scenario,
        metric,
        a: round1(a),
        b: round1(b),
        ratio: a > 0 && Number.isFinite(b) ? Math.round((b / a) * 1000) / 1000 : null,
      });
    }
  }
  log('\nB / A (means over the rounds; bookings/s: above 1 is faster; p99s: below 1 is faster):');
  log(
    table(
      ['scenario', 'figure', 'A mean', 'B mean', 'B / A'],
      ratios.map((r) => [r.scenario, r.metric, r.a, r.b, r.ratio ?? 'n/a']),
    ),
  );

  const fingerprints = new Set(runs.flatMap((r) => (r.tree ? [r.tree.fingerprint] : [])));
  if (fingerprints.size > 1) {
    log(
      `\nWARNING: the working tree (B) changed during the comparison (${[...fingerprints].join(', ')}): ` +
        'its rounds did not all run the same code',
    );
  }
  const failures = runs.filter((r) => !invariantsOk(r.result));
  mkdirSync(options.resultsDir, { recursive: true });
  const file = join(options.resultsDir, `${options.stamp}-compare-${options.mode}.json`);
  const report = {
    at: options.startedAt.toISOString(),
    kind: 'compare',
    mode: options.mode,
    builds: builds.map((b) => ({
      ...b,
      sha: b.name === 'A' ? worktree.sha : here.sha,
      dirty: b.name === 'B' && here.dirty,
    })),
    rounds: options.rounds,
    load: options.load,
    durationSeconds: options.durationMs / 1000,
    users: options.users,
    poolSize: options.pool,
    instances: options.instances,
    idempotencyKeys: options.idempotencyKeys,
    machine: { ...info, loadAverageAtEnd: loadAverage() },
    runs,
    ratios,
    workingTreeChanged: fingerprints.size > 1,
    invariantFailures: failures.map((f) => ({
      build: f.build,
      round: f.round,
      scenario: f.scenario,
    })),
  };
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  log(`\nwritten to ${file} (servers' output: ${serverLog})`);
  if (failures.length > 0) {
    log(
      `invariants FAILED in ${failures.map((f) => `${f.build} round ${f.round} ${f.scenario}`).join(', ')}`,
    );
  }
  return failures.length > 0 ? 1 : 0;
}
