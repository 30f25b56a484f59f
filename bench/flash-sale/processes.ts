/**
 * Child processes of a benchmark run (Evently, the payment simulator, the bare Fastify
 * ceiling) and a sampler of their CPU and memory from /proc.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { ROOT, sleep } from '../../test/support/child-process.js';

// The same root, CLI path, sleep and free-port finder as the end-to-end tests.
export { CLI, freePort, ROOT, sleep } from '../../test/support/child-process.js';

export interface Child {
  name: string;
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

const running = new Set<Child>();

/**
 * `node [nodeArgs] <script> [args]` in `cwd` (a build's root: this tree, or a worktree of
 * another commit with --compare), with its output kept (the tail) for error messages.
 */
export function startNode(
  name: string,
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  nodeArgs: string[] = [],
  cwd = ROOT,
): Child {
  const child = spawn(process.execPath, [...nodeArgs, script, ...args], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  const keep = (chunk: Buffer) => {
    text += chunk.toString('utf8');
    if (text.length > 200_000) text = text.slice(-100_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const handle: Child = { name, child, output: () => text, exited };
  running.add(handle);
  void exited.then(() => running.delete(handle));
  return handle;
}

export async function waitForOutput(proc: Child, pattern: RegExp, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void proc.exited.then(() => (exited = true));
  while (!pattern.test(proc.output())) {
    if (exited) throw new Error(`${proc.name} exited before ${pattern}:\n${proc.output()}`);
    if (Date.now() > deadline) throw new Error(`${proc.name}: no ${pattern} in time`);
    await sleep(50);
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
export async function stop(proc: Child, graceMs = 20_000): Promise<number | null> {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return proc.child.exitCode;
  proc.child.kill('SIGTERM');
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), graceMs);
  const code = await proc.exited;
  clearTimeout(timer);
  return code;
}

/** Kills whatever this run started and is still alive (on errors and Ctrl-C). */
export function killAll(): void {
  for (const proc of running) {
    for (const pid of descendants(proc.child.pid ?? -1)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    proc.child.kill('SIGKILL');
  }
}

// ---- The machine, CPU and memory from /proc ----

export const loadAverage = () =>
  readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);

/** What the figures were measured on, for the report. */
export function machine() {
  const cpuModel = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1];
  let postgres: string | undefined;
  try {
    postgres = execFileSync('psql', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    postgres = undefined;
  }
  return {
    cpus: cpus().length,
    cpuModel,
    memoryMb: Math.round(totalmem() / 1024 / 1024),
    node: process.version,
    postgresClient: postgres,
    loadAverageAtStart: loadAverage(),
  };
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

function readStat(pid: number): { ppid: number; ticks: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces; fields after ')' are fixed.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return null;
  }
}

function rssKb(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/** The pid and every process below it (node cluster workers). */
export function descendants(root: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const stat = readStat(pid);
    if (!stat) continue;
    const list = parents.get(stat.ppid) ?? [];
    list.push(pid);
    parents.set(stat.ppid, list);
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    if (readStat(pid) === null) continue;
    out.push(pid);
    queue.push(...(parents.get(pid) ?? []));
  }
  return out;
}

function machineTicks(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  const total = values.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

export interface ResourceSummary {
  /** Average CPU of the server process tree, in cores (1.0 = one core busy). */
  serverCpuCores: number;
  serverCpuPeakCores: number;
  serverRssMbMax: number;
  serverProcesses: number;
  /** The load generator's own CPU, in cores. */
  loadGeneratorCpuCores: number;
  /** The whole machine's busy share (every process, other users included), 0..1. */
  machineBusy: number;
  loadAverage: number[];
}

/** Samples the server tree every `intervalMs` until stopped. */
export function sampleResources(rootPid: () => number, intervalMs = 500) {
  const startedAt = performance.now();
  const cpuStart = process.cpuUsage();
  const machineStart = machineTicks();
  let lastTicks = new Map<number, number>();
  let lastAt = performance.now();
  let totalTicks = 0;
  let peak = 0;
  let rssMax = 0;
  let processes = 0;
  const tick = () => {
    const pids = descendants(rootPid());
    processes = Math.max(processes, pids.length);
    const now = performance.now();
    const ticks = new Map<number, number>();
    let delta = 0;
    let rss = 0;
    for (const pid of pids) {
      const stat = readStat(pid);
      if (!stat) continue;
      ticks.set(pid, stat.ticks);
      const before = lastTicks.get(pid);
      if (before !== undefined) delta += stat.ticks - before;
      rss += rssKb(pid);
    }
    const seconds = (now - lastAt) / 1000;
    if (lastTicks.size > 0 && seconds > 0) {
      totalTicks += delta;
      peak = Math.max(peak, delta / TICKS_PER_SECOND / seconds);
    }
    rssMax = Math.max(rssMax, rss);
    lastTicks = ticks;
    lastAt = now;
  };
  tick();
  const firstSample = performance.now();
  const timer = setInterval(tick, intervalMs);
  return {
    stop(): ResourceSummary {
      clearInterval(timer);
      tick();
      const seconds = Math.max(0.001, (performance.now() - firstSample) / 1000);
      const cpu = process.cpuUsage(cpuStart);
      const machineEnd = machineTicks();
      const round = (x: number) => Math.round(x * 100) / 100;
      return {
        serverCpuCores: round(totalTicks / TICKS_PER_SECOND / seconds),
        serverCpuPeakCores: round(peak),
        serverRssMbMax: Math.round(rssMax / 1024),
        serverProcesses: processes,
        loadGeneratorCpuCores: round(
          (cpu.user + cpu.system) / 1e6 / ((performance.now() - startedAt) / 1000),
        ),
        machineBusy: round(
          (machineEnd.busy - machineStart.busy) /
            Math.max(1, machineEnd.total - machineStart.total),
        ),
        loadAverage: loadAverage(),
      };
    },
  };
}
