/**
 * Saving a download of the API (a job's whole log, its artifacts' archive) as a file. The
 * request carries the session's token in its Authorization header, as every call does: a plain
 * link would need the token in its URL, where history, proxies and server logs keep it.
 *
 * Where the browser has the File System Access API (Chromium's `showSaveFilePicker`) the file
 * is chosen first and the answer written to it as it arrives: memory holds a chunk, whatever
 * the size. Elsewhere (Firefox, Safari) the answer is gathered into a Blob and handed to the
 * browser's downloads once whole: the browser holds all of it (Chromium pages big blobs to
 * disk; others may keep them in memory), and its downloads list shows nothing until the end,
 * so the button tells how much has arrived meanwhile.
 */
import { apiFetch } from '../api/client.js';

/** The part of the File System Access API used here (not in TypeScript's DOM types). */
interface SaveFilePicker {
  showSaveFilePicker(options: { suggestedName: string }): Promise<{ createWritable(): Promise<WritableStream> }>;
}

export type Saved = 'saved' | 'cancelled';

/**
 * Fetch `/api{path}` and save it as `name`. `onBytes` hears how many bytes have arrived; 'cancelled'
 * when the reader closed the file picker. Must be called from a click: the picker needs one.
 */
export async function saveDownload(path: string, name: string, onBytes: (bytes: number) => void): Promise<Saved> {
  const picker = window as unknown as Partial<SaveFilePicker>;
  if (typeof picker.showSaveFilePicker === 'function') {
    let handle;
    try {
      handle = await picker.showSaveFilePicker({ suggestedName: name });
    } catch (e) {
      if ((e as Error).name === 'AbortError') return 'cancelled';
      throw e; // a picker refused (no user gesture, a blocked folder): said, not hidden
    }
    const response = await apiFetch(path);
    const file = await handle.createWritable();
    // pipeTo aborts the file on failure: a cut-off download leaves no short file behind.
    await counted(response, onBytes).pipeTo(file);
    return 'saved';
  }
  const response = await apiFetch(path);
  const blob = await new Response(counted(response, onBytes)).blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  // The browser has taken the URL once click() returns; free it soon after.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return 'saved';
}

/** The answer's body, telling `onBytes` the bytes arrived so far (at most every 100 ms). */
function counted(response: Response, onBytes: (bytes: number) => void): ReadableStream<Uint8Array> {
  let bytes = 0;
  let toldAt = 0;
  const body = response.body ?? new Response('').body!;
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        bytes += chunk.byteLength;
        if (Date.now() - toldAt >= 100) {
          toldAt = Date.now();
          onBytes(bytes);
        }
        controller.enqueue(chunk);
      },
    }),
  );
}
