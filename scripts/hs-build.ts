import fs from 'node:fs';
import path from 'node:path';
import { HsProjectSchema, isPublicHttpsUrl } from '../src/hubspot/project-schema';
import { EXTENSIONS_PACKAGE, SERVICE_URL_MODULE } from './hs-check';

// `npm run hs:build -- --base-url https://ar.example.com [--out build/hubspot] [--local-proxy http://localhost:3000]`
// writes an upload tree for `hs project upload`: hsproject.json and srcDir with the service's base URL in place of the
// placeholder origin (app permittedUrls.fetch and redirectUrls, the webhook targetUrl, the cards' service-url.ts), and
// the extensions package copied inside each feature folder that depends on it. HubSpot's build runs `npm install` in
// the feature folder; npm installs the dependencies of a `file:` package only when it lies inside that folder, and
// the bundler resolves its imports (react, zod, @hubspot/ui-extensions) from its real path, so the copy sits there.

/** The origin app-config/ holds until a build puts the real one in. */
export const PLACEHOLDER_ORIGIN = 'https://arbridge.example.com';
/** Where, inside a feature folder, the build puts the extensions package. */
export const VENDORED_EXTENSIONS_DIR = 'vendor/arbridge-extensions';

export type BuildOptions = {
  projectDir: string;
  outDir: string;
  baseUrl: string;
  /** A local origin for `hs project dev` (written to app/local.json as the proxy of the base URL's origin). */
  localProxy?: string;
};

/** A bad option or project; `usage` marks a command-line mistake (exit 2) rather than bad input (exit 1). */
export class BuildError extends Error {
  constructor(message: string, readonly usage = false) {
    super(message);
  }
}

/** Validates a service base URL: https, public host, no query or fragment; without a trailing slash. */
export const normalizeBaseUrl = (text: string): string => {
  if (!isPublicHttpsUrl(text)) throw new BuildError(`--base-url ${text}: must be an https URL on a public host (not localhost)`);
  const url = new URL(text);
  if (url.search || url.hash || url.username || url.password) throw new BuildError(`--base-url ${text}: must not carry credentials, a query or a fragment`);
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
};

const serviceUrlModule = (baseUrl: string): string => [
  '/** The ARBridge service the cards call. `npm run hs:build -- --base-url URL` writes this file into the upload tree. */',
  `export const SERVICE_BASE_URL = '${baseUrl}';`,
  '',
].join('\n');

const withBase = (value: string, baseUrl: string, where: string): string => {
  if (value === PLACEHOLDER_ORIGIN) return baseUrl;
  if (value.startsWith(`${PLACEHOLDER_ORIGIN}/`)) return baseUrl + value.slice(PLACEHOLDER_ORIGIN.length);
  if (value.startsWith('https:')) throw new BuildError(`${where}: ${value} does not start with the placeholder ${PLACEHOLDER_ORIGIN}`);
  return value; // http://localhost redirect URLs for local development stay as they are
};

const readJson = (file: string): Record<string, unknown> => JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
const writeJson = (file: string, value: unknown): void => fs.writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);

/** Files of the extensions package that go into the upload: sources and package.json, never tests or node_modules. */
const copyExtensions = (from: string, to: string): void => {
  fs.mkdirSync(to, { recursive: true });
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.') || entry.name === 'tsconfig.json') continue;
    const src = path.join(from, entry.name);
    const dst = path.join(to, entry.name);
    if (entry.isDirectory()) copyExtensions(src, dst);
    else if (entry.isFile() && /\.(ts|tsx|json)$/.test(entry.name)) fs.copyFileSync(src, dst);
  }
};

/** Builds the upload tree; returns the files it rewrote (relative to outDir). */
export const buildProject = (options: BuildOptions): string[] => {
  const projectDir = path.resolve(options.projectDir);
  const outDir = path.resolve(options.outDir);
  const baseUrl = normalizeBaseUrl(options.baseUrl);
  const project = HsProjectSchema.parse(readJson(path.join(projectDir, 'hsproject.json')));
  const srcDir = path.resolve(projectDir, project.srcDir);

  if (outDir === projectDir || projectDir.startsWith(outDir + path.sep) || outDir.startsWith(srcDir + path.sep) || outDir === srcDir) {
    throw new BuildError(`--out ${options.outDir}: must not be the project, contain it, or lie inside ${project.srcDir}`);
  }
  if (fs.existsSync(outDir)) {
    const entries = fs.readdirSync(outDir);
    if (entries.length > 0 && !entries.includes('hsproject.json')) {
      throw new BuildError(`--out ${options.outDir}: exists and is not an earlier build (no hsproject.json); refusing to replace it`);
    }
    fs.rmSync(outDir, { recursive: true, force: true });
  }
  fs.mkdirSync(outDir, { recursive: true });
  fs.copyFileSync(path.join(projectDir, 'hsproject.json'), path.join(outDir, 'hsproject.json'));
  const outSrc = path.join(outDir, path.relative(projectDir, srcDir));
  fs.cpSync(srcDir, outSrc, {
    recursive: true,
    filter: (src) => !path.relative(srcDir, src).split(path.sep).includes('node_modules') && path.basename(src) !== 'local.json',
  });

  const rewritten: string[] = [];
  const rel = (abs: string): string => path.relative(outDir, abs).split(path.sep).join('/');

  const appFile = path.join(outSrc, 'app', 'app-hsmeta.json');
  if (fs.existsSync(appFile)) {
    const app = readJson(appFile) as { config?: { permittedUrls?: { fetch?: string[] }; auth?: { redirectUrls?: string[] } } };
    const permitted = app.config?.permittedUrls;
    if (permitted?.fetch) permitted.fetch = permitted.fetch.map((u, i) => withBase(u, baseUrl, `${rel(appFile)} $.config.permittedUrls.fetch[${i}]`));
    const auth = app.config?.auth;
    if (auth?.redirectUrls) auth.redirectUrls = auth.redirectUrls.map((u, i) => withBase(u, baseUrl, `${rel(appFile)} $.config.auth.redirectUrls[${i}]`));
    writeJson(appFile, app);
    rewritten.push(rel(appFile));
  }

  const hooksDir = path.join(outSrc, 'app', 'webhooks');
  if (fs.existsSync(hooksDir)) {
    for (const name of fs.readdirSync(hooksDir).filter((n) => n.endsWith('-hsmeta.json'))) {
      const file = path.join(hooksDir, name);
      const hooks = readJson(file) as { config?: { settings?: { targetUrl?: string } } };
      const settings = hooks.config?.settings;
      if (settings?.targetUrl) settings.targetUrl = withBase(settings.targetUrl, baseUrl, `${rel(file)} $.config.settings.targetUrl`);
      writeJson(file, hooks);
      rewritten.push(rel(file));
    }
  }

  // Each feature folder that depends on the extensions package gets its own copy, with the base URL module written.
  for (const feature of ['cards', 'settings', 'pages']) {
    const pkgFile = path.join(outSrc, 'app', feature, 'package.json');
    if (!fs.existsSync(pkgFile)) continue;
    const pkg = readJson(pkgFile) as { dependencies?: Record<string, string> };
    const spec = pkg.dependencies?.[EXTENSIONS_PACKAGE];
    const local = spec ? /^(file|link):(.+)$/.exec(spec) : null;
    if (!pkg.dependencies || !local) continue;
    const sourcePkgDir = path.resolve(srcDir, 'app', feature, local[2]!);
    if (!fs.existsSync(path.join(sourcePkgDir, 'package.json'))) throw new BuildError(`${rel(pkgFile)}: ${spec} does not lead to a package`);
    const vendored = path.join(path.dirname(pkgFile), ...VENDORED_EXTENSIONS_DIR.split('/'));
    copyExtensions(sourcePkgDir, vendored);
    fs.writeFileSync(path.join(vendored, SERVICE_URL_MODULE), serviceUrlModule(baseUrl));
    pkg.dependencies[EXTENSIONS_PACKAGE] = `file:./${VENDORED_EXTENSIONS_DIR}`;
    writeJson(pkgFile, pkg);
    rewritten.push(rel(pkgFile), rel(path.join(vendored, SERVICE_URL_MODULE)));
  }

  if (options.localProxy !== undefined) {
    const proxy = new URL(options.localProxy);
    if (proxy.protocol !== 'http:' && proxy.protocol !== 'https:') throw new BuildError(`--local-proxy ${options.localProxy}: must be an http(s) URL`);
    const localFile = path.join(outSrc, 'app', 'local.json');
    writeJson(localFile, { proxy: { [new URL(baseUrl).origin]: proxy.origin } });
    rewritten.push(rel(localFile));
  }
  return rewritten;
};

const USAGE = 'usage: hs:build -- --base-url https://ar.example.com [--out build/hubspot] [--project .] [--local-proxy http://localhost:3000]';

export const parseArgs = (argv: readonly string[], env: NodeJS.ProcessEnv): BuildOptions => {
  const values: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const match = /^--(base-url|out|project|local-proxy)(?:=(.*))?$/.exec(arg);
    if (!match) throw new BuildError(`unknown argument ${arg}\n${USAGE}`, true);
    const value = match[2] ?? argv[++i];
    if (value === undefined) throw new BuildError(`--${match[1]} needs a value\n${USAGE}`, true);
    values[match[1]!] = value;
  }
  const baseUrl = values['base-url'] ?? env.ARBRIDGE_PUBLIC_URL;
  if (!baseUrl) throw new BuildError(`the service base URL is required: --base-url or ARBRIDGE_PUBLIC_URL\n${USAGE}`, true);
  return {
    projectDir: values.project ?? '.',
    outDir: values.out ?? path.join(values.project ?? '.', 'build', 'hubspot'),
    baseUrl,
    ...(values['local-proxy'] !== undefined ? { localProxy: values['local-proxy'] } : {}),
  };
};

export const main = (argv: readonly string[], env: NodeJS.ProcessEnv = process.env): number => {
  try {
    const options = parseArgs(argv, env);
    const files = buildProject(options);
    process.stdout.write(`hs:build: wrote ${path.resolve(options.outDir)} for ${normalizeBaseUrl(options.baseUrl)}\n${files.map((f) => `  ${f}\n`).join('')}`);
    process.stdout.write(`next: npm run hs:check -- ${options.outDir} && (cd ${options.outDir} && hs project upload)\n`);
    return 0;
  } catch (error) {
    if (error instanceof BuildError) {
      process.stderr.write(`hs:build: ${error.message}\n`);
      return error.usage ? 2 : 1;
    }
    throw error;
  }
};

if (require.main === module) process.exitCode = main(process.argv.slice(2));
