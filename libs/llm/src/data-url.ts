/** A parsed `data:<type>[;...];base64,<data>` URL. */
export interface DataUrl {
  mediaType: string;
  data: string;
}

/** Splits a base64 data URL without scanning the (possibly huge) payload; undefined for anything else. */
export function parseDataUrl(url: string): DataUrl | undefined {
  if (!url.startsWith('data:')) return undefined;
  const comma = url.indexOf(',');
  if (comma === -1) return undefined;
  const header = url.slice(5, comma);
  if (!header.endsWith(';base64')) return undefined;
  const semi = header.indexOf(';');
  const mediaType = header.slice(0, semi).toLowerCase();
  return { mediaType: mediaType === 'image/jpg' ? 'image/jpeg' : mediaType, data: url.slice(comma + 1) };
}

export function toDataUrl(mediaType: string, data: string): string {
  return `data:${mediaType};base64,${data}`;
}
