// The training worker's entry: expose the studio API over comlink. Everything else is in ./studio.ts.
import * as Comlink from 'comlink';
import { registerErrorTransfer } from './errors';
import { createStudio } from './studio';

registerErrorTransfer();
Comlink.expose(createStudio({ gpu: () => (self.navigator as Navigator & { gpu?: GPU }).gpu }));
