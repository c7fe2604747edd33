/**
 * The release tools' one seam to Pulumi: the few Automation API calls they make, as a small
 * typed interface. Users get the real `LocalWorkspace` (which drives the `pulumi` CLI);
 * tests pass a plain object that implements the same interface, and start no process.
 */
import * as path from "path";
import type { ConfigMap, ConfigValue, EngineEvent, OutputMap } from "@pulumi/pulumi/automation";
import { HistoryEntry, ReleaseRecord } from "./releases";

/** Exit codes shared by rollback, promote and releases. */
// The exit codes and error lines live in errors.ts (no SDK): re-exported for the tools that open stacks.
export { EXIT, explain, requireKnownStack, ToolError } from "./errors";

export type { ConfigMap, ConfigValue, EngineEvent, OutputMap };

/** What a tool does with one selected stack. Errors are the Automation API's (CommandError, ConcurrentUpdateError, ...). */
export interface StackApi {
    getAllConfig(): Promise<ConfigMap>;
    /** `path`: the key is a path into a structured value (`platform:services.web.tag`), as `pulumi config set --path`. */
    setConfig(key: string, value: ConfigValue, path?: boolean): Promise<void>;
    removeConfig(key: string, path?: boolean): Promise<void>;
    /** One page of the update history, newest first (page 1 is the newest). */
    history(pageSize: number, page: number): Promise<HistoryEntry[]>;
    outputs(): Promise<OutputMap>;
    preview(opts: { onEvent: (e: EngineEvent) => void }): Promise<void>;
    up(opts: { onEvent: (e: EngineEvent) => void }): Promise<{ outputs: OutputMap }>;
}

/** Opens a stack of the project in `workDir`. */
export interface Automation {
    selectStack(stackName: string, workDir: string): Promise<StackApi>;
}

/** The Automation API as users run it: the project's `pulumi` CLI through LocalWorkspace. */
export const localAutomation: Automation = {
    async selectStack(stackName, workDir) {
        // Loaded here, so a tool that fails on its arguments starts without the SDK.
        const { LocalWorkspace } = await import("@pulumi/pulumi/automation");
        const stack = await LocalWorkspace.selectStack({ stackName, workDir: path.resolve(workDir) });
        return {
            getAllConfig: () => stack.getAllConfig(),
            setConfig: (key, value, byPath) => stack.setConfig(key, value, byPath),
            removeConfig: (key, byPath) => stack.removeConfig(key, byPath),
            // The CLI's history entries, as releases.ts reads them.
            history: async (pageSize, page) => (await stack.history(pageSize, page)) as unknown as HistoryEntry[],
            outputs: () => stack.outputs(),
            preview: async (opts) => {
                await stack.preview(opts);
            },
            up: async (opts) => ({ outputs: (await stack.up(opts)).outputs }),
        };
    },
};

/**
 * The whole update history. Without paging flags the CLI returns only the 10 newest
 * entries, so this pages until an empty page.
 */
export async function fullHistory(stack: StackApi, pageSize = 50, maxPages = 40): Promise<HistoryEntry[]> {
    const all: HistoryEntry[] = [];
    for (let page = 1; page <= maxPages; page++) {
        const entries = await stack.history(pageSize, page);
        if (entries.length === 0) break;
        all.push(...entries);
        if (entries.length < pageSize) break;
    }
    return all;
}

/** The release record the stack exports now (see setOfRecord for the set it names). */
export async function currentRelease(stack: StackApi): Promise<ReleaseRecord> {
    const outputs = await stack.outputs();
    return (outputs.release?.value as ReleaseRecord | undefined) ?? {};
}

/**
 * Progress of a `stack.up` as one line per resource step, stamped with the seconds since it
 * started: each change as it begins, each as it is done, failures and error diagnostics.
 */
export function upProgress(log: (line: string) => void): (e: EngineEvent) => void {
    const t0 = Date.now();
    const stamp = () => `[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s]`;
    const name = (urn: string) => urn.split("::").pop();
    return (e) => {
        const pre = e.resourcePreEvent?.metadata;
        if (pre && pre.op !== "same" && pre.type !== "pulumi:pulumi:Stack")
            log(`${stamp()} ${pre.op.padEnd(18)} ${name(pre.urn)}`);
        const done = e.resOutputsEvent?.metadata;
        if (done && done.op !== "same" && done.type !== "pulumi:pulumi:Stack")
            log(`${stamp()} done               ${name(done.urn)}`);
        const failed = e.resOpFailedEvent?.metadata;
        if (failed) log(`${stamp()} FAILED             ${name(failed.urn)}`);
        const diag = e.diagnosticEvent;
        if (diag?.severity === "error") log(`${stamp()} error: ${diag.message.trim()}`);
    };
}
