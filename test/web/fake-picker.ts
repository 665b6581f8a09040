/**
 * The save dialog of `showSaveFilePicker`, which headless Chromium cannot click, stood in for by
 * the browser tests of the dashboard's downloads (the download, not the dialog, is under test):
 * the file it "picks" keeps its chunks in `window.__saved`, and `window.__picker` ('pick',
 * 'cancel', 'refuse') says what the reader does in it.
 */
export const FAKE_PICKER = `
  window.__saved = undefined;
  window.__picker = 'pick';
  window.showSaveFilePicker = async ({ suggestedName }) => {
    if (window.__picker === 'cancel') throw new DOMException('The user aborted a request.', 'AbortError');
    if (window.__picker === 'refuse') throw new DOMException('This folder holds system files.', 'NotAllowedError');
    const saved = { name: suggestedName, chunks: [], closed: false };
    window.__saved = saved;
    return {
      createWritable: async () =>
        new WritableStream({
          write(chunk) { saved.chunks.push(new TextDecoder().decode(chunk)); },
          close() { saved.closed = true; },
        }),
    };
  };
`;

export interface Saved {
  name: string;
  chunks: string[];
  closed: boolean;
}
