/** Colours shared by every chart: memory categories, and a palette for overlaid runs. */
export const CATEGORY_COLORS: Record<string, string> = {
  weights: '#5b7db1', lora: '#d98b2b', grads: '#c4524e', optimizer: '#8a6bb8', activations: '#4e9a7a', workspace: '#9aa3ad',
};

export const RUN_PALETTE = ['#2f6fb0', '#d0672a', '#3a9a5b', '#a23d8f', '#8a7a2a', '#1b9aaa', '#c43d4e', '#5d5fb8'];
