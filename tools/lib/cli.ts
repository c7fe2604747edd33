/** Shared plumbing of the release tools: flags, output, the JSON report. */
import * as path from "path";
import { EXIT, ToolError } from "./automation";

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

/** The project directory a tool works in: --work-dir, or this repository. */
export function workDirOf(values: Record<string, string>): string {
    return path.resolve(values["work-dir"] ?? path.join(__dirname, "..", ".."));
}

/**
 * Progress goes to stdout, or to stderr with --json so stdout carries only the final
 * JSON report; errors are one line.
 */
export class Reporter {
    json = false;
    stack = "";

    constructor(private readonly io: Io, private readonly action: string) {}

    readonly log = (line: string): void => (this.json ? this.io.err : this.io.out)(`${line}\n`);

    done(fields: Record<string, unknown>, code: number): number {
        if (this.json) this.io.out(`${JSON.stringify({ stack: this.stack, action: this.action, ...fields }, null, 2)}\n`);
        return code;
    }

    error(message: string): number {
        if (!this.json) this.io.err(`error: ${message}\n`);
        return this.done({ result: "error", error: message }, EXIT.error);
    }
}
