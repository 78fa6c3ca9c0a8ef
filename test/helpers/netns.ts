/**
 * Network namespaces for privileged tests. The implementation moved to
 * src/lab/netns.ts (`romana lab` uses it too); this module keeps the test
 * imports stable. Test labs use a unique per-run prefix ("rt" + pid/random)
 * and are removed by a process-exit hook if a worker dies without teardown.
 */
export {
  CNI_BUNDLE,
  CNI_MAIN,
  IS_ROOT,
  NetnsLab,
  invokeCni,
  privilegedSkipReason,
  run,
  type CmdResult,
  type CniInvocation,
  type NsProcess,
} from '../../src/lab/netns.js';
