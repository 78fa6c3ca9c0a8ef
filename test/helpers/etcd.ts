/**
 * etcd for tests: the throwaway loopback etcd of src/store/local_etcd.ts
 * (data dir on /dev/shm, free ports, stopped by PID with its data dir
 * removed). Tests call stop() in their teardown, also when they failed.
 *
 * etcd is required (CI installs etcd-server): a missing binary makes the
 * test fail with etcd's spawn error, never skip silently. ROMANA_TEST_ETCD
 * overrides the binary.
 */
import { startEtcd as startLocalEtcd, type EtcdInstance } from '../../src/store/local_etcd.js';

export { freePort, type EtcdInstance } from '../../src/store/local_etcd.js';

export function startEtcd(): Promise<EtcdInstance> {
  return startLocalEtcd(process.env.ROMANA_TEST_ETCD ? { bin: process.env.ROMANA_TEST_ETCD } : {});
}
