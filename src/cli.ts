import cluster from 'node:cluster';
import { parseArgs } from 'node:util';
import type { Dependencies } from './composition.js';
import { ConfigError, hasSharedRedis, loadConfig, type Config } from './config.js';
import { startTelemetry } from './platform/telemetry.js';

const USAGE = `Usage: evently <command>

Commands:
  serve          migrate, then serve the API and run the workers (default)
                 [--instances N]: N processes sharing the port (node cluster)
  api            the HTTP API and WebSocket only (scale separately from workers)
  worker         outbox relay, consumers, sweepers and saga recovery only
  migrate        apply pending database migrations and exit
  seed-demo      create the demo accounts, venue and events (idempotent)
  create-admin   --email <email> [--name <name>]; the password comes from ADMIN_PASSWORD
                 or, when that is unset, from standard input
  payments-sim   [--port 4010] [--host 127.0.0.1] [--latency-ms 0] [--failure-rate 0]
                 [--slow-ms 10000]: a payment provider simulator for PAYMENTS_URL

Configuration comes from environment variables; see README.md.`;

/**
 * The application, imported only once tracing has started: the instrumentations patch pg,
 * ioredis, amqplib and fastify as they are loaded and cannot patch what is already loaded.
 */
async function loadApplication() {
  const [composition, migrator, server, payments, demo] = await Promise.all([
    import('./composition.js'),
    import('./infra/postgres/migrator.js'),
    import('./main.js'),
    import('./modules/payments/payment-simulator.js'),
    import('./seed/demo-seed.js'),
  ]);
  return { ...composition, ...migrator, ...server, ...payments, ...demo };
}

type Application = Awaited<ReturnType<typeof loadApplication>>;

async function withDependencies<T>(
  app: Application,
  config: Config,
  work: (deps: Dependencies) => Promise<T>,
): Promise<T> {
  const database = await app.openDatabase(config);
  try {
    await app.migrate(database);
    const deps = await app.createDependencies(config, database);
    try {
      return await work(deps);
    } finally {
      await deps.close();
    }
  } catch (error) {
    await database.close().catch(() => undefined);
    throw error;
  }
}

async function migrateOnce(app: Application, config: Config): Promise<void> {
  const database = await app.openDatabase(config);
  try {
    await app.migrate(database);
  } finally {
    await database.close();
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').trim();
}

async function main(argv: string[]): Promise<void> {
  const [command = 'serve', ...rest] = argv;
  // create-admin takes ADMIN_PASSWORD on its own; for the other commands the pair goes together.
  const config =
    command === 'create-admin'
      ? loadConfig({ ...process.env, ADMIN_EMAIL: undefined, ADMIN_PASSWORD: undefined })
      : loadConfig();
  const telemetry = await startTelemetry(config.telemetry);
  const app = await loadApplication();
  switch (command) {
    case 'serve':
    case 'api':
    case 'worker': {
      const roles = { api: command !== 'worker', workers: command !== 'api' };
      const { values } = parseArgs({ args: rest, options: { instances: { type: 'string' } } });
      const instances = values.instances === undefined ? 1 : Number(values.instances);
      if (!Number.isInteger(instances) || instances < 1 || instances > 64) {
        throw new ConfigError('--instances must be a whole number from 1 to 64');
      }
      if (instances > 1 && (!config.databaseUrl || !hasSharedRedis(config))) {
        throw new ConfigError(
          '--instances needs DATABASE_URL and REDIS_URL (or REDIS_CLUSTER_NODES): processes cannot share an embedded database',
        );
      }
      if (instances > 1 && cluster.isPrimary) {
        // One process per core: they share the port (node cluster) and coordinate every
        // background job through PostgreSQL, so nothing runs twice.
        await migrateOnce(app, config);
        for (let i = 0; i < instances; i++) cluster.fork();
        cluster.on('exit', (worker, code) => {
          if (code !== 0) console.error(`instance ${worker.process.pid} exited with ${code}`);
        });
        const stop = () => {
          for (const worker of Object.values(cluster.workers ?? {})) worker?.kill('SIGTERM');
        };
        process.on('SIGTERM', stop);
        process.on('SIGINT', stop);
        return;
      }
      const server = await app.startServer(config, roles);
      // Spans still buffered are exported before the process exits.
      const stop = () => server.stop().finally(() => telemetry.shutdown());
      app.stopOnSignals({ ...server, stop });
      return;
    }
    case 'migrate': {
      const database = await app.openDatabase(config);
      try {
        const result = await app.migrate(database);
        console.log(
          result.applied.length > 0
            ? `Applied: ${result.applied.join(', ')}`
            : `Up to date (${result.alreadyApplied.length} migrations applied before)`,
        );
      } finally {
        await database.close();
      }
      return;
    }
    case 'seed-demo': {
      await withDependencies(app, config, async (deps) => {
        const accounts = await app.seedDemo(deps);
        for (const a of accounts)
          console.log(`${a.role.padEnd(9)} ${a.email}  password: ${a.password}`);
      });
      return;
    }
    case 'create-admin': {
      const { values } = parseArgs({
        args: rest,
        options: { email: { type: 'string' }, name: { type: 'string' } },
      });
      const email = values.email ?? process.env.ADMIN_EMAIL;
      if (!email) throw new ConfigError('create-admin needs --email (or ADMIN_EMAIL)');
      const password = process.env.ADMIN_PASSWORD || (await readStdin());
      if (password.length < 10)
        throw new ConfigError('The admin password needs at least 10 characters');
      await withDependencies(app, config, async (deps) => {
        const { created } = await deps.services.userAdmin.ensureAdmin({
          email,
          password,
          name: values.name,
        });
        console.log(created ? `Created admin ${email}` : `${email} is now an admin`);
      });
      return;
    }
    case 'payments-sim': {
      const { values } = parseArgs({
        args: rest,
        options: {
          port: { type: 'string', default: '4010' },
          host: { type: 'string', default: '127.0.0.1' },
          'latency-ms': { type: 'string', default: '0' },
          'failure-rate': { type: 'string', default: '0' },
          'slow-ms': { type: 'string', default: '10000' },
        },
      });
      const number = (name: string, text: string, max: number) => {
        const value = Number(text);
        if (!Number.isFinite(value) || value < 0 || value > max) {
          throw new ConfigError(`--${name} must be a number between 0 and ${max}`);
        }
        return value;
      };
      const simulator = app.buildPaymentSimulator({
        latencyMs: number('latency-ms', values['latency-ms'], 600_000),
        failureRate: number('failure-rate', values['failure-rate'], 1),
        slowMs: number('slow-ms', values['slow-ms'], 600_000),
      });
      const address = await simulator.app.listen({
        port: number('port', values.port, 65535),
        host: values.host,
      });
      console.log(`Payment simulator listening on ${address} (ledger at ${address}/ledger)`);
      const stop = () => void simulator.app.close().then(() => process.exit(0));
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
      return;
    }
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return;
    default:
      console.error(`Unknown command: ${command}\n\n${USAGE}`);
      process.exitCode = 2;
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(2);
  }
  console.error(error);
  process.exit(1);
});
