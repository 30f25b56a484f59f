import { create, toString } from 'qrcode';

// Medium error correction survives a scuffed print or a cracked phone screen; the quiet zone
// of four modules is what the QR standard asks for.
const QR_OPTIONS = { errorCorrectionLevel: 'M' } as const;
const QUIET_ZONE = 4;

/** The ticket code as a standalone SVG image. */
export function qrSvg(code: string): Promise<string> {
  return toString(code, { ...QR_OPTIONS, type: 'svg', margin: QUIET_ZONE });
}

/**
 * The code's dark modules as one SVG path in module units, quiet zone included, for drawing
 * into a PDF as vectors (sharp at any print size).
 */
export function qrPath(code: string): { size: number; path: string } {
  const { modules } = create(code, QR_OPTIONS);
  const parts: string[] = [];
  for (let y = 0; y < modules.size; y++) {
    for (let x = 0; x < modules.size; x++) {
      if (modules.get(y, x)) parts.push(`M${x + QUIET_ZONE} ${y + QUIET_ZONE}h1v1h-1z`);
    }
  }
  return { size: modules.size + 2 * QUIET_ZONE, path: parts.join('') };
}
