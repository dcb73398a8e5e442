import http from 'node:http';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, signHubSpotV3 } from '../src/hubspot/signature';

// The load generator of bench:cards, run as a child process of the bench (forked with an IPC channel), so
// that its timers, sockets, signatures and garbage share neither the event loop nor the heap of the server
// it measures. It answers each `LoadRequest` message with one `LoadResult`.

/** Requests to one endpoint; `signWith` signs each one as HubSpot's proxy does (v3, fresh timestamp). */
export type LoadTarget = { port: number; path: string; signWith?: { clientSecret: string; publicUrl: string } };

export type LoadRequest = { target: LoadTarget; rate: number; seconds: number; warmup: number };

/** Per request, in send order: latency from its due time to the end of its response, status, body bytes. */
export type LoadResult = { latencyMs: number[]; status: number[]; bytes: number[]; maxSendLagMs: number };

const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;

const headersOf = (target: LoadTarget): Record<string, string> => {
  if (target.signWith === undefined) return {};
  const timestamp = String(Date.now());
  const signature = signHubSpotV3({
    method: 'GET', url: target.signWith.publicUrl + target.path, rawBody: '', timestamp, clientSecret: target.signWith.clientSecret,
  });
  return { [SIGNATURE_HEADER]: signature, [TIMESTAMP_HEADER]: timestamp };
};

/** One GET over the agent; resolves with the status and the body's length (status 0 on a connection error). */
const send = (agent: http.Agent, target: LoadTarget): Promise<{ status: number; bytes: number }> =>
  new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port: target.port, path: target.path, method: 'GET', agent, headers: headersOf(target) }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
      res.on('error', () => resolve({ status: 0, bytes: 0 }));
    });
    req.on('error', () => resolve({ status: 0, bytes: 0 }));
    req.end();
  });

/**
 * Open loop: request i is due at start + i / rate whatever happened to earlier ones, and its latency counts
 * from that due time, so a slow server (or a late timer) shows up in the figures instead of slowing the load.
 */
const openLoop = async (agent: http.Agent, target: LoadTarget, rate: number, seconds: number): Promise<LoadResult> => {
  const total = Math.round(rate * seconds);
  const interval = 1000 / rate;
  const result: LoadResult = { latencyMs: new Array<number>(total), status: new Array<number>(total), bytes: new Array<number>(total), maxSendLagMs: 0 };
  const pending: Promise<void>[] = [];
  const start = nowMs() + 20;
  let next = 0;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = nowMs();
      while (next < total && start + next * interval <= now) {
        const i = next;
        const due = start + i * interval;
        result.maxSendLagMs = Math.max(result.maxSendLagMs, now - due);
        pending.push(send(agent, target).then(({ status, bytes }) => {
          result.latencyMs[i] = nowMs() - due;
          result.status[i] = status;
          result.bytes[i] = bytes;
        }));
        next += 1;
      }
      if (next >= total) {
        resolve();
        return;
      }
      setTimeout(tick, Math.max(0, start + next * interval - nowMs()));
    };
    tick();
  });
  await Promise.all(pending);
  return result;
};

const run = async (request: LoadRequest): Promise<LoadResult> => {
  const agent = new http.Agent({ keepAlive: true });
  try {
    // Warm-up (not measured): JIT on both sides, connections, the server's caches.
    for (let i = 0; i < request.warmup; i += 1) await send(agent, request.target);
    return await openLoop(agent, request.target, request.rate, request.seconds);
  } finally {
    agent.destroy();
  }
};

if (process.send !== undefined) {
  process.on('message', (message: LoadRequest) => {
    run(message).then(
      (result) => process.send?.(result),
      (error: unknown) => {
        process.stderr.write(`bench:cards load client failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
        process.exit(1);
      },
    );
  });
  process.on('disconnect', () => process.exit(0));
}
