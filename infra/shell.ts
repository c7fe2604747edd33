/** Helpers for the shell the program sends to servers and runs locally. */

/** Quotes one word for POSIX sh so it is passed through literally. */
export function shellQuote(word: string): string {
    return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Quotes an argv for sh. */
export function shellJoin(argv: readonly string[]): string {
    return argv.map(shellQuote).join(" ");
}
