import { styleText } from 'node:util';

type Style = Parameters<typeof styleText>[0];

/**
 * Writes to a stream with colour only when it is a terminal (and NO_COLOR is not set), so piped
 * output is plain text.
 *
 * @example
 * const out = new Output(process.stdout);
 * out.line(out.style('green', 'sent'), id);
 */
export class Output {
  readonly colour: boolean;

  constructor(
    readonly stream: NodeJS.WriteStream,
    colour?: boolean,
  ) {
    this.colour = colour ?? (stream.isTTY === true && process.env.NO_COLOR === undefined);
  }

  style(style: Style, text: string): string {
    return this.colour ? styleText(style, text) : text;
  }

  line(...parts: string[]): void {
    this.stream.write(`${parts.join(' ')}\n`);
  }

  json(value: unknown): void {
    this.stream.write(`${JSON.stringify(value, null, 2)}\n`);
  }
}

/**
 * Lays rows out in aligned columns; the first row is the header. Numbers align right.
 *
 * @example
 * table([['tier', 'visible'], ['high', 3]]); // ['tier  visible', 'high        3']
 */
export function table(rows: readonly (readonly (string | number)[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, String(cell).length);
    });
  }
  return rows.map((row) =>
    row
      .map((cell, i) => {
        const width = widths[i] ?? 0;
        return typeof cell === 'number' ? String(cell).padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd(),
  );
}
