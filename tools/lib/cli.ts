/** A tiny flag parser for the release tools: --name value, --flag, -h. */
import { ToolError } from "./automation";

export function parseFlags(argv: string[], values: string[], flags: string[]): { values: Record<string, string>; flags: Set<string>; help: boolean } {
    const out = { values: {} as Record<string, string>, flags: new Set<string>(), help: false };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === "-h" || a === "--help") out.help = true;
        else if (values.includes(a)) {
            const v = argv[++i];
            if (v === undefined || v.startsWith("--")) throw new ToolError(`${a} needs a value`);
            out.values[a.slice(2)] = v;
        } else if (flags.includes(a)) out.flags.add(a.slice(2));
        else throw new ToolError(`unknown argument ${a}`);
    }
    return out;
}

export interface Io {
    out: (s: string) => void;
    err: (s: string) => void;
}

export const processIo: Io = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) };

/** Runs a tool's main and sets the exit code; never prints a stack trace. */
export function runCli(main: (argv: string[], io: Io) => Promise<number>): void {
    main(process.argv.slice(2), processIo).then((code) => { process.exitCode = code; }, (e: Error) => {
        process.stderr.write(`error: ${e.message.split("\n")[0]}\n`);
        process.exitCode = 2;
    });
}
