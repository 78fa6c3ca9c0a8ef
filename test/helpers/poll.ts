/**
 * Waiting for a condition in tests without sleeping as synchronisation: the
 * lab's poller (src/lab/poll.ts), re-exported so test imports stay stable.
 */
export * from '../../src/lab/poll.js';
