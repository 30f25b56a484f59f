import type { FastifyInstance } from 'fastify';
import { API_PREFIX, buildApp } from './app.js';
import { createDependencies, openDatabase, type Dependencies } from './composition.js';
import type { ProcessRoles } from './async-composition.js';
import type { Config } from './config.js';
import { migrate } from './infra/postgres/migrator.js';
import { seedDemo } from './seed/demo-seed.js';

export interface RunningServer {
  app: FastifyInstance;
  deps: Dependencies;
  url: string;
  stop(): Promise<void>;
}

/** Opens the database, migrates, bootstraps the admin and demo, and starts serving. */
export async function startServer(
  config: Config,
  roles: ProcessRoles = { api: true, workers: true },
): Promise<RunningServer> {
  const database = await openDatabase(config);
  await migrate(database);
  const deps = await createDependencies(config, database);
  const app = await buildApp(deps, { api: roles.api });
  if (config.admin) {
    const { created } = await deps.services.userAdmin.ensureAdmin(config.admin);
    app.log.info({ email: config.admin.email, created }, 'admin account ensured');
  }
  const demo = config.seedDemo ? await seedDemo(deps) : [];
  await app.listen({ port: config.port, host: config.host });
  // Relays the outbox, runs consumers, sweeps expired holds and resumes unfinished sagas.
  await deps.start(roles);
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://localhost:${port}`;

  printBanner(url, database.mode, demo);
  return {
    app,
    deps,
    url,
    async stop() {
      await app.close();
      await deps.close();
    },
  };
}

function printBanner(
  url: string,
  mode: string,
  demo: Array<{ role: string; email: string; password: string }>,
): void {
  const lines = [
    '',
    `Evently is running (${mode === 'pglite' ? 'embedded PGlite database' : 'PostgreSQL'})`,
    `  Web app:  ${url}/`,
    `  API:      ${url}${API_PREFIX}   (try ${url}${API_PREFIX}/events)`,
    `  API docs: ${url}/docs`,
    `  Health:   ${url}/health/status    Metrics: ${url}/metrics`,
  ];
  if (demo.length > 0) {
    lines.push('  Demo accounts (local demo data only):');
    for (const account of demo) {
      lines.push(`    ${account.role.padEnd(9)} ${account.email}  password: ${account.password}`);
    }
  }
  process.stdout.write(`${lines.join('\n')}\n\n`);
}

/** Stops accepting requests, lets in-flight ones finish, then closes connections. */
export function stopOnSignals(server: RunningServer): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      process.exit(1);
    }
    stopping = true;
    server.app.log.info({ signal }, 'shutting down');
    const forced = setTimeout(() => process.exit(1), 15_000);
    forced.unref();
    server.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        server.app.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
