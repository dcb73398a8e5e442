import { z } from 'zod';
import { AppError } from '../errors';

/** Validates input with a zod schema; Express 5 forwards the thrown error to the error middleware. */
export const parseOrThrow = <T>(schema: z.ZodType<T>, input: unknown, what = 'Request parameters'): T => {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const { formErrors, fieldErrors: fields } = z.flattenError(result.error);
  const summary = [
    ...formErrors,
    ...Object.entries(fields).map(([field, messages]) => `${field}: ${(messages as string[]).join(', ')}`),
  ].join('; ');
  throw new AppError('invalid_request', `${what} are invalid${summary ? `: ${summary}` : ''}`, { fields });
};
