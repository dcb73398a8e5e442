import { useCallback, useRef, useState } from 'react';
import type { z } from 'zod';
import { callCardApi, CardApiError, newIdempotencyKey, type PostBody } from '../api.ts';

export type PostState = { status: 'idle' } | { status: 'sending' } | { status: 'failed'; error: CardApiError };

/**
 * A POST a person starts with a click. `start` makes a fresh idempotency key for that action; `retry` sends the
 * same action again with the same key, so the service replays its first answer instead of acting twice.
 */
export const useIdempotentPost = <T>(path: string, schema: z.ZodType<T>, onDone: (result: T) => void, method: 'POST' | 'PUT' = 'POST') => {
  const [state, setState] = useState<PostState>({ status: 'idle' });
  const pending = useRef<PostBody | null>(null);

  const send = useCallback(async (body: PostBody) => {
    pending.current = body;
    setState({ status: 'sending' });
    try {
      const result = await callCardApi(path, schema, body, method);
      pending.current = null;
      setState({ status: 'idle' });
      onDone(result);
    } catch (error) {
      setState({ status: 'failed', error: error instanceof CardApiError ? error : new CardApiError('network', null, 'ARBridge could not be reached.') });
    }
  }, [path, schema, onDone, method]);

  const start = useCallback((body: PostBody) => send({ ...body, idempotencyKey: newIdempotencyKey() }), [send]);
  const retry = useCallback(() => (pending.current ? send(pending.current) : Promise.resolve()), [send]);
  return { state, start, retry };
};
