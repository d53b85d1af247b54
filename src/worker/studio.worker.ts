// The training worker's entry: expose the studio API over comlink. Everything else is in ./studio.ts.
import * as Comlink from 'comlink';
import { registerErrorTransfer } from './errors';
import { createStudio } from './studio';

registerErrorTransfer();
// The page names the worker "studio gpu-limits=default" when it was opened with ?gpu-limits=default.
const gpuLimits = /\bgpu-limits=default\b/.test(self.name) ? 'default' : 'adapter';
Comlink.expose(createStudio({ gpu: () => (self.navigator as Navigator & { gpu?: GPU }).gpu, gpuLimits }));
