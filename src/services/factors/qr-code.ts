// The enrolment QR code as an SVG data URI, drawn on the server so that no
// outside QR service ever sees a secret. lean-qr does the encoding (error
// correction, masking); the SVG is ours: one horizontal stroke per run of dark
// modules, as `qrcode` drew it, which keeps the document ~3.9 kB where
// lean-qr's outline path takes ~14 kB for the same code.

/** Modules of light border on each side; ISO 18004 asks for 4, scanners read 2 (the page adds white padding around the image). */
const QUIET_ZONE = 2;

export async function qrSvgDataUri(text: string): Promise<string> {
  // Loaded on the first enrolment: most processes (the CLI, most server lifetimes) draw no QR code.
  const { correction, generate } = await import('lean-qr');
  // Level M exactly (15% of the code can be lost), as before: lean-qr would otherwise raise it when the version has room.
  const code = generate(text, { minCorrectionLevel: correction.M, maxCorrectionLevel: correction.M });
  const side = code.size + 2 * QUIET_ZONE;
  let path = '';
  for (let y = 0; y < code.size; y++) {
    let end = -1; // where the row's previous run ended
    for (let x = 0; x < code.size; x++) {
      if (!code.get(x, y)) continue;
      const start = x;
      while (x + 1 < code.size && code.get(x + 1, y)) x++;
      const run = `h${x + 1 - start}`;
      // A stroke of width 1 along the row's middle covers the row exactly.
      path += end < 0 ? `M${start + QUIET_ZONE} ${y + QUIET_ZONE + 0.5}${run}` : `m${start - end} 0${run}`;
      end = x + 1;
    }
  }
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${side} ${side}" shape-rendering="crispEdges">` +
    `<path fill="#fff" d="M0 0h${side}v${side}H0z"/><path stroke="#000" d="${path}"/></svg>`;
  return `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`;
}
