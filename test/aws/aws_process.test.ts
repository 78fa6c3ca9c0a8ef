/**
 * romana-aws as a process: a real daemon, the fake EC2 server, and the real
 * binary with a resync far in the future, so that only the daemon's host
 * watch can explain a node being handled after start.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { cleanupDaemons, http, startDaemon } from '../helpers/daemon.js';
import { FakeEc2 } from '../helpers/fake_ec2.js';
import { waitFor } from '../helpers/poll.js';
import { FAKE_CREDENTIALS } from './ec2_env.js';

const AWS_MAIN = fileURLToPath(new URL('../../dist/src/aws/aws_main.js', import.meta.url));
const procs: ChildProcess[] = [];
const fakes: FakeEc2[] = [];
afterAll(async () => {
  for (const p of procs) p.kill('SIGKILL');
  for (const f of fakes) await f.stop();
  await cleanupDaemons();
});

it('turns Source/Dest-Check off for a node added after start, long before the next resync', async () => {
  const fake = new FakeEc2();
  fakes.push(fake);
  await fake.start();
  const subnet = fake.addSubnet('10.0.1.0/24');
  const first = fake.addInstance('10.0.1.10', subnet.subnetId);
  const later = fake.addInstance('10.0.1.11', subnet.subnetId);
  const d = await startDaemon();
  expect((await http(d.url(), 'POST', '/hosts', { body: { name: 'n1', ip: '10.0.1.10', tags: { 'romana.io/provider-id': `aws:///us-east-1a/${first.instanceId}` } } })).status).toBe(201);

  const p = spawn(process.execPath, [AWS_MAIN, '--daemon', d.url(), '--region', 'us-east-1', '--endpoint', fake.url, '--resync', '1h', '--address', '127.0.0.1', '--port', '0'], {
    env: { ...process.env, AWS_ACCESS_KEY_ID: FAKE_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: FAKE_CREDENTIALS.secretAccessKey },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  procs.push(p);
  let stderr = '';
  p.stderr!.on('data', (b: Buffer) => void (stderr += b.toString()));
  await waitFor('the start-up run to turn the check off for n1', () => first.sourceDestCheck === false, { timeoutMs: 20_000 }).catch((e: Error) => {
    throw new Error(`${e.message}; romana-aws stderr: ${stderr.slice(-800)}`);
  });
  expect(later.sourceDestCheck).toBe(true);

  expect((await http(d.url(), 'POST', '/hosts', { body: { name: 'n2', ip: '10.0.1.11', tags: { 'romana.io/provider-id': `aws:///us-east-1a/${later.instanceId}` } } })).status).toBe(201);
  await waitFor('the host watch to turn the check off for n2', () => later.sourceDestCheck === false, { timeoutMs: 10_000 }).catch((e: Error) => {
    throw new Error(`${e.message}; romana-aws stderr: ${stderr.slice(-800)}`);
  });
  expect(fake.callsOf('ModifyInstanceAttribute').length).toBe(2);
});
