/**
 * A button that saves a whole download of the API (lib/save-download.ts): disabled while it
 * runs, telling how much has arrived, and showing the server's refusal or a cut-off in place.
 */
import { useState } from 'preact/hooks';
import { formatSize } from '../lib/format.js';
import { saveDownload } from '../lib/save-download.js';
import { ErrorBox } from './error-box.js';

export function DownloadButton(props: { label: string; path: string; name: string; title?: string }) {
  const [bytes, setBytes] = useState<number>();
  const [error, setError] = useState<Error>();
  const start = async () => {
    setError(undefined);
    setBytes(0);
    try {
      await saveDownload(props.path, props.name, setBytes);
    } catch (e) {
      setError(e as Error);
    } finally {
      setBytes(undefined);
    }
  };
  return (
    <span class="download">
      <button type="button" title={props.title} disabled={bytes !== undefined} onClick={() => void start()}>
        {bytes === undefined ? props.label : `downloading… ${formatSize(bytes)}`}
      </button>
      <ErrorBox error={error && `the download failed: ${error.message}`} />
    </span>
  );
}
