export declare const CHROMIUM_WEBGPU_ARGS: string[];
