/**
 * Opening a stack through the Automation API (which drives the `pulumi` CLI) and turning
 * its failures into one line a person can act on.
 */
import * as path from "path";
import { EngineEvent, LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { HistoryEntry, ReleaseRecord } from "./releases";

/** Exit codes shared by rollback, promote and releases. */
// The exit codes and error lines live in errors.ts (no SDK): re-exported for the tools that open stacks.
export { EXIT, explain, requireKnownStack, ToolError } from "./errors";

export async function openStack(stack: string, workDir: string): Promise<Stack> {
    return LocalWorkspace.selectStack({ stackName: stack, workDir: path.resolve(workDir) });
}

/**
 * The whole update history. Without paging flags the CLI returns only the 10 newest
 * entries, so this pages until an empty page.
 */
export async function fullHistory(stack: Stack, pageSize = 50, maxPages = 40): Promise<HistoryEntry[]> {
    const all: HistoryEntry[] = [];
    for (let page = 1; page <= maxPages; page++) {
        const entries = await stack.history(pageSize, page);
        if (entries.length === 0) break;
        all.push(...(entries as unknown as HistoryEntry[]));
        if (entries.length < pageSize) break;
    }
    return all;
}

/** The release record the stack exports now (see setOfRecord for the set it names). */
export async function currentRelease(stack: Stack): Promise<ReleaseRecord> {
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
        if (pre && pre.op !== "same" && pre.type !== "pulumi:pulumi:Stack") log(`${stamp()} ${pre.op.padEnd(18)} ${name(pre.urn)}`);
        const done = e.resOutputsEvent?.metadata;
        if (done && done.op !== "same" && done.type !== "pulumi:pulumi:Stack") log(`${stamp()} done               ${name(done.urn)}`);
        const failed = e.resOpFailedEvent?.metadata;
        if (failed) log(`${stamp()} FAILED             ${name(failed.urn)}`);
        const diag = e.diagnosticEvent;
        if (diag?.severity === "error") log(`${stamp()} error: ${diag.message.trim()}`);
    };
}
