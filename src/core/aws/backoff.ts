/**
 * Retries with exponential backoff and full jitter (the AWS architecture
 * blog's "full jitter": delay = random(0, min(cap, base · 2^attempt))), for
 * EC2 throttling (RequestLimitExceeded, 503) and transient errors.
 *
 * Design: the clock (sleep) and the random source are injected so tests
 * check the delays without waiting; `isRetryable` decides per error.
 *
 * Concurrency rule: stateless; each call has its own attempt counter.
 */

export interface BackoffPolicy {
  readonly baseMs: number;
  readonly maxMs: number;
  /** Total attempts including the first (≥ 1). */
  readonly maxAttempts: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = Object.freeze({ baseMs: 200, maxMs: 20_000, maxAttempts: 8 });

export interface RetryOptions {
  readonly policy?: BackoffPolicy;
  readonly isRetryable: (e: unknown) => boolean;
  readonly sleep: (ms: number) => Promise<void>;
  readonly random: () => number;
  /** Called before each wait, with the attempt that failed (1-based). */
  readonly onRetry?: (e: unknown, attempt: number, delayMs: number) => void;
}

/** The wait after failed attempt `attempt` (1-based). */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}

export async function withRetry<T>(fn: () => Promise<T>, opts: RetryOptions): Promise<T> {
  const policy = opts.policy ?? DEFAULT_BACKOFF;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (attempt >= policy.maxAttempts || !opts.isRetryable(e)) throw e;
      const d = backoffDelay(attempt, policy, opts.random);
      opts.onRetry?.(e, attempt, d);
      await opts.sleep(d);
    }
  }
}
