/**
 * A small multipart/form-data reader (RFC 7578) for `/v1/audio/transcriptions`, the one route that takes a form:
 * fastify ships no multipart parser and the form is a few fields and one file, already bounded by the server's
 * body limit (the whole body is in memory before this runs). Fields are text; a part with a filename is a file.
 */

export interface FormFile {
  filename: string;
  contentType: string | undefined;
  data: Buffer;
}

export interface FormData {
  fields: Map<string, string>;
  files: Map<string, FormFile>;
}

export class MultipartError extends Error {}

/** The boundary of a `multipart/form-data` content type, or undefined when it is not one. */
export function formBoundary(contentType: string | undefined): string | undefined {
  if (!contentType || !/^multipart\/form-data\s*(;|$)/i.test(contentType)) return undefined;
  const match = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return match?.[1] ?? match?.[2];
}

export function parseMultipart(body: Buffer, boundary: string): FormData {
  const delimiter = Buffer.from(`--${boundary}`);
  const form: FormData = { fields: new Map(), files: new Map() };
  let at = body.indexOf(delimiter);
  if (at < 0) throw new MultipartError('the form has no part with the boundary its content type names');
  for (;;) {
    at += delimiter.length;
    if (body.subarray(at, at + 2).toString() === '--') return form; // the closing delimiter
    if (body.subarray(at, at + 2).toString() !== '\r\n')
      throw new MultipartError('a form delimiter is malformed');
    const headersEnd = body.indexOf('\r\n\r\n', at + 2);
    if (headersEnd < 0) throw new MultipartError('a form part has no end of headers');
    const headers = body
      .subarray(at + 2, headersEnd)
      .toString('utf8')
      .split('\r\n');
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), headersEnd + 4);
    if (next < 0) throw new MultipartError('the form is cut short: no closing boundary');
    addPart(form, headers, body.subarray(headersEnd + 4, next));
    at = next + 2;
  }
}

function addPart(form: FormData, headers: string[], data: Buffer): void {
  let disposition = '';
  let contentType: string | undefined;
  for (const line of headers) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'content-disposition') disposition = value;
    else if (name === 'content-type') contentType = value;
  }
  const param = (key: string): string | undefined => {
    const match = new RegExp(`;\\s*${key}="((?:[^"\\\\]|\\\\.)*)"|;\\s*${key}=([^;\\s]+)`, 'i').exec(
      disposition,
    );
    return match ? (match[1] ?? match[2] ?? '').replace(/\\(.)/g, '$1') : undefined;
  };
  const name = param('name');
  if (!/^form-data/i.test(disposition) || name === undefined) {
    throw new MultipartError('a form part has no Content-Disposition: form-data; name="…"');
  }
  const filename = param('filename');
  if (filename !== undefined) form.files.set(name, { filename, contentType, data: Buffer.from(data) });
  else form.fields.set(name, data.toString('utf8'));
}
