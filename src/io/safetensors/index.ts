// Browser-safe entry point of the safetensors reader/writer (the Node file source lives in
// ../node-file-source.ts so that node:fs never reaches a browser bundle).
export { bytesSource, blobSource, type ByteSource } from './byte-source';
export { urlSource, type UrlSourceInit } from './url-source';
export { DTYPES, DTYPE_BYTES, isDtype, type Dtype } from './dtypes';
export { decodeToF32 } from './decode';
export type { TensorInfo } from './header';
export { openSafetensors, type SafetensorsFile, type OpenOptions } from './reader';
export { writeSafetensors, type TensorToWrite } from './writer';
export { BadFileError } from '../../core/errors';
