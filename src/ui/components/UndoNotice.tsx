/** The notice of a delete that can still be undone: what was deleted, and Undo. */
import { undoPending, useUndo } from '../stores/undo';

export function UndoNotice() {
  const offer = useUndo((s) => s.offer);
  const error = useUndo((s) => s.error);
  if (!offer && !error) return null;
  return (
    <div className="undo-notice" role="status" aria-live="polite" data-testid="undo-notice">
      {offer && <><span>{offer.message}</span> <button type="button" onClick={() => void undoPending()}>Undo</button></>}
      {error && <span className="field-error">{error}</span>}
    </div>
  );
}
