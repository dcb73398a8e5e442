import { useCallback, useEffect, useRef, useState } from 'react';
import type { z } from 'zod';
import { callCardApi, CardApiError } from '../api.ts';

export type CardData<T> =
  | { status: 'loading' }
  | { status: 'error'; error: CardApiError }
  | { status: 'success'; data: T };

/**
 * One GET of the card API per render of a card (and per `reload`), parsed by `schema`. Answers to superseded
 * requests (an earlier reload, another record) are dropped.
 */
export const useCardData = <T>(pathAndQuery: string, schema: z.ZodType<T>): { state: CardData<T>; reload: () => void } => {
  const [state, setState] = useState<CardData<T>>({ status: 'loading' });
  const [generation, setGeneration] = useState(0);
  const latest = useRef(0);

  useEffect(() => {
    const request = ++latest.current;
    setState({ status: 'loading' });
    callCardApi(pathAndQuery, schema).then(
      (data) => {
        if (request === latest.current) setState({ status: 'success', data });
      },
      (error: unknown) => {
        if (request !== latest.current) return;
        setState({ status: 'error', error: error instanceof CardApiError ? error : new CardApiError('network', null, 'ARBridge could not be reached.') });
      },
    );
  }, [pathAndQuery, schema, generation]);

  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  return { state, reload };
};
