import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, EnvSchema, loadConfig } from './config.js';

const SECRET = 'a-test-secret-that-is-at-least-32-characters';
const tempDir = () => mkdtempSync(join(tmpdir(), 'evently-config-'));

/** A minimal environment: nothing from the real process.env leaks in. */
const env = (values: Record<string, string | undefined> = {}) => ({
  DATA_DIR: tempDir(),
  JWT_SECRET: SECRET,
  ...values,
});

function configErrorOf(source: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(source);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('loadConfig did not throw');
}

describe('loadConfig defaults', () => {
  it('uses the documented defaults when nothing is set', () => {
    const config = loadConfig(env());
    expect(config).toMatchObject({
      env: 'development',
      port: 3000,
      host: '0.0.0.0',
      logLevel: 'info',
      databasePoolSize: 20,
      databasePreparedStatements: true,
      accessTokenTtlSeconds: 900,
      bcryptCost: 12,
      holdTtlSeconds: 300,
      holdAsyncCommit: false,
      corsOrigins: [],
      bodyLimitBytes: 1024 * 1024,
      trustProxy: false,
    });
    expect(config.databaseUrl).toBeUndefined();
    expect(config.redisUrl).toBeUndefined();
    expect(config.admin).toBeUndefined();
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig(env({ PORT: '', LOG_LEVEL: '' }))).toMatchObject({
      port: 3000,
      logLevel: 'info',
    });
  });

  it('reads integers and lists from their text', () => {
    const config = loadConfig(
      env({ PORT: '8080', CORS_ORIGINS: 'https://a.example, https://b.example,' }),
    );
    expect(config.port).toBe(8080);
    expect(config.corsOrigins).toEqual(['https://a.example', 'https://b.example']);
  });
});

describe('loadConfig refusals', () => {
  it.each(['abc', '70000', '-1', '3000.5'])('refuses PORT=%s and names PORT', (port) => {
    const error = configErrorOf(env({ PORT: port }));
    expect(error.name).toBe('ConfigError');
    expect(error.message).toContain('PORT');
  });

  it('refuses a DATABASE_URL that is not postgres:// and names DATABASE_URL', () => {
    const error = configErrorOf(env({ DATABASE_URL: 'mysql://root@localhost/evently' }));
    expect(error.message).toContain('DATABASE_URL');
  });

  it('accepts postgresql:// as a DATABASE_URL scheme', () => {
    const config = loadConfig(env({ DATABASE_URL: 'postgresql://u@db.example:5432/evently' }));
    expect(config.databaseUrl).toBe('postgresql://u@db.example:5432/evently');
  });

  it('refuses a REDIS_URL that is not redis:// and names REDIS_URL', () => {
    expect(configErrorOf(env({ REDIS_URL: 'http://localhost:6379' })).message).toContain(
      'REDIS_URL',
    );
  });

  it('refuses an unknown NODE_ENV and LOG_LEVEL, naming each', () => {
    expect(configErrorOf(env({ NODE_ENV: 'staging' })).message).toContain('NODE_ENV');
    expect(configErrorOf(env({ LOG_LEVEL: 'verbose' })).message).toContain('LOG_LEVEL');
  });

  it('refuses a JWT_SECRET shorter than 32 characters', () => {
    expect(configErrorOf(env({ JWT_SECRET: 'too-short' })).message).toContain('JWT_SECRET');
  });

  it('refuses ADMIN_EMAIL without ADMIN_PASSWORD', () => {
    const error = configErrorOf(env({ ADMIN_EMAIL: 'root@example.test' }));
    expect(error.message).toContain('ADMIN_PASSWORD');
  });

  it('refuses NODE_ENV=production without JWT_SECRET and names JWT_SECRET', () => {
    const dataDir = tempDir();
    const error = configErrorOf({ NODE_ENV: 'production', DATA_DIR: dataDir });
    expect(error.message).toContain('JWT_SECRET');
    // Production never falls back to a generated secret.
    expect(existsSync(join(dataDir, 'jwt-secret'))).toBe(false);
  });

  it('accepts NODE_ENV=production with a JWT_SECRET', () => {
    const config = loadConfig(env({ NODE_ENV: 'production' }));
    expect(config.jwt).toEqual({ algorithm: 'HS256', secret: SECRET });
  });
});

describe('development JWT secret', () => {
  it('generates a secret under DATA_DIR and reuses it on the next load', () => {
    const dataDir = join(tempDir(), 'nested', 'data');
    const first = loadConfig({ DATA_DIR: dataDir });
    expect(first.dataDir).toBe(dataDir);
    expect(first.jwt.algorithm).toBe('HS256');
    const secret = first.jwt.algorithm === 'HS256' ? first.jwt.secret : '';
    expect(secret.length).toBeGreaterThanOrEqual(32);

    const file = join(dataDir, 'jwt-secret');
    expect(readFileSync(file, 'utf8').trim()).toBe(secret);
    expect(statSync(file).mode & 0o077).toBe(0);

    const second = loadConfig({ DATA_DIR: dataDir });
    expect(second.jwt).toEqual({ algorithm: 'HS256', secret });
  });

  it('generates a different secret for a different DATA_DIR', () => {
    const a = loadConfig({ DATA_DIR: tempDir() }).jwt;
    const b = loadConfig({ DATA_DIR: tempDir() }).jwt;
    expect(a).not.toEqual(b);
  });
});

describe('SEED_DEMO', () => {
  it('defaults to true on the embedded database (no DATABASE_URL)', () => {
    expect(loadConfig(env()).seedDemo).toBe(true);
  });

  it('defaults to false with a DATABASE_URL', () => {
    expect(loadConfig(env({ DATABASE_URL: 'postgres://localhost/evently' })).seedDemo).toBe(false);
  });

  it('follows an explicit value either way', () => {
    expect(
      loadConfig(env({ DATABASE_URL: 'postgres://localhost/evently', SEED_DEMO: 'true' })).seedDemo,
    ).toBe(true);
    expect(loadConfig(env({ SEED_DEMO: 'false' })).seedDemo).toBe(false);
    expect(configErrorOf(env({ SEED_DEMO: 'yes' })).message).toContain('SEED_DEMO');
  });
});

describe('RATE_LIMIT_*', () => {
  it('limits by default: 600 per IP and per user, 20 logins and 60 holds a minute', () => {
    expect(loadConfig(env()).rateLimit).toEqual({
      enabled: true,
      windowMs: 60_000,
      ipMax: 600,
      userMax: 600,
      authMax: 20,
      holdMax: 60,
    });
  });

  it('reads each setting, and RATE_LIMIT_ENABLED=false turns limiting off', () => {
    const config = loadConfig(
      env({
        RATE_LIMIT_ENABLED: 'false',
        RATE_LIMIT_WINDOW_MS: '1000',
        RATE_LIMIT_IP_MAX: '5',
        RATE_LIMIT_USER_MAX: '6',
        RATE_LIMIT_AUTH_MAX: '2',
        RATE_LIMIT_HOLD_MAX: '3',
      }),
    );
    expect(config.rateLimit).toEqual({
      enabled: false,
      windowMs: 1000,
      ipMax: 5,
      userMax: 6,
      authMax: 2,
      holdMax: 3,
    });
  });

  it.each([
    ['RATE_LIMIT_ENABLED', 'no'],
    ['RATE_LIMIT_WINDOW_MS', '10'],
    ['RATE_LIMIT_IP_MAX', '0'],
    ['RATE_LIMIT_HOLD_MAX', 'many'],
  ])('refuses %s=%s and names it', (name, value) => {
    expect(configErrorOf(env({ [name]: value })).message).toContain(name);
  });
});

describe('the settings and their documentation', () => {
  const operations = readFileSync(join(__dirname, '../docs/operations.md'), 'utf8');
  const variables = Object.entries(EnvSchema.properties) as Array<[string, { default?: unknown }]>;

  it('docs/operations.md names every variable EnvSchema declares', () => {
    const missing = variables.map(([name]) => name).filter((n) => !operations.includes(`\`${n}\``));
    expect(missing).toEqual([]);
  });

  it("every default in the documentation's tables is the one EnvSchema applies", () => {
    // Rows of the form | `NAME` | `default` | …: the documented default, where it is one value.
    const documented = [...operations.matchAll(/^\| `([A-Z0-9_]+)`\s*\|\s*`([^`]*)`\s*\|/gm)];
    expect(documented.length).toBeGreaterThan(20);
    const declared = new Map(variables);
    for (const [, name, text] of documented) {
      expect(declared.has(name!), `${name} is documented but not declared`).toBe(true);
      expect(String(declared.get(name!)?.default), name).toBe(text);
    }
  });
});
