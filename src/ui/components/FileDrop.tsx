/**
 * A drop zone with a file picker (and optionally a folder picker) behind real buttons, so it works
 * by mouse, keyboard and drag-and-drop alike. Dropped folders are walked for their files.
 */
import { useId, useRef, useState, type ReactNode } from 'react';

async function filesOf(items: DataTransferItemList): Promise<File[]> {
  const out: File[] = [];
  const walk = async (entry: FileSystemEntry | null): Promise<void> => {
    if (!entry) return;
    if (entry.isFile) {
      out.push(await new Promise<File>((res, rej) => (entry as FileSystemFileEntry).file(res, rej)));
    } else if (entry.isDirectory) {
      const reader = (entry as FileSystemDirectoryEntry).createReader();
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((res, rej) => reader.readEntries(res, rej));
        if (!batch.length) break;
        for (const e of batch) await walk(e);
      }
    }
  };
  const entries = [...items].map((i) => i.webkitGetAsEntry?.() ?? null);
  for (const e of entries) await walk(e);
  return out;
}

export function FileDrop({ label, accept, multiple, folder, onFiles, children, disabled }: {
  label: string; accept?: string; multiple?: boolean; folder?: boolean; onFiles(files: File[]): void; children?: ReactNode; disabled?: boolean;
}) {
  const [over, setOver] = useState(false);
  const fileRef = useRef<HTMLInputElement>(null);
  const dirRef = useRef<HTMLInputElement>(null);
  const id = useId();
  return (
    <div
      className={`drop${over ? ' over' : ''}`}
      onDragOver={(e) => { e.preventDefault(); setOver(true); }}
      onDragLeave={() => setOver(false)}
      onDrop={async (e) => {
        e.preventDefault();
        setOver(false);
        if (disabled) return;
        const files = e.dataTransfer.items?.length ? await filesOf(e.dataTransfer.items) : [...e.dataTransfer.files];
        if (files.length) onFiles(files);
      }}
    >
      <input ref={fileRef} id={id} type="file" accept={accept} multiple={multiple} hidden aria-label={label}
        onChange={(e) => { const f = [...(e.target.files ?? [])]; e.target.value = ''; if (f.length) onFiles(f); }} />
      {folder && (
        <input ref={dirRef} type="file" hidden aria-label={`${label} (folder)`} {...{ webkitdirectory: '' }}
          onChange={(e) => { const f = [...(e.target.files ?? [])]; e.target.value = ''; if (f.length) onFiles(f); }} />
      )}
      <button type="button" onClick={() => fileRef.current?.click()} disabled={disabled}>{multiple ? 'Choose files…' : 'Choose a file…'}</button>
      {folder && <button type="button" onClick={() => dirRef.current?.click()} disabled={disabled}>Choose a folder…</button>}
      <span className="muted">or drop {folder ? 'files or a folder' : multiple ? 'files' : 'a file'} here</span>
      {children}
    </div>
  );
}
