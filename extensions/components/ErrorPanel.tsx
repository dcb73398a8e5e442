import { Button, ErrorState, Text } from '@hubspot/ui-extensions';
import type { CardApiError } from '../api.ts';

/** A failed load with a safe explanation and a way to try again. */
export const ErrorPanel = ({ title, error, onRetry }: { title: string; error: CardApiError; onRetry: () => void }) => (
  <ErrorState title={title} type="error">
    <Text>{error.message}</Text>
    <Button testId="retry" onClick={() => onRetry()}>Try again</Button>
  </ErrorState>
);
