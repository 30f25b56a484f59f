/** A message the screen reader announces as it appears. */
export function Alert({
  message,
  tone = 'error',
}: {
  message: string | null;
  tone?: 'error' | 'info';
}) {
  if (!message) return null;
  return (
    <p className={`alert alert-${tone}`} role={tone === 'error' ? 'alert' : 'status'}>
      {message}
    </p>
  );
}
