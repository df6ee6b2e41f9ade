// SPDX-License-Identifier: Apache-2.0
// The sample plugin, after upstream's plugins/sample: a chained plugin that supports every spec
// version, requires the previous plugin's result, checks it, and passes it on unchanged. Its
// shape is every plugin's: net-conf.ts (loadConf), one cmd-<verb>.ts per verb, and this file.
import { definePlugin } from '@cni/skel';
import { ALL_SPEC_VERSIONS } from '@cni/spec';
import { cmdAdd } from './cmd-add.ts';
import { cmdCheck } from './cmd-check.ts';
import { cmdDel } from './cmd-del.ts';
import { cmdStatus } from './cmd-status.ts';

/**
 * The sample plugin. Its configuration keys are in docs/plugins/sample.md: `anotherAwesomeArg`
 * (required), `myAwesomeFlag`, and the `sample` capability in `runtimeConfig`.
 */
export const sample = definePlugin({
  name: 'sample',
  versions: ALL_SPEC_VERSIONS,
  add: cmdAdd,
  del: cmdDel,
  check: cmdCheck,
  status: cmdStatus,
  // No gc: the sample keeps nothing outside the sandbox, and skel answers GC with success.
});
