/**
 * Hands a fetched file to the browser as a download. Files behind the bearer token (the
 * attendee CSV, the tickets PDF) cannot be plain links: the typed client fetches them, with its
 * token refresh, and this saves the Blob.
 */
export function saveBlob(data: Blob, fileName: string): void {
  const url = URL.createObjectURL(data);
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
  // Revoked a moment later: some browsers read the URL after click() returns.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
