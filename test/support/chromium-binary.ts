import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { brotliDecompressSync } from 'node:zlib';

// Which Chromium the browser tests drive. In order: CHROMIUM_PATH; Debian's package
// (/usr/bin/chromium, what CI installs); else the Chromium that ships *inside* the npm package
// @sparticuz/chromium (a devDependency), so `npm install && npm test` needs nothing more on a
// fresh machine. Test tools that download their browser at install time (Playwright's and
// Puppeteer's) cannot work here: the only network is the npm registry.
//
// We unpack that package ourselves rather than calling its executablePath(): it inflates into
// a fixed /tmp path with an exists-check and no lock, which parallel test files race on, and
// it only provides its libraries (NSS, expat) and fonts when it detects AWS Lambda.

const DEBIAN_CHROMIUM = '/usr/bin/chromium';

export interface ChromiumBinary {
  executablePath: string;
  /** Extra environment for the browser process (the bundled libraries and fonts). */
  env?: Record<string, string>;
  source: 'CHROMIUM_PATH' | 'debian' | 'npm';
}

export function chromiumBinary(): ChromiumBinary {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`CHROMIUM_PATH=${fromEnv} does not exist.`);
    return { executablePath: fromEnv, source: 'CHROMIUM_PATH' };
  }
  if (existsSync(DEBIAN_CHROMIUM)) return { executablePath: DEBIAN_CHROMIUM, source: 'debian' };
  return unpackNpmChromium();
}

function unpackNpmChromium(): ChromiumBinary {
  const require = createRequire(import.meta.url);
  let packageJson: string;
  try {
    // The package exports only its entry (build/cjs/index.cjs): its root is three levels up.
    packageJson = join(require.resolve('@sparticuz/chromium'), '..', '..', '..', 'package.json');
  } catch {
    throw new Error(
      `No Chromium: run \`npm install\` (devDependency @sparticuz/chromium), or \`apt-get install -y chromium\`, or set CHROMIUM_PATH.`,
    );
  }
  const { version } = JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string };
  const packed = join(dirname(packageJson), 'bin');
  const home = join(process.cwd(), 'node_modules', '.cache', `evently-chromium-${version}`);
  if (!existsSync(join(home, 'chromium'))) {
    // Unpacked beside, then renamed into place: a parallel test file sees all or nothing.
    const staging = `${home}.${process.pid}.tmp`;
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
    writeFileSync(join(staging, 'chromium'), inflate(packed, 'chromium.br'), { mode: 0o755 });
    untar(inflate(packed, 'al2023.tar.br'), staging); // lib/: NSS, NSPR, expat
    untar(inflate(packed, 'fonts.tar.br'), staging); // fonts/ (its fonts.conf names Lambda's paths)
    writeFileSync(join(staging, 'fonts.conf'), fontConfig(home));
    try {
      renameSync(staging, home);
    } catch {
      rmSync(staging, { recursive: true, force: true }); // another file won the race
    }
  }
  return {
    executablePath: join(home, 'chromium'),
    env: {
      LD_LIBRARY_PATH: [join(home, 'lib'), process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
      FONTCONFIG_PATH: home,
    },
    source: 'npm',
  };
}

function fontConfig(home: string): string {
  return `<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig>
  <dir>/usr/share/fonts</dir>
  <dir>${home}/fonts</dir>
  <cachedir>${home}/fonts-cache</cachedir>
</fontconfig>
`;
}

function inflate(dir: string, file: string): Buffer {
  return brotliDecompressSync(readFileSync(join(dir, file)));
}

function untar(archive: Buffer, into: string): void {
  execFileSync('tar', ['-x', '-C', into], { input: archive });
}
