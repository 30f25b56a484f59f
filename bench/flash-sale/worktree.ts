/**
 * Another commit of Evently, runnable next to this tree, for `--compare`: a detached git
 * worktree in /tmp/evently-compare-<sha> with its own `npm ci`. The main working tree is never
 * touched (no checkout, no stash), so the comparison can run while someone edits it. An
 * installed worktree of the same commit is reused (an `npm ci` costs a minute on this
 * machine); `--keep` leaves it for the next run.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './processes.js';

const run = promisify(execFile);
const git = (...args: string[]) =>
  execFileSync('git', args, {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();

/** Written into node_modules once `npm ci` succeeded: a half-installed worktree is redone. */
const INSTALLED = '.evently-bench-installed';

export interface Worktree {
  ref: string;
  sha: string;
  dir: string;
  /** Whether an installed worktree was found and reused. */
  reused: boolean;
  remove(): void;
}

export async function prepareWorktree(ref: string, log: (line: string) => void): Promise<Worktree> {
  let sha: string;
  try {
    sha = git('rev-parse', '--verify', `${ref}^{commit}`);
  } catch {
    throw new Error(`--compare ${ref}: not a commit in ${ROOT}`);
  }
  const dir = `/tmp/evently-compare-${sha.slice(0, 12)}`;
  git('worktree', 'prune'); // forget worktrees whose directory was deleted by hand
  const registered = git('worktree', 'list', '--porcelain')
    .split('\n')
    .some((line) => line === `worktree ${dir}`);
  if (!registered) {
    if (existsSync(dir)) {
      throw new Error(`${dir} exists but is not a git worktree of ${ROOT}; remove it first`);
    }
    log(`git worktree add --detach ${dir} ${sha.slice(0, 12)}`);
    git('worktree', 'add', '--detach', dir, sha);
  } else if (git('-C', dir, 'rev-parse', 'HEAD') !== sha) {
    throw new Error(`${dir} is not at ${sha}; remove it (git worktree remove --force ${dir})`);
  }
  const marker = join(dir, 'node_modules', INSTALLED);
  const reused = registered && existsSync(marker);
  if (reused) {
    log(`reusing the installed worktree ${dir}`);
  } else {
    log(`npm ci in ${dir} ...`);
    const started = performance.now();
    try {
      await run('npm', ['ci', '--no-audit', '--no-fund'], {
        cwd: dir,
        maxBuffer: 64 * 1024 * 1024,
      });
    } catch (error) {
      const { stdout, stderr } = error as { stdout?: string; stderr?: string };
      throw new Error(`npm ci failed in ${dir}:\n${stdout ?? ''}${stderr ?? String(error)}`);
    }
    writeFileSync(marker, `${new Date().toISOString()}\n`);
    log(`npm ci done in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  }
  return {
    ref,
    sha,
    dir,
    reused,
    remove() {
      git('worktree', 'remove', '--force', dir);
    },
  };
}

/** This tree's commit and whether the build differs from it (uncommitted changes). */
export function currentTree(): { sha: string; dirty: boolean } {
  const sha = git('rev-parse', 'HEAD');
  // What the server runs: its code, migrations, dependencies and start script.
  const changes = git('status', '--porcelain', '--', 'src', 'migrations', 'bin', 'package.json');
  return { sha, dirty: changes.length > 0 };
}
