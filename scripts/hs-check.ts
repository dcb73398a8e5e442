import fs from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import {
  CARD_OBJECT_READ_SCOPES,
  COMPONENT_DIRS,
  FeaturePackageSchema,
  HsProjectSchema,
  type AppConfigSchema,
  type CardConfigSchema,
  type ComponentDir,
  type WebhooksConfigSchema,
} from '../src/hubspot/project-schema';

// `npm run hs:check [-- DIR]`: validates a HubSpot project (the source tree, or an `npm run hs:build` output) against
// the schemas in src/hubspot/project-schema.ts plus the rules that span files. Prints one line per problem, naming
// the file and the JSON path; exits 1 when there is any.

export type Problem = { file: string; path: string; message: string };

/** The package the cards import; its `service-url.ts` holds the service origin they call. */
export const EXTENSIONS_PACKAGE = '@arbridge/extensions';
export const SERVICE_URL_MODULE = 'service-url.ts';
const SERVICE_URL_PATTERN = /export const SERVICE_BASE_URL = '([^']+)';/;

/** `$`, `.key`, `[3]` and `["odd key"]` segments, as a JSON path. */
export const jsonPath = (segments: readonly PropertyKey[]): string =>
  segments.reduce<string>((acc, segment) => {
    if (typeof segment === 'number') return `${acc}[${segment}]`;
    const key = String(segment);
    return /^[A-Za-z_$][\w$]*$/.test(key) ? `${acc}.${key}` : `${acc}[${JSON.stringify(key)}]`;
  }, '$');

const posix = (p: string): string => p.split(path.sep).join('/');

/** Files under `dir`, skipping node_modules, as absolute paths in a stable order. */
const walk = (dir: string): string[] => {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.name === 'node_modules') continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...walk(full));
    else if (entry.isFile()) out.push(full);
  }
  return out;
};

/** The base URL the cards of an extensions package call, read from its generated module. */
export const readServiceBaseUrl = (packageDir: string): string | null => {
  const file = path.join(packageDir, SERVICE_URL_MODULE);
  if (!fs.existsSync(file)) return null;
  return SERVICE_URL_PATTERN.exec(fs.readFileSync(file, 'utf8'))?.[1] ?? null;
};

type Parsed<T> = { file: string; value: T };
type AnyComponent = { uid: string; type: string; config: unknown };

export const checkProject = (projectDir: string): Problem[] => {
  const root = path.resolve(projectDir);
  const problems: Problem[] = [];
  const rel = (abs: string): string => posix(path.relative(root, abs)) || '.';
  const report = (abs: string, at: readonly PropertyKey[] | string, message: string): void => {
    problems.push({ file: rel(abs), path: typeof at === 'string' ? at : jsonPath(at), message });
  };
  const readJson = (abs: string): { ok: true; value: unknown } | { ok: false } => {
    let text: string;
    try {
      text = fs.readFileSync(abs, 'utf8');
    } catch {
      report(abs, '$', 'cannot be read');
      return { ok: false };
    }
    try {
      return { ok: true, value: JSON.parse(text) as unknown };
    } catch (error) {
      report(abs, '$', `is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
      return { ok: false };
    }
  };
  const validate = <S extends z.ZodType>(abs: string, schema: S, value: unknown): z.infer<S> | null => {
    const result = schema.safeParse(value);
    if (result.success) return result.data;
    for (const issue of result.error.issues) report(abs, issue.path, issue.message);
    return null;
  };

  const projectFile = path.join(root, 'hsproject.json');
  if (!fs.existsSync(projectFile)) {
    report(projectFile, '$', 'is missing: this is not a HubSpot project directory');
    return problems;
  }
  const projectJson = readJson(projectFile);
  if (!projectJson.ok) return problems;
  const project = validate(projectFile, HsProjectSchema, projectJson.value);
  if (!project) return problems;
  const srcDir = path.resolve(root, project.srcDir);
  if (srcDir !== root && !srcDir.startsWith(root + path.sep)) {
    report(projectFile, ['srcDir'], `${project.srcDir} is outside the project directory`);
    return problems;
  }
  if (!fs.existsSync(srcDir) || !fs.statSync(srcDir).isDirectory()) {
    report(projectFile, ['srcDir'], `${project.srcDir} does not exist`);
    return problems;
  }

  // Every -hsmeta.json, validated by the schema of the folder it sits in.
  const components = new Map<ComponentDir, Parsed<AnyComponent>[]>();
  for (const file of walk(srcDir).filter((f) => f.endsWith('-hsmeta.json'))) {
    const dir = posix(path.relative(srcDir, path.dirname(file)));
    if (!(dir in COMPONENT_DIRS)) {
      report(file, '$', `HubSpot reads -hsmeta.json files only at the root of a component folder; this project knows ${Object.keys(COMPONENT_DIRS).map((d) => `${d}/`).join(', ')}`);
      continue;
    }
    const kind = COMPONENT_DIRS[dir as ComponentDir];
    const json = readJson(file);
    if (!json.ok) continue;
    const type = (json.value as { type?: unknown } | null)?.type;
    if (type !== kind.type) {
      report(file, ['type'], `a component in ${dir}/ must have type "${kind.type}" (found ${JSON.stringify(type)})`);
      continue;
    }
    const value = validate(file, kind.schema as z.ZodType, json.value) as AnyComponent | null;
    if (value) components.set(dir as ComponentDir, [...(components.get(dir as ComponentDir) ?? []), { file, value }]);
  }

  // uids are unique in the project; app, settings, pages and webhooks appear at most once.
  const uids = new Map<string, string>();
  for (const list of components.values()) {
    for (const { file, value } of list) {
      const first = uids.get(value.uid);
      if (first) report(file, ['uid'], `uid "${value.uid}" is also used by ${rel(first)}`);
      else uids.set(value.uid, file);
    }
  }
  for (const [dir, list] of components) {
    if (COMPONENT_DIRS[dir].single && list.length > 1) {
      for (const { file } of list.slice(1)) report(file, '$', `only one ${COMPONENT_DIRS[dir].type} component is allowed (also ${rel(list[0]!.file)})`);
    }
  }

  const apps = components.get('app') ?? [];
  const app = apps[0] as Parsed<{ config: z.infer<typeof AppConfigSchema> }> | undefined;
  if (!app && !problems.some((p) => p.file.startsWith(rel(path.join(srcDir, 'app'))))) {
    report(path.join(srcDir, 'app', 'app-hsmeta.json'), '$', 'is missing: the project has no app component');
  }

  // Entry points exist beside their -hsmeta.json; each folder with entry points has a pinned package.json.
  const featureDirs = new Set<ComponentDir>();
  for (const dir of ['app/cards', 'app/settings', 'app/pages'] as const) {
    for (const { file, value } of components.get(dir) ?? []) {
      featureDirs.add(dir);
      const entrypoint = (value.config as { entrypoint: string }).entrypoint;
      const entryDir = path.posix.dirname(entrypoint).replace(/^\//, '');
      if (entryDir !== dir) report(file, ['config', 'entrypoint'], `${entrypoint} must sit beside its -hsmeta.json, in /${dir}/`);
      const abs = path.join(srcDir, ...entrypoint.split('/').filter(Boolean));
      if (!fs.existsSync(abs) || !fs.statSync(abs).isFile()) report(file, ['config', 'entrypoint'], `${entrypoint} does not exist`);
    }
  }
  const serviceUrls: Array<{ file: string; url: string }> = [];
  for (const dir of featureDirs) {
    const pkgFile = path.join(srcDir, ...dir.split('/'), 'package.json');
    if (!fs.existsSync(pkgFile)) {
      report(pkgFile, '$', `is missing: ${dir}/ has entry points, so it needs one package.json`);
      continue;
    }
    const json = readJson(pkgFile);
    if (!json.ok) continue;
    const pkg = validate(pkgFile, FeaturePackageSchema, json.value);
    if (!pkg) continue;
    for (const [name, spec] of Object.entries(pkg.dependencies)) {
      const local = /^(file|link):(.+)$/.exec(spec);
      if (!local) continue;
      const target = path.resolve(path.dirname(pkgFile), local[2]!);
      const targetPkg = path.join(target, 'package.json');
      if (!fs.existsSync(targetPkg)) {
        report(pkgFile, ['dependencies', name], `${spec} does not lead to a package (no ${posix(path.relative(root, targetPkg))})`);
        continue;
      }
      const targetName = (JSON.parse(fs.readFileSync(targetPkg, 'utf8')) as { name?: unknown }).name;
      if (targetName !== name) {
        report(pkgFile, ['dependencies', name], `${spec} holds the package ${JSON.stringify(targetName)}, not ${name}`);
        continue;
      }
      if (name === EXTENSIONS_PACKAGE) {
        const url = readServiceBaseUrl(target);
        if (url === null) report(pkgFile, ['dependencies', name], `${posix(path.relative(root, path.join(target, SERVICE_URL_MODULE)))} does not export SERVICE_BASE_URL as a string literal`);
        else serviceUrls.push({ file: pkgFile, url });
      }
    }
  }

  if (app) {
    const config = app.value.config;
    const required = new Set(config.auth.requiredScopes);
    for (const { file, value } of components.get('app/cards') ?? []) {
      for (const objectType of (value.config as z.infer<typeof CardConfigSchema>).objectTypes) {
        const scope = CARD_OBJECT_READ_SCOPES[objectType];
        if (!required.has(scope)) {
          report(app.file, ['config', 'auth', 'requiredScopes'], `${rel(file)} places a card on ${objectType}, which needs the scope ${scope}`);
        }
      }
    }
    // The service origin the cards call must be permitted, and the OAuth and webhook URLs must point at it too.
    const fetchUrls = config.permittedUrls.fetch ?? [];
    for (const { file, url } of serviceUrls) {
      if (!fetchUrls.some((prefix) => url === prefix || url.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`))) {
        report(app.file, ['config', 'permittedUrls', 'fetch'], `the cards (${rel(file)}) call ${url}, which no permitted fetch URL covers`);
      }
    }
    const base = serviceUrls[0]?.url;
    if (base && config.auth.type === 'oauth') {
      config.auth.redirectUrls.forEach((url, i) => {
        if (url.startsWith('https:') && !url.startsWith(`${base}/`)) {
          report(app.file, ['config', 'auth', 'redirectUrls', i], `${url} is not on the service the cards call (${base})`);
        }
      });
    }
    const hooks = components.get('app/webhooks')?.[0] as Parsed<{ config: z.infer<typeof WebhooksConfigSchema> }> | undefined;
    if (base && hooks && !hooks.value.config.settings.targetUrl.startsWith(`${base}/`)) {
      report(hooks.file, ['config', 'settings', 'targetUrl'], `${hooks.value.config.settings.targetUrl} is not on the service the cards call (${base})`);
    }
  }

  // Webhook subscriptions: no duplicates, and one form (generic or legacy) per object type.
  for (const { file, value } of components.get('app/webhooks') ?? []) {
    const subs = (value.config as z.infer<typeof WebhooksConfigSchema>).subscriptions;
    const seen = new Map<string, number>();
    (subs.crmObjects ?? []).forEach((sub, i) => {
      const key = `${sub.subscriptionType}/${sub.objectType}/${'propertyName' in sub ? sub.propertyName : ''}`;
      if (seen.has(key)) report(file, ['config', 'subscriptions', 'crmObjects', i], `repeats subscription ${seen.get(key)}`);
      else seen.set(key, i);
    });
    const legacySeen = new Map<string, number>();
    (subs.legacyCrmObjects ?? []).forEach((sub, i) => {
      const key = `${sub.subscriptionType}/${sub.propertyName ?? ''}`;
      if (legacySeen.has(key)) report(file, ['config', 'subscriptions', 'legacyCrmObjects', i], `repeats subscription ${legacySeen.get(key)}`);
      else legacySeen.set(key, i);
    });
    const generic = new Set((subs.crmObjects ?? []).map((s) => s.objectType));
    (subs.legacyCrmObjects ?? []).forEach((sub, i) => {
      const objectType = sub.subscriptionType.split('.')[0]!;
      if (generic.has(objectType as never)) {
        report(file, ['config', 'subscriptions', 'legacyCrmObjects', i], `${objectType} is also subscribed in crmObjects: use one form per object type`);
      }
    });
  }

  return problems;
};

export const formatProblem = (p: Problem): string => `${p.file}: ${p.path}: ${p.message}`;

/** Runs the check on argv[0] (default: the current directory); returns the exit code. */
export const main = (argv: readonly string[], out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): number => {
  const dir = argv[0] ?? '.';
  const problems = checkProject(dir);
  for (const p of problems) out(formatProblem(p));
  out(problems.length === 0 ? `hs:check: ${path.resolve(dir)} is a valid HubSpot project` : `hs:check: ${problems.length} problem(s)`);
  return problems.length === 0 ? 0 : 1;
};

if (require.main === module) process.exitCode = main(process.argv.slice(2));
