import { generatePortfolio } from '../src/demo/generate';
import { DEFAULT_DEMO } from '../src/services/demo';
import { startFakeHubSpot } from '../test/fakes/hubspot';

// npm run fake:hubspot -- [--port 4010] [--portal 1] [--token fake-token]
// A fake HubSpot on loopback for watching the write-back end to end (see the README). It holds companies for
// the demo portfolio's customers: most with the customer's website domain, some with its name only, a few
// with neither (they land in the review list), and prints every request it answers.

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? (process.argv[i + 1] as string) : fallback;
};

const main = async (): Promise<void> => {
  const port = Number(arg('port', '4010'));
  const portalId = Number(arg('portal', '1'));
  const token = arg('token', 'fake-token');
  const fake = await startFakeHubSpot({ port });
  fake.addPortal(portalId, { privateToken: token, hubDomain: 'demo.example.com' });
  let companies = 0;
  let index = 0;
  for (const { customer } of generatePortfolio({ ...DEFAULT_DEMO, endDate: '2026-01-01' })) {
    index += 1;
    if (index % 20 === 0) continue; // not in HubSpot: shows up in `arbridge hubspot unmatched`
    const byName = index % 5 === 0;
    fake.createObject(portalId, 'companies', byName || !customer.domain
      ? { name: customer.name ?? `Customer ${customer.id}` }
      : { name: customer.name ?? '', domain: `www.${customer.domain}` });
    companies += 1;
  }
  process.stdout.write(
    `fake HubSpot on ${fake.url}: portal ${portalId}, token "${token}", ${companies} companies\n` +
      `  export HUBSPOT_API_BASE_URL=${fake.url} HUBSPOT_ACCESS_TOKEN=${token} HUBSPOT_PORTAL_ID=${portalId}\n`,
  );
  let shown = 0;
  const timer = setInterval(() => {
    for (; shown < fake.requests.length; shown++) {
      const r = fake.requests[shown];
      if (!r) continue;
      const inputs = (r.body as { inputs?: unknown[] } | undefined)?.inputs;
      process.stdout.write(`${r.status} ${r.method} ${r.path}${inputs ? ` (${inputs.length} inputs)` : ''}\n`);
    }
  }, 200);
  const stop = (): void => {
    clearInterval(timer);
    void fake.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
};

main().catch((error: unknown) => {
  process.stderr.write(`fake:hubspot: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
