/** Every `stride`-th Brown corpus document as plain text, one sentence per line. */
export function brownDocuments(stride?: number): string[];
