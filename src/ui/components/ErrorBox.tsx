/** A failure the person can act on: the specific message, the error class as a quiet tag. */
export function ErrorBox({ error, onDismiss, testId }: { error: { name?: string; message: string } | null; onDismiss?: () => void; testId?: string }) {
  if (!error) return null;
  return (
    <div className="error-box" role="alert" data-testid={testId}>
      <div>
        {error.name && error.name !== 'Error' && <span className="tag">{error.name}</span>} {error.message}
      </div>
      {onDismiss && <button type="button" className="link" onClick={onDismiss} aria-label="Dismiss the error">Dismiss</button>}
    </div>
  );
}

/** Plain data for ErrorBox from anything thrown. */
export function toShown(e: unknown): { name: string; message: string } {
  if (e instanceof Error) return { name: e.name, message: e.message };
  return { name: 'Error', message: String(e) };
}
