import { inflateSync } from 'node:zlib';

/**
 * Just enough PDF reading for tests of the PDFs Evently writes (pdfkit, standard fonts): the
 * page objects, and the text drawn, line by line.
 */

/** How many `/Type /Page` objects (not the `/Type /Pages` tree) the document has. */
export function pageCount(pdf: Buffer): number {
  return pdf.toString('latin1').match(/\/Type \/Page(?![a-z])/g)?.length ?? 0;
}

/**
 * The text of every text-showing operator (`[<hex> kerning <hex>] TJ`), one string per
 * operator, from every content stream (inflated when compressed). Standard fonts encode text in
 * WinAnsi, which matches Latin-1 for letters such as ë.
 */
export function textOf(pdf: Buffer): string[] {
  const raw = pdf.toString('latin1');
  const lines: string[] = [];
  for (const match of raw.matchAll(/stream\r?\n([\s\S]*?)\r?\nendstream/g)) {
    const bytes = Buffer.from(match[1]!, 'latin1');
    let content: string;
    try {
      content = inflateSync(bytes).toString('latin1');
    } catch {
      content = bytes.toString('latin1');
    }
    for (const array of content.matchAll(/\[([^\]]*)\]\s*TJ/g)) {
      const hex = [...array[1]!.matchAll(/<([0-9a-fA-F]*)>/g)].map((h) => h[1]).join('');
      lines.push(Buffer.from(hex, 'hex').toString('latin1'));
    }
  }
  return lines;
}
