// SPDX-License-Identifier: Apache-2.0
// The executable: everything lives in main.ts, so that tests run it with their own io.
import { main } from './main.ts';

process.exitCode = await main(process.argv.slice(2), { env: process.env, stdout: process.stdout, stderr: process.stderr });
