/** Shared plumbing of the release tools: flags, output, the JSON report. */
import * as path from "path";
import { EXIT, explain, ToolError } from "./errors";

export interface Args {
    values: Record<string, string>;
    flags: Set<string>;
    help: boolean;
}

export function parseFlags(argv: string[], values: string[], flags: string[]): Args {
    const out: Args = { values: {}, flags: new Set<string>(), help: false };
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
    main(process.argv.slice(2), processIo).then(
        (code) => {
            process.exitCode = code;
        },
        (e: Error) => {
            process.stderr.write(`error: ${e.message.split("\n")[0]}\n`);
            process.exitCode = 2;
        },
    );
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

    constructor(
        private readonly io: Io,
        private readonly action: string,
    ) {}

    readonly log = (line: string): void => (this.json ? this.io.err : this.io.out)(`${line}\n`);

    done(fields: Record<string, unknown>, code: number): number {
        if (this.json)
            this.io.out(`${JSON.stringify({ stack: this.stack, action: this.action, ...fields }, null, 2)}\n`);
        return code;
    }

    error(message: string): number {
        if (!this.json) this.io.err(`error: ${message}\n`);
        return this.done({ result: "error", error: message }, EXIT.error);
    }
}

export interface ToolSpec {
    /** The action named in the --json report (`rollback`, `pin`, ...). */
    name: string;
    help: string;
    /** Options that take a value, e.g. `--stack`. */
    values: string[];
    /** Options without a value; a tool with `--json` lists it here. */
    flags: string[];
    /**
     * The tool's work, after the arguments parsed and `--help` was answered. Set `r.stack`
     * as soon as the stack is known (errors name it); return the exit code (`r.done(...)`).
     */
    run: (args: Args, r: Reporter) => Promise<number>;
    /**
     * The one line for an error `run` threw. Default: the message of a ToolError (its
     * message is the whole story), else what the Automation API's failure means (`explain`).
     */
    explain?: (e: unknown, stack: string) => string;
    /** Further error classes whose message is the whole story (as a ToolError's is). */
    userErrors?: (abstract new (...args: never[]) => Error)[];
}

/**
 * The start and end every tool shares: parse the arguments, answer --help, run, and turn any
 * error into one line and exit 2. With --json the error is a JSON report on stdout, even when
 * the arguments themselves were wrong, so a machine reading stdout always gets JSON.
 */
export async function runTool(spec: ToolSpec, argv: string[], io: Io): Promise<number> {
    const r = new Reporter(io, spec.name);
    // Decided before parsing, so a bad argument is reported as JSON too.
    r.json = spec.flags.includes("--json") && argv.includes("--json");
    try {
        const args = parseFlags(argv, spec.values, spec.flags);
        if (args.help) {
            io.out(`${spec.help}\n`);
            return EXIT.ok;
        }
        return await spec.run(args, r);
    } catch (e) {
        if (spec.userErrors?.some((c) => e instanceof c)) return r.error((e as Error).message);
        return r.error((spec.explain ?? explain)(e, r.stack));
    }
}
