// Evaluation of a base model or an adapter: perplexity, multiple choice by log-likelihood, exact match.
export { buildEvalGraph, evalRunConfig, positionsFor, scoreRows, type EvalGraphOptions, type ScoreRow } from './eval-graph';
export { cutAtStop, evaluateExactMatch, normalizeAnswer, type ExactOptions, type ExactResult, type Normalization } from './exact-match';
export { encodePair, mcRows, mcScores, tokenizeMc, type McExample, type McResult } from './multiple-choice';
export { evaluatePerplexity, perplexityRows, type PerplexityResult } from './perplexity';
export { evaluateDatasetPerplexity, evaluateExact, evaluateMultipleChoice, type EvalTarget } from './run-eval';
export { detectTaskKind, parseExactTask, parseMcTask, TASK_KINDS, type ExactItem, type McItem, type TaskKind } from './task-file';
