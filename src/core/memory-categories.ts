/**
 * What each byte of GPU memory is for. Every buffer the pool creates carries one of these, so the
 * ledger, the analytic plan and the memory chart use the same split.
 */
export const CATEGORIES = ['weights', 'lora', 'grads', 'optimizer', 'activations', 'workspace'] as const;
export type Category = (typeof CATEGORIES)[number];
