import { describe, expect, it } from 'vitest';
import { RomanaError } from '../../src/core/errors.js';
import { EXIT_API, EXIT_UNREACHABLE, EXIT_USAGE, UsageError, errorLine, exitCodeFor, unreachableMessage } from '../../src/cli/errors.js';

describe('errorLine and exitCodeFor', () => {
  it('prints the server message and code on one line; exit 1', () => {
    const e = new RomanaError('HOST_NOT_FOUND', 'Host "x" is not registered');
    expect(errorLine(e)).toBe('romana: Host "x" is not registered (HOST_NOT_FOUND)');
    expect(exitCodeFor(e)).toBe(EXIT_API);
  });

  it('usage errors exit 2', () => {
    const e = new UsageError('bad\nthing');
    expect(errorLine(e)).toBe('romana: bad thing (INVALID_ARGUMENT)');
    expect(exitCodeFor(e)).toBe(EXIT_USAGE);
  });

  it('an unreachable daemon exits 3 and the line names its URL', () => {
    const cause = Object.assign(new AggregateError([new Error('connect ECONNREFUSED ::1:9600'), new Error('connect ECONNREFUSED 127.0.0.1:9600')], ''), {});
    const e = new RomanaError('DAEMON_UNREACHABLE', 'Cannot reach the romana daemon (GET /hosts): ', { cause });
    expect(exitCodeFor(e)).toBe(EXIT_UNREACHABLE);
    const line = errorLine(e, 'http://localhost:9600');
    expect(line).toMatch(/^romana: Cannot reach the romana daemon at http:\/\/localhost:9600 \(GET \/hosts\): connect ECONNREFUSED ::1:9600; connect ECONNREFUSED 127\.0\.0\.1:9600; .* \(DAEMON_UNREACHABLE\)$/);
    expect(line).not.toContain('\n');
  });

  it('keeps the client reason when it has one (timeouts)', () => {
    expect(unreachableMessage('Cannot reach the romana daemon (POST /address): no answer within 10000 ms', undefined, 'http://h:1')).toMatch(
      /^Cannot reach the romana daemon at http:\/\/h:1 \(POST \/address\): no answer within 10000 ms;/,
    );
  });

  it('hints at the token flags on UNAUTHORIZED', () => {
    expect(errorLine(new RomanaError('UNAUTHORIZED', 'Authentication required'))).toMatch(/--token, ROMANA_TOKEN or Token/);
  });

  it('anything else is an internal error, exit 1', () => {
    expect(errorLine(new TypeError('boom'))).toBe('romana: internal error: boom (INTERNAL)');
    expect(exitCodeFor(new TypeError('boom'))).toBe(EXIT_API);
  });
});
