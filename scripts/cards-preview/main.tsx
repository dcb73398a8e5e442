import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { treeToHtml, UnmappedComponentError } from './html.ts';
import { indexPage, previewPage, type IndexEntry } from './page.ts';
import { AS_OF, renderPreviews } from './scenarios.tsx';

// `npm run cards:preview [-- --out DIR] [--require-screenshots]`: renders every card and state against the real
// service over the demo data, writes one HTML page per card and state plus index.html into DIR (default previews/),
// and screenshots each page with Chromium (CHROMIUM_PATH, default /usr/bin/chromium). Without Chromium the pages are
// written and the screenshots skipped; --require-screenshots makes that an error.

const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];

const usage = 'usage: npm run cards:preview [-- --out DIR] [--require-screenshots]';

const main = async (): Promise<number> => {
  let args;
  try {
    args = parseArgs({
      options: { out: { type: 'string', default: 'previews' }, 'require-screenshots': { type: 'boolean', default: false }, help: { type: 'boolean', default: false } },
      strict: true,
    }).values;
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n${usage}`);
    return 2;
  }
  if (args.help) {
    console.log(usage);
    return 0;
  }
  const outDir = path.resolve(args.out);
  fs.mkdirSync(outDir, { recursive: true });

  console.log(`Rendering the cards against the ARBridge service (in-memory PGlite, demo data as of ${AS_OF}) …`);
  const previews = await renderPreviews((line) => console.log(`  ${line}`));

  const entries: IndexEntry[] = [];
  const unmapped: string[] = [];
  for (const preview of previews) {
    // A file left by an earlier run must not pass for this one's.
    for (const ext of ['html', 'png']) fs.rmSync(path.join(outDir, `${preview.file}.${ext}`), { force: true });
    let body: string;
    try {
      body = treeToHtml(preview.root);
    } catch (error) {
      if (!(error instanceof UnmappedComponentError)) throw error;
      unmapped.push(`${preview.file}: ${error.message}`);
      continue;
    }
    const html = `${preview.file}.html`;
    fs.writeFileSync(path.join(outDir, html), previewPage(preview.frame, body));
    entries.push({ frame: preview.frame, html, png: null });
  }

  const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  let skipped: string | null = null;
  if (!fs.existsSync(chromium)) {
    skipped = `Chromium was not found at ${chromium} (set CHROMIUM_PATH)`;
  } else {
    const { chromium: launcher } = await import('playwright-core');
    let browser;
    try {
      browser = await launcher.launch({ executablePath: chromium, args: CHROMIUM_ARGS });
    } catch (error) {
      skipped = `Chromium at ${chromium} did not start: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`;
    }
    if (browser) {
      try {
        const page = await browser.newPage({ viewport: { width: 880, height: 800 }, deviceScaleFactor: 1 });
        for (const entry of entries) {
          await page.goto(pathToFileURL(path.join(outDir, entry.html)).href, { waitUntil: 'load' });
          const png = entry.html.replace(/\.html$/, '.png');
          await page.locator('#preview').screenshot({ path: path.join(outDir, png) });
          entry.png = png;
          console.log(`  screenshot ${png}`);
        }
      } finally {
        await browser.close();
      }
    }
  }

  const note = `Each card rendered by HubSpot's test renderer against the ARBridge service over the demo data (as of ${AS_OF}), `
    + 'drawn as plain HTML in HubSpot\'s style. Charts and inputs are approximations; the figures, rows and texts are the cards\' own.';
  fs.writeFileSync(path.join(outDir, 'index.html'), indexPage(entries, note));
  const shown = path.relative(process.cwd(), outDir);
  console.log(`Wrote ${entries.length} previews and index.html to ${shown === '' ? '.' : shown.startsWith('..') ? outDir : shown}/`);
  if (skipped !== null) console.warn(`Screenshots skipped: ${skipped}.`);

  if (unmapped.length > 0) {
    console.error(`\n${unmapped.length} preview${unmapped.length === 1 ? '' : 's'} could not be drawn:\n${unmapped.map((u) => `  ${u}`).join('\n')}`);
    return 1;
  }
  if (skipped !== null && args['require-screenshots']) {
    console.error('--require-screenshots: no screenshots were taken.');
    return 1;
  }
  return 0;
};

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.stack ?? error.message : String(error));
    process.exit(1);
  },
);
