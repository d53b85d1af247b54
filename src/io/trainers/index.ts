/**
 * Scale-out export: a studio run as the files that reproduce it on an existing distributed trainer
 * (Axolotl, Hugging Face TRL + PEFT, torchtune). Pure functions of the run, the base model and the
 * dataset: the CLI (`export-trainer`) and the studio use the same ones. docs/scale-out.md maps each
 * studio field to each trainer's key.
 */
import { exportAxolotl } from './axolotl';
import type { TrainerExport, TrainerExportInput, TrainerName } from './run-mapping';
import { exportTorchtune } from './torchtune';
import { exportTrl } from './trl';

export { exportAxolotl } from './axolotl';
export { exportTrl, CHATML_JINJA, LLAMA3_JINJA } from './trl';
export { exportTorchtune } from './torchtune';
export { prepareExportDataset, type ExportDataset, type ExportDatasetOptions, type ExportExample } from './export-dataset';
export { TRAINERS, noteText, type ModelFacts, type TrainerExport, type TrainerExportInput, type TrainerName, type TrainerNote } from './run-mapping';

const EXPORTERS: Record<TrainerName, (input: TrainerExportInput) => TrainerExport> = { axolotl: exportAxolotl, trl: exportTrl, torchtune: exportTorchtune };

/** The files of each trainer asked for, in that order. */
export function exportForTrainers(input: TrainerExportInput, trainers: readonly TrainerName[]): TrainerExport[] {
  return trainers.map((t) => EXPORTERS[t](input));
}
