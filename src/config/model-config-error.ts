/** A model's config.json that names a bad field, an unsupported architecture or feature, or an absurd size. */
export class ModelConfigError extends Error {
  override name = 'ModelConfigError';
}
