/** The Train tab before any run in this tab: what a run would do with the configured settings, and Train. */
import { TrainButton } from '../../components/TrainButton';
import { count } from '../../components/format';
import { useValidatedConfig } from '../../stores/run-config';
import { useSession } from '../../stores/session';

export function IdleStart() {
  const { config } = useValidatedConfig();
  const model = useSession((s) => s.model);
  const dataset = useSession((s) => s.dataset);
  const setTab = useSession((s) => s.setTab);
  const length = config ? (config.maxSteps ? `${count(config.maxSteps)} steps` : `${config.epochs} epoch${config.epochs === 1 ? '' : 's'}`) : null;
  return (
    <section className="panel" aria-labelledby="dash-title">
      <h2 id="dash-title">Training</h2>
      <p>No run yet in this tab.{model && dataset && config && (
        <> Train finetunes <b>{model.name}</b> on <b>{dataset.name}</b> ({count(dataset.train)} examples) with LoRA rank {config.rank} on {config.targets.join(' + ')}, {length}, learning rate {config.learningRate}.</>
      )}</p>
      <TrainButton hint="Starts a run with the settings in Configure; the curves appear here." />
      <p className="small"><button type="button" className="link" onClick={() => setTab('configure')}>Change the settings in Configure</button></p>
    </section>
  );
}
