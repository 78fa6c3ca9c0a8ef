import { describe, expect, it } from 'vitest';
import { backoffDelay, withRetry } from '../../src/core/aws/backoff.js';

describe('backoff', () => {
  const policy = { baseMs: 100, maxMs: 1000, maxAttempts: 5 };
  it('doubles the ceiling per attempt up to the cap, with full jitter', () => {
    expect([1, 2, 3, 4, 5, 6].map((a) => backoffDelay(a, policy, () => 0.999999))).toEqual([99, 199, 399, 799, 999, 999]);
    expect(backoffDelay(3, policy, () => 0)).toBe(0);
  });
  it('retries only retryable errors, and gives up after maxAttempts', async () => {
    const waits: number[] = [];
    let n = 0;
    const opts = { policy, isRetryable: (e: unknown) => (e as Error).message === 'throttled', sleep: async (ms: number) => void waits.push(ms), random: () => 0.5 };
    await expect(withRetry(async () => (++n < 3 ? Promise.reject(new Error('throttled')) : 'ok'), opts)).resolves.toBe('ok');
    expect(waits).toEqual([50, 100]);
    n = 0;
    await expect(withRetry(async () => Promise.reject(new Error(`fatal ${++n}`)), opts)).rejects.toThrow('fatal 1');
    n = 0;
    await expect(withRetry(async () => Promise.reject(new Error(n++ < 99 ? 'throttled' : 'x')), opts)).rejects.toThrow('throttled');
    expect(n).toBe(5);
  });
});
