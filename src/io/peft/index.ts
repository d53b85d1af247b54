export type { LoraTensor, PeftAdapter } from '../../config/adapter';
export { exportPeftAdapter } from './export';
export { importPeftAdapter } from './import';
export { parseAdapterConfig, serializeAdapterConfig, CONFIG_FILE, type ParsedAdapterConfig } from './adapter-config';
export { loraKey, magnitudeKey, parseAdapterKey, parseModulePath, PEFT_PREFIX } from './keys';
