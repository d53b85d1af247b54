// Lets Node (the CLI) import `file.wgsl?raw` as a string, as Vite does for the browser and Vitest.
import { register } from 'node:module';

register('./raw-hooks.mjs', import.meta.url);
