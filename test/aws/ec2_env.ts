/** Shared setup for the AWS add-on tests: a FakeEc2 and the real SDK pointed at it, with a recorded fake clock. */
import { createEc2Client, Ec2Api } from '../../src/aws/ec2.js';
import { FakeEc2 } from '../helpers/fake_ec2.js';

export const FAKE_CREDENTIALS = { accessKeyId: 'AKIDEXAMPLEFAKE', secretAccessKey: 'fake-secret-key' };

export async function ec2Env(): Promise<{ fake: FakeEc2; api: Ec2Api; sleeps: number[]; retries: string[] }> {
  const fake = new FakeEc2();
  await fake.start();
  const sleeps: number[] = [];
  const retries: string[] = [];
  const api = new Ec2Api(createEc2Client({ region: 'us-east-1', endpoint: fake.url, credentials: FAKE_CREDENTIALS }), {
    // The injected clock: backoff waits are recorded, not slept.
    sleep: async (ms) => void sleeps.push(ms),
    random: () => 0.5,
    onRetry: (action) => void retries.push(action),
  });
  return { fake, api, sleeps, retries };
}
