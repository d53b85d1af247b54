/**
 * WebGPU in Node through the `webgpu` package (Dawn), for the CLI and the GPU tests. Node-only:
 * no browser module imports this file.
 */
import { existsSync } from 'node:fs';

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/**
 * Dawn toggles. On SwiftShader, zero-initialising workgroup memory through the Vulkan extension
 * costs about 1 ms per word at pipeline creation (seconds per attention pipeline); Tint's own
 * zeroing loop does the same job at no measurable cost. Chromium gets the same flag in e2e/bench.
 */
export const DAWN_TOGGLES = ['disable-dawn-features=use_vulkan_zero_initialize_workgroup_memory_extension'];

let factory: Promise<GPU> | null = null;

/** The package's `GPU` object, with its globals (GPUBufferUsage ...) installed. */
export function nodeGpu(): Promise<GPU> {
  factory ??= (async () => {
    // Must be set before create(): Dawn reads them when it loads the Vulkan loader.
    if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
    process.env.XDG_RUNTIME_DIR ??= '/tmp';
    const { create, globals } = await import('webgpu');
    Object.assign(globalThis, globals);
    return create(DAWN_TOGGLES);
  })();
  return factory;
}
