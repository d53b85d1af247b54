/**
 * The model and dataset loaded in the worker. A new model sends the loaded dataset through its
 * tokenizer again (dropped when it no longer fits); every dataset is checked against the model's
 * vocabulary.
 */
import { DatasetError } from '../data/errors';
import type { DatasetOptions, DatasetSummary, ModelSourceSpec } from './api';
import { prepareDataset, readDatasetFile, type LoadedDataset } from './dataset';
import type { LoadedModel } from './model';

export class Loaded {
  model: LoadedModel | null = null;
  /** How the loaded model was loaded (kept with each run, without its token). */
  modelSpec: ModelSourceSpec | null = null;
  /** Changes with every model load: the estimate's cache key. */
  modelKey = '';
  dataset: LoadedDataset | null = null;

  /** @param onModelChange drops what was built on the previous model (the playground's copy). */
  constructor(private readonly onModelChange: () => void) {}

  needModel(what: string): LoadedModel {
    if (!this.model) throw new Error(`load a base model before ${what}`);
    return this.model;
  }

  needData(what: string): LoadedDataset {
    if (!this.dataset) throw new DatasetError(`load a dataset before ${what}`);
    return this.dataset;
  }

  /** Make `m` the loaded model; the loaded dataset goes through its tokenizer again (dropped when it no longer fits). */
  async useModel(m: LoadedModel, spec: ModelSourceSpec): Promise<void> {
    this.model = m;
    this.modelSpec = spec;
    this.modelKey = `${m.info.name}:${Date.now()}`;
    this.onModelChange();
    const d = this.dataset;
    if (!d) return;
    // The same file through the new model's tokenizer; dropped when it no longer fits (pre-tokenized ids).
    try {
      this.dataset = await this.prepare(d.file, d.options, m);
    } catch {
      this.dataset = null;
    }
  }

  async useDataset(file: File, options: DatasetOptions): Promise<LoadedDataset> {
    const m = this.needModel('a dataset (its tokenizer turns the text into tokens)');
    this.dataset = await this.prepare(file, options, m);
    return this.dataset;
  }

  /** The loaded dataset rendered with other options (the parsed file reused when the columns are the same). */
  async updateOptions(options: DatasetOptions): Promise<DatasetSummary> {
    const m = this.needModel('changing dataset options');
    const d = this.needData('changing its options');
    const sameColumns = (options.columns ?? '') === (d.options.columns ?? '');
    const parsed = sameColumns ? d.parsed : await readDatasetFile(d.file, m.config.vocabSize, options.columns);
    this.dataset = prepareDataset(d.file, parsed, options, m.tokenizer, sameColumns ? d.cache : new Map());
    return this.dataset.summary;
  }

  private async prepare(file: File, options: DatasetOptions, m: LoadedModel): Promise<LoadedDataset> {
    const d = prepareDataset(file, await readDatasetFile(file, m.config.vocabSize, options.columns), options, m.tokenizer);
    checkVocab(d, m);
    return d;
  }
}

function checkVocab(d: LoadedDataset, m: LoadedModel): void {
  const V = m.config.vocabSize;
  const bad = [...d.train, ...d.validation].find((e) => e.ids.some((id) => id >= V || id < 0));
  if (bad) throw new DatasetError(`${d.name}: token id ${bad.ids.find((id) => id >= V || id < 0)} is outside the model's vocabulary of ${V}; was the data tokenized for another model?`);
}
