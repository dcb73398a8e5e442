import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, test } from '@jest/globals';
import { checkProject, readServiceBaseUrl } from '../../scripts/hs-check';
import { BuildError, buildProject, main, normalizeBaseUrl, parseArgs, PLACEHOLDER_ORIGIN, VENDORED_EXTENSIONS_DIR } from '../../scripts/hs-build';
import { copyProject, editJson, readJson, removeTemps, ROOT, tempDir } from './project-copy';

afterAll(removeTemps);

const listFiles = (dir: string, prefix = ''): string[] => fs.readdirSync(dir, { withFileTypes: true })
  .flatMap((e) => (e.isDirectory() ? listFiles(path.join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`]))
  .sort();

describe('hs:build', () => {
  test('writes an upload tree with the base URL everywhere the service is named, which hs:check accepts', () => {
    const out = path.join(tempDir('arbridge-build-'), 'hubspot');
    buildProject({ projectDir: ROOT, outDir: out, baseUrl: 'https://ar.acme.com/' });

    expect(checkProject(out)).toEqual([]);
    const app = readJson(out, 'app-config/app/app-hsmeta.json');
    expect(app.config.permittedUrls.fetch).toEqual(['https://ar.acme.com']);
    expect(app.config.auth.redirectUrls).toEqual(['https://ar.acme.com/oauth/hubspot/callback']);
    expect(readJson(out, 'app-config/app/webhooks/webhooks-hsmeta.json').config.settings.targetUrl).toBe('https://ar.acme.com/webhooks/hubspot');
    for (const feature of ['cards', 'settings', 'pages']) {
      const pkg = readJson(out, `app-config/app/${feature}/package.json`);
      expect(pkg.dependencies['@arbridge/extensions']).toBe(`file:./${VENDORED_EXTENSIONS_DIR}`);
      expect(readServiceBaseUrl(path.join(out, 'app-config/app', feature, VENDORED_EXTENSIONS_DIR))).toBe('https://ar.acme.com');
    }
    // The source tree keeps its placeholder; the build leaves the rest of the app as it was.
    expect(readServiceBaseUrl(path.join(ROOT, 'extensions'))).toBe(PLACEHOLDER_ORIGIN);
    expect(app.config.support).toEqual(readJson(ROOT, 'app-config/app/app-hsmeta.json').config.support);
  });

  test('copies the sources, never node_modules, tsconfig or local.json, and keeps thin entry files as they are', () => {
    const project = copyProject();
    fs.mkdirSync(path.join(project, 'extensions/node_modules/zod'), { recursive: true });
    fs.writeFileSync(path.join(project, 'extensions/node_modules/zod/index.js'), '');
    fs.writeFileSync(path.join(project, 'app-config/app/local.json'), '{"proxy":{}}');
    const out = path.join(tempDir('arbridge-build-'), 'hubspot');
    buildProject({ projectDir: project, outDir: out, baseUrl: 'https://ar.acme.com' });

    const files = listFiles(out);
    expect(files.filter((f) => f.includes('node_modules') || f.endsWith('local.json'))).toEqual([]);
    const vendored = files.filter((f) => f.startsWith(`app-config/app/cards/${VENDORED_EXTENSIONS_DIR}/`)).map((f) => f.slice(`app-config/app/cards/${VENDORED_EXTENSIONS_DIR}/`.length));
    expect(vendored).toEqual(expect.arrayContaining(['package.json', 'card-api.ts', 'service-url.ts', 'CompanyCard.tsx', 'hooks/useCardData.ts']));
    expect(vendored).not.toContain('tsconfig.json');
    expect(fs.readFileSync(path.join(out, 'app-config/app/cards/CompanyCard.tsx'), 'utf8'))
      .toBe(fs.readFileSync(path.join(ROOT, 'app-config/app/cards/CompanyCard.tsx'), 'utf8'));
    expect(files).toContain('hsproject.json');
  });

  test('a base URL with a path prefix keeps it; --local-proxy maps the origin for hs project dev', () => {
    const out = path.join(tempDir('arbridge-build-'), 'hubspot');
    buildProject({ projectDir: ROOT, outDir: out, baseUrl: 'https://tools.acme.com/arbridge', localProxy: 'http://localhost:3000/ignored' });
    expect(checkProject(out)).toEqual([]);
    expect(readJson(out, 'app-config/app/app-hsmeta.json').config.auth.redirectUrls).toEqual(['https://tools.acme.com/arbridge/oauth/hubspot/callback']);
    expect(readJson(out, 'app-config/app/local.json')).toEqual({ proxy: { 'https://tools.acme.com': 'http://localhost:3000' } });
  });

  test('a second build replaces the first', () => {
    const out = path.join(tempDir('arbridge-build-'), 'hubspot');
    buildProject({ projectDir: ROOT, outDir: out, baseUrl: 'https://one.acme.com' });
    buildProject({ projectDir: ROOT, outDir: out, baseUrl: 'https://two.acme.com' });
    expect(readJson(out, 'app-config/app/app-hsmeta.json').config.permittedUrls.fetch).toEqual(['https://two.acme.com']);
  });

  test('refuses base URLs HubSpot would not call, and output folders it must not replace', () => {
    for (const bad of ['http://ar.acme.com', 'https://localhost:3000', 'https://127.0.0.1', 'https://ar.acme.com/?x=1', 'not a url']) {
      expect(() => normalizeBaseUrl(bad)).toThrow(BuildError);
    }
    const occupied = tempDir('arbridge-occupied-');
    fs.writeFileSync(path.join(occupied, 'notes.txt'), 'keep me');
    expect(() => buildProject({ projectDir: ROOT, outDir: occupied, baseUrl: 'https://ar.acme.com' })).toThrow(/not an earlier build/);
    expect(fs.readFileSync(path.join(occupied, 'notes.txt'), 'utf8')).toBe('keep me');
    expect(() => buildProject({ projectDir: ROOT, outDir: path.join(ROOT, 'app-config', 'out'), baseUrl: 'https://ar.acme.com' })).toThrow(/inside app-config/);
  });

  test('an https URL in a substituted field that is not the placeholder is an error, not silently kept', () => {
    const project = copyProject();
    editJson(project, 'app-config/app/webhooks/webhooks-hsmeta.json', (j) => { j.config.settings.targetUrl = 'https://hooks.example.net/in'; });
    const out = path.join(tempDir('arbridge-build-'), 'hubspot');
    expect(() => buildProject({ projectDir: project, outDir: out, baseUrl: 'https://ar.acme.com' })).toThrow(/targetUrl: https:\/\/hooks\.example\.net\/in does not start with the placeholder/);
  });

  test('arguments: --base-url or ARBRIDGE_PUBLIC_URL; usage mistakes exit 2, bad URLs 1', () => {
    expect(parseArgs(['--base-url', 'https://a.example.com', '--out=x'], {})).toEqual({ projectDir: '.', outDir: 'x', baseUrl: 'https://a.example.com' });
    expect(parseArgs([], { ARBRIDGE_PUBLIC_URL: 'https://b.example.com' }).baseUrl).toBe('https://b.example.com');
    expect(parseArgs(['--local-proxy', 'http://localhost:3000'], { ARBRIDGE_PUBLIC_URL: 'https://b.example.com' }).localProxy).toBe('http://localhost:3000');
    const stderr: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((chunk: string) => { stderr.push(chunk); return true; }) as typeof process.stderr.write;
    try {
      expect(main([], {})).toBe(2);
      expect(main(['--bogus'], {})).toBe(2);
      expect(main(['--base-url', 'http://insecure.example.com', '--out', path.join(tempDir('arbridge-build-'), 'o')], {})).toBe(1);
    } finally {
      process.stderr.write = write;
    }
    expect(stderr.join('')).toMatch(/ARBRIDGE_PUBLIC_URL[\s\S]*unknown argument --bogus[\s\S]*must be an https URL/);
  });
});
